import type { CompileOptions } from "../desired/desired-access.js";
import type { PassRequest } from "../engine/engine.js";
import { readManifestDirectory } from "../fs/read-manifest-files.js";
import { loadManifestSet, type ManifestSet } from "../manifest-set/load-manifest-set.js";

/** Reads and validates a manifests directory (throws ManifestDirectoryError when it cannot be read). */
export async function loadDirectory(directory: string, options: CompileOptions): Promise<ManifestSet> {
  return loadManifestSet(await readManifestDirectory(directory), options);
}

export function passRequest(set: ManifestSet): PassRequest {
  return {
    inForce: set.manifests.map((manifest) => manifest.desired),
    protectedNames: set.invalidNames,
    unnamedInvalid: set.unnamedInvalid,
  };
}
