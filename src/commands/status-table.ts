import type { ManifestStatusView, StatusDocument } from "../status/status-store.js";

/** One manifest as `rolecall status` shows it. */
export interface StatusRow {
  readonly name: string;
  readonly mode: string;
  /** The Ready condition's status: True, False or Unknown. */
  readonly ready: string;
  /** Outstanding drift items. */
  readonly drift: number;
  readonly instances: number;
  readonly lastReconcile: {
    readonly at: string;
    readonly result: string;
    readonly revision: string | null;
  } | null;
}

function rowOf(view: ManifestStatusView): StatusRow {
  const ready = view.conditions.find((condition) => condition.type === "Ready")?.status ?? "Unknown";
  const last = view.lastReconcile;
  return {
    name: view.name,
    mode: view.mode,
    ready,
    drift: view.drift.length,
    instances: view.instances.length,
    lastReconcile:
      last === null ? null : { at: last.at, result: last.result, revision: last.revision ?? null },
  };
}

export function statusRows(document: StatusDocument): StatusRow[] {
  return document.manifests.map(rowOf);
}

/** Whether every manifest is Ready and no file is invalid: what `rolecall status` exits 0 for. */
export function allReady(document: StatusDocument): boolean {
  return document.errors.length === 0 && document.manifests.every((view) => rowOf(view).ready === "True");
}

/** A duration as kubectl shows an age: 45s, 3m, 2h, 4d. */
export function age(fromIso: string, now: Date): string {
  const seconds = Math.max(0, Math.round((now.getTime() - Date.parse(fromIso)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

const headings = ["NAME", "MODE", "READY", "DRIFT", "INSTANCES", "LAST RECONCILE"] as const;

/** The table, columns padded to their widest cell as `kubectl get` prints them, then one line of summary. */
export function renderStatusTable(document: StatusDocument, now: Date): string {
  return `${manifestsTable(document, now)}\n${leadershipLine(document)}`;
}

/** The manifests of one directory (or one target) and their summary line. */
export function manifestsTable(document: StatusDocument, now: Date): string {
  const cells = statusRows(document).map((row) => [
    row.name,
    row.mode,
    row.ready,
    String(row.drift),
    String(row.instances),
    row.lastReconcile === null
      ? "never"
      : `${row.lastReconcile.result} ${age(row.lastReconcile.at, now)} ago`,
  ]);
  const table = [[...headings], ...cells];
  const widths = headings.map((_heading, column) =>
    Math.max(...table.map((row) => row[column]?.length ?? 0)),
  );
  const lines = table.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join("   ")
      .trimEnd(),
  );
  return [...lines, summaryLine(document)].join("\n");
}

/** Who makes changes, as the status page's banner says it: leading, standby (who leads), or no lease configured. */
export function leadershipLine(document: Pick<StatusDocument, "leadership">): string {
  const leadership = document.leadership;
  if (leadership === undefined) return "leadership: no lease configured (this process makes changes alone)";
  const lease = `lease "${leadership.lease.name}" in table ${leadership.lease.table}`;
  const since = leadership.since === null ? "" : ` since ${leadership.since}`;
  const until = leadership.expiresAt === null ? "" : `, lease until ${leadership.expiresAt}`;
  if (leadership.leading) return `leadership: leading as ${leadership.holderId}${since}${until} (${lease})`;
  if (leadership.leader === null) return `leadership: standby, no leader seen (${lease})`;
  return `leadership: standby, ${leadership.leader} leads${since}${until} (${lease})`;
}

function summaryLine(document: StatusDocument): string {
  const { summary, source } = document;
  const parts = [
    `${summary.ready} of ${summary.manifests} ready`,
    `${summary.drifted} drifted`,
    `${summary.invalid} invalid file(s)`,
  ];
  if (source?.revision != null) parts.push(`revision ${source.revision.slice(0, 7)}`);
  else if (source !== undefined) parts.push("not in Git");
  return parts.join(", ");
}

export function statusJson(document: StatusDocument) {
  return {
    source: document.source ?? null,
    summary: document.summary,
    manifests: statusRows(document),
    errors: document.errors,
    leadership: document.leadership ?? null,
  };
}
