import { decodeManifestText } from "../manifest/decode-text.js";
import type { ManifestError, ManifestErrorCode } from "../manifest/manifest-error.js";
import { parseDocuments, type SourceDocument } from "../manifest/parse-documents.js";
import { joinPointer, schemaChecker, type GeneratedValidator } from "../manifest/schema-errors.js";
import validateTargets from "./generated/targets-validate.js";
import type { TargetSpec } from "./target-spec.js";

interface TargetDocument {
  readonly targets: readonly {
    readonly name: string;
    readonly manifests: string;
    readonly account: string;
    readonly roleArn?: string;
    readonly externalId?: string;
    readonly regions: readonly string[];
  }[];
}

const checkTargets = schemaChecker<TargetDocument>(validateTargets as GeneratedValidator);

export type TargetsLoad =
  | { readonly ok: true; readonly targets: readonly TargetSpec[] }
  | { readonly ok: false; readonly errors: readonly ManifestError[] };

/**
 * Parses and validates a Targets file (one YAML document) with the manifests' machinery, so its errors read
 * FILE:LINE:COL the same way; then the checks across targets that a schema cannot express.
 */
export function loadTargetsFile(file: string, bytes: Uint8Array, iamPath: string): TargetsLoad {
  const decoded = decodeManifestText(file, bytes);
  if ("error" in decoded) return { ok: false, errors: [decoded.error] };
  const parsed = parseDocuments(file, decoded.text);
  if (parsed.errors.length > 0) return { ok: false, errors: parsed.errors };
  const [document, extra] = parsed.documents;
  if (document === undefined || extra !== undefined)
    return {
      ok: false,
      errors: [
        {
          file,
          ...((extra ?? document)?.start ?? { line: 1, column: 1 }),
          message: "a targets file holds exactly one document (kind: Targets)",
          pointer: "",
          code: "TargetsFileInvalid",
        },
      ],
    };
  const checked = checkTargets(document.value);
  if (!checked.ok)
    return {
      ok: false,
      errors: checked.problems.map((problem) => ({
        file,
        ...document.locate(problem.path, problem.prefer),
        message: problem.message,
        pointer: joinPointer(problem.displayPath),
        code: "TargetsFileInvalid",
      })),
    };
  const targets = checked.value.targets.map((target): TargetSpec => ({
    ...target,
    manifests: normalizeDirectory(target.manifests),
  }));
  const errors = crossTargetErrors(targets, iamPath, document);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, targets };
}

/** "./prod/" and "prod" are the same directory. */
export function normalizeDirectory(directory: string): string {
  return directory
    .split("/")
    .filter((segment) => segment !== "" && segment !== ".")
    .join("/");
}

/** Whether one directory holds the other (or they are the same): a manifest there would belong to both. */
export function directoriesOverlap(a: string, b: string): boolean {
  return a === "" || b === "" || a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

/**
 * Unique names; no directory inside another's; one target per account. Every target manages rolecall's IAM path
 * (--iam-path) in its account, so two targets in one account would each see the other's roles as orphans to prune.
 */
function crossTargetErrors(
  targets: readonly TargetSpec[],
  iamPath: string,
  document: SourceDocument,
): ManifestError[] {
  const errors: ManifestError[] = [];
  const at = (index: number, field: string, code: ManifestErrorCode, message: string) =>
    errors.push({
      file: document.file,
      ...document.locate(["targets", String(index), field]),
      message,
      pointer: joinPointer(["targets", String(index), field]),
      code,
    });
  targets.forEach((target, index) => {
    const earlier = targets.slice(0, index);
    const sameName = earlier.find((other) => other.name === target.name);
    if (sameName !== undefined)
      at(
        index,
        "name",
        "DuplicateTargetName",
        `target name "${target.name}" is already used by an earlier target`,
      );
    const overlapping = earlier.find((other) => directoriesOverlap(other.manifests, target.manifests));
    if (overlapping !== undefined)
      at(
        index,
        "manifests",
        "OverlappingTargetDirectories",
        `directory "${target.manifests || "."}" overlaps target "${overlapping.name}"'s "${overlapping.manifests || "."}": a manifest must belong to exactly one target`,
      );
    const sameAccount = earlier.find((other) => other.account === target.account);
    if (sameAccount !== undefined)
      at(
        index,
        "account",
        "SharedTargetAccount",
        `account ${target.account ?? ""} is already managed by target "${sameAccount.name}" under the same IAM path ${iamPath}: each would prune the other's resources; list both regions in one target instead`,
      );
  });
  return errors;
}
