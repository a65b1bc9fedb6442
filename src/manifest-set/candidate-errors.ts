import type { Candidate, ReportedPath } from "../manifest/examine-file.js";
import type { ManifestError } from "../manifest/manifest-error.js";
import { joinPointer } from "../manifest/schema-errors.js";

export type IamNameField = "policyName" | "roleName" | "instanceProfileName";

export function errorAt(
  candidate: Candidate,
  path: ReportedPath,
  code: ManifestError["code"],
  message: string,
): ManifestError {
  const position = candidate.positions.get(path.join("/")) ?? candidate.start;
  return { file: candidate.file, ...position, message, pointer: joinPointer(path), code };
}

/** Where an IAM name comes from: its own field when the manifest sets one, otherwise the name it is derived from. */
export function iamNamePath(candidate: Candidate, field: IamNameField): ReportedPath {
  return candidate.manifest.spec.iam?.[field] === undefined ? ["metadata", "name"] : ["spec", "iam", field];
}

export function describeSource(candidate: Candidate): string {
  const { line, column } = candidate.positions.get("metadata/name") ?? candidate.start;
  return `${candidate.file}:${line}:${column}`;
}
