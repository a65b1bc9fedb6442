import path from "node:path";
import { groupGrants } from "../access/access-lines.js";
import { describeLine, visible } from "../access/describe-access.js";
import type { AccessGrant } from "../access/policy-grants.js";
import { formatManifestError } from "../manifest/manifest-error.js";
import type { DiffReport, ManifestChangeEntry } from "./diff-report.js";
import { groupOverlaps, listsPairs, overlapGroupLines } from "./diff-overlaps.js";
import { fieldValueText, settingsLines } from "./diff-values.js";
import { noStyle, type TextStyle } from "./text-style.js";

/** The two directories compared, for paths relative to them. */
export interface DiffRoots {
  readonly base: string;
  readonly head: string;
}

/**
 * `rolecall diff` as text: HEAD's errors first (FILE:LINE:COL, like validate), then one block per manifest that
 * changes (unchanged ones are only counted), the overlaps gained and lost, and a summary line.
 */
export function renderDiffText(report: DiffReport, roots: DiffRoots, style: TextStyle = noStyle): string {
  const lines: string[] = [];
  for (const error of report.errors.head) lines.push(visible(formatManifestError(error)));
  for (const error of report.errors.base)
    lines.push(style.quiet(`base: ${visible(formatManifestError(error))}`));
  for (const name of report.invalidInHead)
    lines.push(`${style.heading(name)}: invalid in HEAD, not compared`);
  for (const entry of report.changes)
    if (entry.change !== "unchanged") lines.push(...entryLines(entry, report, roots, style));
  lines.push(...overlapLines(report, style));
  if (report.headHasUnnamedInvalid)
    lines.push(
      "note: a HEAD file is too broken to show its manifests' names; a manifest shown as removed may be in it",
    );
  lines.push(summaryLine(report));
  return lines.join("\n");
}

/** New overlaps, grouped by the manifest that brings them; then the overlaps that are gone. */
function overlapLines(report: DiffReport, style: TextStyle): string[] {
  const lines: string[] = [];
  for (const group of groupOverlaps(report.overlaps.added, report)) {
    const why = listsPairs(group)
      ? " (it gets a composite role with both policies)"
      : " (an instance selected by two enforce-mode manifests gets a composite role)";
    for (const line of overlapGroupLines(group)) lines.push(style.changed(`new overlap: ${line}${why}`));
  }
  for (const group of groupOverlaps(report.overlaps.removed, report))
    for (const line of overlapGroupLines(group, undefined, false))
      lines.push(`overlap gone: ${line}${listsPairs(group) ? " no longer select a common instance" : ""}`);
  return lines;
}

/** `2 changed, 1 added, 0 removed, 97 unchanged; 1 new overlap` */
export function summaryLine(report: DiffReport): string {
  const { added, removed, changed, unchanged } = report.summary;
  const overlaps = report.overlaps.added.length;
  const parts = `${changed} changed, ${added} added, ${removed} removed, ${unchanged} unchanged`;
  const errors = report.errors.head.length;
  return [
    added + removed + changed === 0 ? `no change of access (${parts})` : parts,
    ...(overlaps > 0 ? [`${overlaps} new overlap(s)`] : []),
    ...(errors > 0 ? [`${errors} error(s) in HEAD`] : []),
  ].join("; ");
}

function entryLines(
  entry: ManifestChangeEntry,
  report: DiffReport,
  roots: DiffRoots,
  style: TextStyle,
): string[] {
  const note = report.invalidInBase.includes(entry.manifest) ? " (its BASE version is invalid)" : "";
  const lines = [`${style.heading(entry.manifest)}: ${entry.change} (${fileText(entry, roots)})${note}`];
  lines.push(
    ...signed("+", entry.access.added, style.added),
    ...signed("-", entry.access.removed, style.removed),
  );
  if (entry.change !== "changed")
    return [
      ...lines,
      ...settingsLines(entry.fields, entry.change === "added" ? "head" : "base").map((line) => `    ${line}`),
    ];
  for (const field of entry.fields)
    lines.push(
      style.changed(`  ~ ${field.field}: ${fieldValueText(field.base)} → ${fieldValueText(field.head)}`),
    );
  return lines;
}

function signed(sign: "+" | "-", grants: readonly AccessGrant[], paint: (text: string) => string): string[] {
  return groupGrants(grants).map((line) => paint(`  ${sign} ${describeLine(line)}`));
}

/** The file, relative to its directory; both when the manifest moved to another file. */
export function fileText(entry: ManifestChangeEntry, roots: DiffRoots): string {
  const base = entry.file.base === null ? null : path.relative(roots.base, entry.file.base);
  const head = entry.file.head === null ? null : path.relative(roots.head, entry.file.head);
  if (base !== null && head !== null && base !== head) return `${visible(base)} → ${visible(head)}`;
  return visible(head ?? base ?? "");
}
