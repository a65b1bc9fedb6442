import { accessLineJson, groupGrants } from "../access/access-lines.js";
import type { DiffReport } from "./diff-report.js";

/**
 * `rolecall diff --output json`, the contract of issue 12:
 * `{changes: [{manifest, change, file: {base, head}, access: {added, removed}, fields}], overlaps: {added,
 * removed}, summary}`. Access entries are `{resource, actions, condition}`. One member beyond the contract,
 * `errors` (`{base, head}`, each a list of FILE:LINE:COL errors as `validate --output json` gives them), says why
 * the exit code is 1.
 */
export function diffJson(report: DiffReport) {
  return {
    changes: report.changes.map((entry) => ({
      manifest: entry.manifest,
      change: entry.change,
      file: entry.file,
      access: {
        added: groupGrants(entry.access.added).map(accessLineJson),
        removed: groupGrants(entry.access.removed).map(accessLineJson),
      },
      fields: entry.fields.map(({ field, base, head }) => ({ field, base, head })),
    })),
    overlaps: {
      added: report.overlaps.added.map((overlap) => [...overlap.pair]),
      removed: report.overlaps.removed.map((overlap) => [...overlap.pair]),
    },
    summary: report.summary,
    errors: report.errors,
  };
}
