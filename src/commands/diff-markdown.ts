import { groupGrants } from "../access/access-lines.js";
import { describeLine, visible } from "../access/describe-access.js";
import type { AccessGrant } from "../access/policy-grants.js";
import { formatManifestError, type ManifestError } from "../manifest/manifest-error.js";
import type { DiffReport, ManifestChangeEntry } from "./diff-report.js";
import { fileText, summaryLine, type DiffRoots } from "./diff-text.js";
import { groupOverlaps, overlapGroupLines } from "./diff-overlaps.js";
import { fieldValueText, settingsLines } from "./diff-values.js";

/** A manifest section with more list items than this is folded in <details>. */
const foldAbove = 12;
/**
 * GitHub refuses comments over 65,536 characters. Past this budget, the remaining manifests are named only, in a
 * folded list, and the reader is pointed at the full text; the summary line always counts every change.
 */
const defaultBudget = 60_000;

/**
 * `rolecall diff --output markdown`: a pull-request comment. A summary line, one section per manifest that
 * changes, access changes as a list, long sections folded in <details>. Plain CommonMark plus <details>, which
 * GitHub and GitLab both render; every literal (action, ARN, tag) is in a code span, so nothing in a manifest can
 * turn into markup.
 */
export function renderDiffMarkdown(report: DiffReport, roots: DiffRoots, budget = defaultBudget): string {
  const parts = [`### rolecall diff\n\n**${summaryLine(report)}**`];
  if (report.errors.head.length > 0)
    parts.push(errorSection("Invalid manifests in HEAD", report.errors.head));
  if (report.errors.base.length > 0)
    parts.push(errorSection("Invalid manifests in BASE (compared as absent)", report.errors.base));
  const overlaps = overlapSection(report, budget);
  if (overlaps !== undefined) parts.push(overlaps);
  let used = parts.join("\n\n").length;
  const left: string[] = [];
  for (const entry of report.changes.filter((candidate) => candidate.change !== "unchanged")) {
    const section = manifestSection(entry, report, roots);
    if (left.length === 0 && used + section.length + 2 <= budget) {
      parts.push(section);
      used += section.length + 2;
    } else left.push(`${code(entry.manifest)} (${entry.change})`);
  }
  if (left.length > 0)
    parts.push(
      fold(
        `${left.length} more manifest(s) not shown: the comment would be too long`,
        `Run \`rolecall diff\` for the full report.\n\n${left.map((item) => `- ${item}`).join("\n")}`,
      ),
    );
  if (report.summary.unchanged > 0) parts.push(`${report.summary.unchanged} manifest(s) unchanged.`);
  return parts.join("\n\n") + "\n";
}

function manifestSection(entry: ManifestChangeEntry, report: DiffReport, roots: DiffRoots): string {
  const note = report.invalidInBase.includes(entry.manifest) ? " (its BASE version is invalid)" : "";
  const heading = `#### ${code(entry.manifest)}: ${entry.change}${note}\n\n${code(fileText(entry, roots))}`;
  const items = [
    ...signed("gains", entry.access.added),
    ...signed("loses", entry.access.removed),
    ...(entry.change === "changed"
      ? entry.fields.map(
          (field) =>
            `- ${code(field.field)}: ${fieldValueText(field.base, code)} → ${fieldValueText(field.head, code)}`,
        )
      : settingsLines(entry.fields, entry.change === "added" ? "head" : "base", code).map(
          (line) => `- ${line}`,
        )),
  ];
  const list = items.join("\n");
  return items.length > foldAbove
    ? `${heading}\n\n${fold(`${items.length} changes`, list)}`
    : `${heading}\n\n${list}`;
}

function signed(verb: "gains" | "loses", grants: readonly AccessGrant[]): string[] {
  return groupGrants(grants).map((line) => `- **${verb}** ${describeLine(line, code)}`);
}

function overlapSection(report: DiffReport, budget: number): string | undefined {
  const items = [
    ...groupOverlaps(report.overlaps.added, report).flatMap((group) =>
      overlapGroupLines(group, code).map((line) => `- **new**: ${line}`),
    ),
    ...groupOverlaps(report.overlaps.removed, report).flatMap((group) =>
      overlapGroupLines(group, code, false).map((line) => `- **gone**: ${line}`),
    ),
  ];
  if (items.length === 0) return undefined;
  // At most a third of the comment: past that, the count, and where to read them all.
  let size = 0;
  const shown = items.filter((item) => (size += item.length + 1) <= budget / 3);
  if (shown.length < items.length)
    shown.push(`- … ${items.length - shown.length} more; \`rolecall diff --output json\` lists every pair`);
  const why =
    "Enforce-mode manifests whose selectors can select the same instance compose: it gets a composite role with all their policies.";
  const list = shown.join("\n");
  return `#### Overlapping selectors\n\n${why}\n\n${items.length > foldAbove ? fold(`${items.length} overlap changes`, list) : list}`;
}

function errorSection(title: string, errors: readonly ManifestError[]): string {
  // In a fenced block: FILE:LINE:COL lines as validate prints them, safe from Markdown whatever the message says.
  const fence = "`".repeat(Math.max(3, longestRun(errors.map(formatManifestError).join("\n")) + 1));
  return `#### ${title}\n\n${fence}text\n${errors.map((error) => visible(formatManifestError(error))).join("\n")}\n${fence}`;
}

function fold(summary: string, body: string): string {
  return `<details>\n<summary>${escapeHtml(summary)}</summary>\n\n${body}\n\n</details>`;
}

/**
 * A code span that holds any text: fenced by one backtick more than the longest run inside, padded when the text
 * starts or ends with one, control and bidirectional-formatting characters (a newline would end the list item)
 * shown escaped.
 */
export function code(text: string): string {
  const shown = visible(text);
  const fence = "`".repeat(longestRun(shown) + 1);
  const pad = shown.startsWith("`") || shown.endsWith("`") || shown === "" ? " " : "";
  return `${fence}${pad}${shown}${pad}${fence}`;
}

function longestRun(text: string): number {
  return Math.max(0, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>]/g,
    (character) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[character] ?? character,
  );
}
