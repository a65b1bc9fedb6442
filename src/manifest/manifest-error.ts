/** A problem with a manifest file, located in its source so editors and CI logs can jump to it. */
export interface ManifestError {
  readonly file: string;
  /** 1-based; whole-file problems (unreadable, too large) point at 1:1, bad bytes (NUL, not UTF-8) at the first one. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
  readonly message: string;
  /** JSON pointer of the offending field inside its document; empty for whole-file problems. */
  readonly pointer: string;
  /** Stable, machine-readable kind of problem. */
  readonly code: ManifestErrorCode;
}

export const manifestErrorCodes = [
  "FileUnreadable",
  "FileTooLarge",
  "BinaryFile",
  "InvalidEncoding",
  "EmptyFile",
  "TooManyDocuments",
  "NestingTooDeep",
  "YamlSyntax",
  "DuplicateKey",
  "AliasLimit",
  "NotAnObject",
  "SchemaViolation",
  "DuplicateName",
  "DuplicateIamName",
  "PolicyTooLarge",
  "NameTooLong",
  "ReservedName",
  "SymlinkOutsideRoot",
  "TooManyErrors",
  "OutsideTargets",
  "TargetsFileInvalid",
  "DuplicateTargetName",
  "OverlappingTargetDirectories",
  "SharedTargetAccount",
] as const;
export type ManifestErrorCode = (typeof manifestErrorCodes)[number];

export function fileError(file: string, code: ManifestErrorCode, message: string): ManifestError {
  return { file, line: 1, column: 1, message, pointer: "", code };
}

/** `FILE:LINE:COL: message (at /pointer)`, the shape compilers use so terminals and CI annotate it. */
export function formatManifestError(error: ManifestError): string {
  const at = error.pointer === "" ? "" : ` (at ${error.pointer})`;
  return `${error.file}:${error.line}:${error.column}: ${error.message}${at}`;
}

export function compareManifestErrors(a: ManifestError, b: ManifestError): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column;
}
