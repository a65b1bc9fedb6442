import path from "node:path";
import type { ManifestFileInput } from "../manifest/examine-file.js";
import { fileError, type ManifestError } from "../manifest/manifest-error.js";
import type { TargetSpec } from "./target-spec.js";

export interface ManifestAssignment {
  /** Each target's files, by target name (every target has an entry, possibly empty). */
  readonly byTarget: ReadonlyMap<string, readonly ManifestFileInput[]>;
  /** Files under no target's directory: errors, never silently ignored. */
  readonly outside: readonly ManifestError[];
}

/**
 * Splits a directory read between targets by sub-directory. `root` is the directory as given to the reader (its
 * inputs' file names start with it). Pure: path arithmetic only.
 */
export function assignManifests(
  root: string,
  inputs: readonly ManifestFileInput[],
  targets: readonly TargetSpec[],
): ManifestAssignment {
  const byTarget = new Map<string, ManifestFileInput[]>(targets.map((target) => [target.name, []]));
  const outside: ManifestError[] = [];
  for (const input of inputs) {
    const relative = path.relative(root, input.file).split(path.sep).join("/");
    const owner = targets.find((target) => holds(target.manifests, relative));
    if (owner !== undefined) byTarget.get(owner.name)?.push(input);
    else
      outside.push(
        fileError(
          input.file,
          "OutsideTargets",
          `file is in no target's directory (targets: ${targets.map((target) => `${target.name}=${target.manifests || "."}`).join(", ")}); move it into one, or add a target for it`,
        ),
      );
  }
  return { byTarget, outside };
}

function holds(directory: string, relativeFile: string): boolean {
  return directory === "" || relativeFile.startsWith(`${directory}/`);
}
