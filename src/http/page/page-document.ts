import type { ReconcileRecord, StatusDocument } from "../../status/status-store.js";

/**
 * The Git revision the manifests were read at, as /status carries it at its top level. Read defensively: the
 * page shows it when the daemon provides it, and stays whole when it does not (not in Git, or an older daemon).
 */
export interface PageSource {
  readonly path: string;
  /** The 40-hex commit, or null when the directory is not in a Git work tree. */
  readonly revision: string | null;
  readonly revisionTime: string | null;
  readonly subject: string | null;
}

const text = (value: unknown): string | null => (typeof value === "string" ? value : null);

export function sourceOf(document: Pick<StatusDocument, "source">): PageSource | undefined {
  const source: unknown = (document as { readonly source?: unknown }).source;
  if (typeof source !== "object" || source === null) return undefined;
  const fields = source as Record<string, unknown>;
  return {
    path: text(fields.path) ?? "",
    revision: text(fields.revision),
    revisionTime: text(fields.revisionTime),
    subject: text(fields.subject),
  };
}

/**
 * The revision a reconcile applied: a string, null (recorded, but not in Git), or undefined when the record
 * carries no such field at all.
 */
export function revisionOf(record: ReconcileRecord): string | null | undefined {
  const revision: unknown = (record as { readonly revision?: unknown }).revision;
  if (revision === undefined) return undefined;
  return text(revision);
}

/** A commit as people read it: its first seven hex digits. */
export function shortRevision(revision: string): string {
  return revision.slice(0, 7);
}
