import { decodeManifestText } from "./decode-text.js";
import type { InstanceAccess } from "./instance-access.js";
import type { ManifestError } from "./manifest-error.js";
import { parseDocuments, type SourceDocument, type SourcePosition } from "./parse-documents.js";
import { checkSchema, joinPointer } from "./schema-errors.js";

/** A manifest file as the filesystem adapter hands it over: its bytes, or why they could not be read. */
export type ManifestFileInput =
  | {
      readonly file: string;
      readonly bytes: Uint8Array;
      /** Last modification (ms since the epoch), when known: lets a reader tell a file still being written. */
      readonly modifiedAt?: number;
    }
  | { readonly file: string; readonly error: ManifestError };

/** A schema-valid document, with the source positions the cross-file checks may need to report. */
export interface Candidate {
  readonly file: string;
  readonly index: number;
  readonly start: SourcePosition;
  readonly manifest: InstanceAccess;
  readonly positions: ReadonlyMap<string, SourcePosition>;
}

/** What one file contributes, independent of every other file: parse and schema results. */
export interface FileExamination {
  readonly errors: readonly ManifestError[];
  readonly candidates: readonly Candidate[];
  readonly invalidNames: readonly string[];
  readonly unnamedInvalid: boolean;
}

/** Paths the cross-file checks report at; their positions are kept so parsed YAML need not be. */
const reportedPaths = [
  ["metadata", "name"],
  ["spec", "grants"],
  ["spec", "iam", "policyName"],
  ["spec", "iam", "roleName"],
  ["spec", "iam", "instanceProfileName"],
] as const;

export type ReportedPath = (typeof reportedPaths)[number];

/**
 * Remembers each file's examination by content, so the daemon re-reading a directory of a thousand manifests
 * after one edit parses only the file that changed.
 */
export class ManifestFileMemo {
  private readonly entries = new Map<string, { bytes: Uint8Array; examination: FileExamination }>();

  examine(input: ManifestFileInput): FileExamination {
    if ("error" in input) return examineFile(input);
    const known = this.entries.get(input.file);
    if (known !== undefined && Buffer.compare(known.bytes, input.bytes) === 0) return known.examination;
    const examination = examineFile(input);
    this.entries.set(input.file, { bytes: input.bytes, examination });
    return examination;
  }

  /** Forgets files no longer present. */
  retain(files: Iterable<string>): void {
    const keep = new Set(files);
    for (const file of this.entries.keys()) if (!keep.has(file)) this.entries.delete(file);
  }
}

/** Decodes, parses and schema-checks one file. */
export function examineFile(input: ManifestFileInput): FileExamination {
  if ("error" in input)
    return { errors: [input.error], candidates: [], invalidNames: [], unnamedInvalid: true };
  const decoded = decodeManifestText(input.file, input.bytes);
  if ("error" in decoded) {
    // An empty file holds no manifest, so it cannot be hiding one's name; anything else unreadable might.
    const unnamedInvalid = decoded.error.code !== "EmptyFile";
    return { errors: [decoded.error], candidates: [], invalidNames: [], unnamedInvalid };
  }
  const parsed = parseDocuments(input.file, decoded.text);
  const errors: ManifestError[] = [...parsed.errors];
  const candidates: Candidate[] = [];
  const invalidNames: string[] = [];
  // A document that failed to parse may have been a manifest; we cannot know which.
  let unnamedInvalid = parsed.errors.some((error) => error.code !== "EmptyFile");
  for (const document of parsed.documents) {
    const checked = checkDocument(document);
    if ("manifest" in checked && !document.damaged) {
      const positions = new Map(reportedPaths.map((path) => [path.join("/"), document.locate(path)]));
      candidates.push({
        file: document.file,
        index: document.index,
        start: document.start,
        manifest: checked.manifest,
        positions,
      });
      continue;
    }
    if ("errors" in checked) errors.push(...checked.errors);
    const name = nameOf(document.value);
    if (name === undefined) unnamedInvalid = true;
    else invalidNames.push(name);
  }
  return { errors: capErrors(input.file, errors), candidates, invalidNames, unnamedInvalid };
}

/** A hostile file can hold hundreds of thousands of mistakes; a person needs the first few and a count. */
export const maxErrorsPerFile = 50;

function capErrors(file: string, errors: ManifestError[]): ManifestError[] {
  if (errors.length <= maxErrorsPerFile) return errors;
  const shown = errors.slice(0, maxErrorsPerFile);
  const last = shown[shown.length - 1];
  return [
    ...shown,
    {
      file,
      line: last?.line ?? 1,
      column: last?.column ?? 1,
      message: `${errors.length - maxErrorsPerFile} more error(s) in this file not shown`,
      pointer: "",
      code: "TooManyErrors",
    },
  ];
}

function checkDocument(document: SourceDocument): { manifest: InstanceAccess } | { errors: ManifestError[] } {
  const value = document.value;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const got = Array.isArray(value) ? "a list" : value === null ? "null" : `a ${typeof value}`;
    return {
      errors: [
        {
          file: document.file,
          ...document.start,
          message: `document is ${got}; a manifest is a mapping with apiVersion, kind, metadata and spec`,
          pointer: "",
          code: "NotAnObject",
        },
      ],
    };
  }
  const result = checkSchema(value);
  if (result.ok) return { manifest: result.manifest };
  return {
    errors: result.problems.map((problem) => ({
      file: document.file,
      ...document.locate(problem.path, problem.prefer),
      message: problem.message,
      pointer: joinPointer(problem.displayPath),
      code: "SchemaViolation",
    })),
  };
}

function nameOf(value: unknown): string | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const metadata = (value as { metadata?: unknown }).metadata;
  if (metadata === null || typeof metadata !== "object") return undefined;
  const name = (metadata as { name?: unknown }).name;
  return typeof name === "string" && name !== "" ? name : undefined;
}
