import { createHash } from "node:crypto";
import { compileDesired, type CompileOptions, type DesiredAccess } from "../desired/desired-access.js";
import { iamNameKey, iamNameLimits } from "../desired/iam-names.js";
import { managedPolicyMaxCharacters, policySize } from "../desired/policy-document.js";
import {
  examineFile,
  type Candidate,
  type ManifestFileInput,
  type ManifestFileMemo,
  type ReportedPath,
} from "../manifest/examine-file.js";
import type { InstanceAccess, LoadedManifest } from "../manifest/instance-access.js";
import { compareManifestErrors, type ManifestError } from "../manifest/manifest-error.js";
import { joinPointer } from "../manifest/schema-errors.js";
import { stableStringify } from "../util/stable-json.js";

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
  const errors: ManifestError[] = [];
  const invalidNames = new Set<string>();
  const invalidNameFiles = new Map<string, string>();
  let unnamedInvalid = false;
  const candidates: Candidate[] = [];

  for (const input of inputs) {
    const examination = memo === undefined ? examineFile(input) : memo.examine(input);
    errors.push(...examination.errors);
    candidates.push(...examination.candidates);
    for (const name of examination.invalidNames) {
      invalidNames.add(name);
      invalidNameFiles.set(name, input.file);
    }
    unnamedInvalid ||= examination.unnamedInvalid;
  }
  memo?.retain(inputs.map((input) => input.file));

  const rejected = new Set<Candidate>();
  const reject = (candidate: Candidate, error: ManifestError) => {
    rejected.add(candidate);
    errors.push(error);
    invalidNames.add(candidate.manifest.metadata.name);
    invalidNameFiles.set(candidate.manifest.metadata.name, candidate.file);
  };

  for (const group of groupBy(candidates, (candidate) => candidate.manifest.metadata.name)) {
    if (group.length < 2) continue;
    for (const candidate of group) {
      const others = group.filter((other) => other !== candidate).map(describeSource);
      reject(
        candidate,
        errorAt(
          candidate,
          ["metadata", "name"],
          "DuplicateName",
          `metadata.name "${candidate.manifest.metadata.name}" is also used at ${others.join(", ")}; names must be unique across the directory`,
        ),
      );
    }
  }

  const compiled = new Map<Candidate, DesiredAccess>();
  for (const candidate of candidates) {
    if (rejected.has(candidate)) continue;
    const desired = compileDesired(candidate.manifest, options);
    const problem = checkCompiled(candidate, desired);
    if (problem === undefined) compiled.set(candidate, desired);
    else reject(candidate, problem);
  }

  // IAM names are unique per account whatever their case: two manifests naming one resource would fight over it.
  const claims = [...compiled].flatMap(([candidate, desired]) =>
    (
      [
        ["policy", desired.policy.name, "policyName"],
        ["role", desired.role.name, "roleName"],
        ["instance profile", desired.instanceProfile.name, "instanceProfileName"],
      ] as const
    ).map(([kind, name, field]) => ({ candidate, kind, name, field })),
  );
  for (const group of groupBy(claims, (claim) => `${claim.kind}\u0000${iamNameKey(claim.name)}`)) {
    const owners = new Set(group.map((claim) => claim.candidate));
    if (owners.size < 2) continue;
    for (const claim of group) {
      const others = [...owners].filter((owner) => owner !== claim.candidate);
      compiled.delete(claim.candidate);
      reject(
        claim.candidate,
        errorAt(
          claim.candidate,
          claim.candidate.manifest.spec.iam?.[claim.field] === undefined
            ? ["metadata", "name"]
            : ["spec", "iam", claim.field],
          "DuplicateIamName",
          `IAM ${claim.kind} name "${claim.name}" is also claimed by ${others.map((other) => `manifest "${other.manifest.metadata.name}" (${describeSource(other)})`).join(", ")}`,
        ),
      );
    }
  }

  const manifests = [...compiled]
    .filter(([candidate]) => !rejected.has(candidate))
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

  return {
    manifests,
    errors: dedupeErrors(errors).sort(compareManifestErrors),
    invalidNames,
    invalidNameFiles,
    unnamedInvalid,
    fileCount: inputs.length,
  };
}

function checkCompiled(candidate: Candidate, desired: DesiredAccess): ManifestError | undefined {
  const size = policySize(desired.policy.document);
  if (size > managedPolicyMaxCharacters) {
    return errorAt(
      candidate,
      ["spec", "grants"],
      "PolicyTooLarge",
      `the compiled policy has ${size} characters; IAM allows ${managedPolicyMaxCharacters} (white space not counted). Split the grants over several manifests or use fewer prefixes`,
    );
  }
  const names = [
    ["policyName", desired.policy.name, iamNameLimits.policy],
    ["roleName", desired.role.name, iamNameLimits.role],
    ["instanceProfileName", desired.instanceProfile.name, iamNameLimits.instanceProfile],
  ] as const;
  for (const [field, name, limit] of names) {
    if (name.length > limit) {
      return errorAt(
        candidate,
        candidate.manifest.spec.iam?.[field] === undefined ? ["metadata", "name"] : ["spec", "iam", field],
        "NameTooLong",
        `IAM ${field} "${name}" is ${name.length} characters; IAM allows ${limit}`,
      );
    }
  }
  return undefined;
}

function errorAt(
  candidate: Candidate,
  path: ReportedPath,
  code: ManifestError["code"],
  message: string,
): ManifestError {
  const position = candidate.positions.get(path.join("/")) ?? candidate.start;
  return { file: candidate.file, ...position, message, pointer: joinPointer(path), code };
}

function describeSource(candidate: Candidate): string {
  const { line, column } = candidate.positions.get("metadata/name") ?? candidate.start;
  return `${candidate.file}:${line}:${column}`;
}

function generationOf(manifest: InstanceAccess): string {
  return createHash("sha256").update(stableStringify(manifest)).digest("hex").slice(0, 16);
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group === undefined) groups.set(k, [item]);
    else group.push(item);
  }
  return [...groups.values()];
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
