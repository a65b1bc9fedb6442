import { createHash } from "node:crypto";
import type { CompileOptions, DesiredAccess } from "../desired/desired-access.js";
import {
  examineFile,
  type Candidate,
  type ManifestFileInput,
  type ManifestFileMemo,
} from "../manifest/examine-file.js";
import type { InstanceAccess, LoadedManifest } from "../manifest/instance-access.js";
import { compareManifestErrors, type ManifestError } from "../manifest/manifest-error.js";
import { stableStringify } from "../util/stable-json.js";
import { compileCandidates } from "./compile-candidates.js";
import { rejectDuplicateNames, rejectSharedIamNames } from "./name-clashes.js";
import { Rejections } from "./rejections.js";

/** A valid manifest together with its compiled desired state. */
export interface ValidManifest extends LoadedManifest {
  readonly desired: DesiredAccess;
}

/** Everything a directory of manifests says, and everything wrong with it. */
export interface ManifestSet {
  /** Valid manifests, sorted by name. */
  readonly manifests: readonly ValidManifest[];
  readonly errors: readonly ManifestError[];
  /** Names found in documents that failed validation: their resources in AWS must be left alone. */
  readonly invalidNames: ReadonlySet<string>;
  /** For each invalid name, the file it was found in. */
  readonly invalidNameFiles: ReadonlyMap<string, string>;
  /** Some invalid file or document did not even reveal a name, so removing anything could remove its resources. */
  readonly unnamedInvalid: boolean;
  readonly fileCount: number;
}

/** Parses, validates and compiles a directory's manifests; pure, so validate, plan, apply and the daemon share it. */
export function loadManifestSet(
  inputs: readonly ManifestFileInput[],
  options: CompileOptions,
  memo?: ManifestFileMemo,
): ManifestSet {
  const rejections = new Rejections();
  const { candidates, unnamedInvalid } = examineInputs(inputs, memo, rejections);
  rejectDuplicateNames(candidates, rejections);
  const unique = candidates.filter((candidate) => !rejections.isRejected(candidate));
  const compiled = compileCandidates(unique, options, rejections);
  rejectSharedIamNames(compiled, rejections);
  return {
    manifests: validManifests(compiled, rejections),
    errors: dedupeErrors(rejections.errors).sort(compareManifestErrors),
    invalidNames: rejections.invalidNames,
    invalidNameFiles: rejections.invalidNameFiles,
    unnamedInvalid,
    fileCount: inputs.length,
  };
}

/** Each file on its own: parse and schema errors are recorded, schema-valid documents become candidates. */
function examineInputs(
  inputs: readonly ManifestFileInput[],
  memo: ManifestFileMemo | undefined,
  rejections: Rejections,
): { candidates: Candidate[]; unnamedInvalid: boolean } {
  const candidates: Candidate[] = [];
  let unnamedInvalid = false;
  for (const input of inputs) {
    const examination = memo === undefined ? examineFile(input) : memo.examine(input);
    rejections.errors.push(...examination.errors);
    candidates.push(...examination.candidates);
    for (const name of examination.invalidNames) rejections.addInvalidName(name, input.file);
    unnamedInvalid ||= examination.unnamedInvalid;
  }
  memo?.retain(inputs.map((input) => input.file));
  return { candidates, unnamedInvalid };
}

function validManifests(
  compiled: ReadonlyMap<Candidate, DesiredAccess>,
  rejections: Rejections,
): ValidManifest[] {
  return [...compiled]
    .filter(([candidate]) => !rejections.isRejected(candidate))
    .map(([candidate, desired]): ValidManifest => ({
      manifest: candidate.manifest,
      name: candidate.manifest.metadata.name,
      file: candidate.file,
      documentIndex: candidate.index,
      line: candidate.start.line,
      generation: generationOf(candidate.manifest),
      desired,
    }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

function generationOf(manifest: InstanceAccess): string {
  return createHash("sha256").update(stableStringify(manifest)).digest("hex").slice(0, 16);
}

function dedupeErrors(errors: ManifestError[]): ManifestError[] {
  const seen = new Set<string>();
  return errors.filter((error) => {
    const key = `${error.file}:${error.line}:${error.column}:${error.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
