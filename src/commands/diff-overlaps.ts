import { visible } from "../access/describe-access.js";
import type { DiffReport, Overlap } from "./diff-report.js";
import { overlapText, type Literal } from "./diff-values.js";

/** The new (or gone) overlaps of one changed manifest: the manifests whose selectors it now meets. */
export interface OverlapGroup {
  readonly manifest: string;
  readonly overlaps: readonly Overlap[];
}

/** Up to this many overlaps of one manifest are listed one by one; past it, they are summed up. */
const listedOneByOne = 5;
/** Partners named in a summed-up group; --output json lists every pair. */
const namedInSummary = 10;

/**
 * Overlaps grouped by the changed manifest that brings them, so one selector widened by mistake (an ID list that
 * gains `matchTags: {Tier: web}` now meets every tag selector without a Tier key) reads as one line naming how
 * many manifests it now meets, not as hundreds of pairs.
 */
export function groupOverlaps(overlaps: readonly Overlap[], report: DiffReport): OverlapGroup[] {
  const touched = new Set(
    report.changes.filter((entry) => entry.change !== "unchanged").map((entry) => entry.manifest),
  );
  // A pair of two changed manifests goes to the one with more overlaps: the selector that widened, most likely.
  const counts = new Map<string, number>();
  for (const name of overlaps.flatMap((overlap) => overlap.pair))
    counts.set(name, (counts.get(name) ?? 0) + 1);
  const weight = (name: string) => (touched.has(name) ? (counts.get(name) ?? 0) : -1);
  const groups = new Map<string, Overlap[]>();
  for (const overlap of overlaps) {
    const [first, second] = overlap.pair;
    const owner = weight(second) > weight(first) ? second : first;
    groups.set(owner, [...(groups.get(owner) ?? []), overlap]);
  }
  return [...groups].map(([manifest, grouped]) => ({ manifest, overlaps: grouped }));
}

/** Whether a group is shown pair by pair (else summed up in one line). */
export function listsPairs(group: OverlapGroup): boolean {
  return group.overlaps.length <= listedOneByOne;
}

/**
 * The lines of one group: each pair with why when there are few, else one line such as
 * `billing-7 and 695 other manifests: a, b, … (685 more; --output json lists every pair)`.
 */
export function overlapGroupLines(
  group: OverlapGroup,
  literal: Literal = visible,
  withReason = true,
): string[] {
  if (listsPairs(group)) return group.overlaps.map((overlap) => overlapText(overlap, literal, withReason));
  const partners = group.overlaps.map((overlap) =>
    overlap.pair[0] === group.manifest ? overlap.pair[1] : overlap.pair[0],
  );
  const named = partners.slice(0, namedInSummary).map(literal).join(", ");
  const more = partners.length - namedInSummary;
  const rest = more > 0 ? `, … (${more} more; --output json lists every pair)` : "";
  return [`${literal(group.manifest)} and ${partners.length} other manifests: ${named}${rest}`];
}
