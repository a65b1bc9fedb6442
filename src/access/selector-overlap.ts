import type { InstanceSelection } from "../desired/desired-access.js";
import { visible } from "./describe-access.js";

/** A manifest's name and selector, all that overlap detection needs. */
export interface NamedSelector {
  readonly name: string;
  readonly selector: InstanceSelection;
}

/** What shows that two selectors can select one instance: the IDs both list, or the tags of such an instance. */
export type OverlapWitness =
  | { readonly kind: "ids"; readonly ids: readonly string[] }
  | { readonly kind: "tags"; readonly tags: readonly (readonly [string, string])[] };

/**
 * Why two selectors can select one instance, known without reading EC2, or undefined when they cannot:
 * - both list the same instance ID;
 * - both have matchTags that require no different values for a common key: an instance carrying the union of
 *   their tags is selected by both (tag sets with no common key overlap too).
 * An instance listed by ID in one and matching the other's tags cannot be foreseen offline (its tags are not
 * known); `rolecall plan` reports such an instance when it exists.
 */
export function overlapWitness(a: InstanceSelection, b: InstanceSelection): OverlapWitness | undefined {
  const shared = a.instanceIds.filter((id) => b.instanceIds.includes(id));
  if (shared.length > 0) return { kind: "ids", ids: shared };
  const aTags = Object.entries(a.matchTags);
  const bTags = Object.entries(b.matchTags);
  if (aTags.length === 0 || bTags.length === 0) return undefined;
  if (aTags.some(([key, value]) => Object.hasOwn(b.matchTags, key) && b.matchTags[key] !== value))
    return undefined;
  const union = [...new Map([...aTags, ...bTags])].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  return { kind: "tags", tags: union };
}

/** The witness in words: `both list i-1`, `an instance tagged Env=prod, Team=a is selected by both`. */
export function overlapReason(
  a: InstanceSelection,
  b: InstanceSelection,
  literal: (value: string) => string = visible,
): string | undefined {
  const witness = overlapWitness(a, b);
  if (witness === undefined) return undefined;
  return describeWitness(witness, literal);
}

export function describeWitness(
  witness: OverlapWitness,
  literal: (value: string) => string = visible,
): string {
  if (witness.kind === "ids") return `both list ${witness.ids.map(literal).join(", ")}`;
  const tags = witness.tags.map(([key, value]) => literal(`${key}=${value}`));
  return `an instance tagged ${tags.join(", ")} is selected by both`;
}

/** Whether some instance can be selected by both. */
export function selectorsOverlap(a: InstanceSelection, b: InstanceSelection): boolean {
  return overlapWitness(a, b) !== undefined;
}

/**
 * Pairs of selectors that can overlap, each pair `[first, second]` in name order, pairs sorted. With `touching`,
 * only pairs of which at least one member is in it: what a diff needs, since a pair of unchanged manifests
 * overlaps on both sides or on neither (a diff of 1,000 manifests, 100 changed, tests 100,000 pairs, not 500,000).
 */
export function overlappingPairs(
  selectors: readonly NamedSelector[],
  touching?: ReadonlySet<string>,
): [string, string][] {
  const pairs = new Set<string>();
  const found: [string, string][] = [];
  const candidates = touching === undefined ? selectors : selectors.filter((s) => touching.has(s.name));
  for (const one of candidates) {
    for (const other of selectors) {
      if (other.name === one.name || !selectorsOverlap(one.selector, other.selector)) continue;
      const pair: [string, string] = one.name < other.name ? [one.name, other.name] : [other.name, one.name];
      const key = pair.join("\u0000");
      if (pairs.has(key)) continue;
      pairs.add(key);
      found.push(pair);
    }
  }
  return found.sort(comparePairs);
}

export function comparePairs(a: readonly [string, string], b: readonly [string, string]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}
