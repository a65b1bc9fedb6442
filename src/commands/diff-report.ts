import { diffDesired, type ChangeKind, type ManifestChange } from "../access/manifest-change.js";
import {
  comparePairs,
  overlappingPairs,
  overlapWitness,
  type OverlapWitness,
} from "../access/selector-overlap.js";
import type { DesiredAccess } from "../desired/desired-access.js";
import type { ManifestSet, ValidManifest } from "../manifest-set/load-manifest-set.js";
import type { ManifestError } from "../manifest/manifest-error.js";

/** One manifest's change, with the file it is in on each side. */
export interface ManifestChangeEntry extends ManifestChange {
  readonly file: { readonly base: string | null; readonly head: string | null };
}

/** Two enforce-mode manifests whose selectors can select one instance, and why. */
export interface Overlap {
  readonly pair: readonly [string, string];
  readonly witness: OverlapWitness | undefined;
}

/** What `rolecall diff BASE HEAD` found. */
export interface DiffReport {
  /** Every manifest compared, by name. */
  readonly changes: readonly ManifestChangeEntry[];
  readonly overlaps: { readonly added: readonly Overlap[]; readonly removed: readonly Overlap[] };
  readonly summary: Readonly<Record<ChangeKind, number>>;
  readonly errors: { readonly base: readonly ManifestError[]; readonly head: readonly ManifestError[] };
  /** Manifests valid in BASE whose HEAD version is invalid: not compared (they are not removed). */
  readonly invalidInHead: readonly string[];
  /** Manifests valid in HEAD whose BASE version was invalid: compared as added, the conservative reading. */
  readonly invalidInBase: readonly string[];
  /** HEAD has an invalid file that does not show its name, so a manifest reported removed may be in it. */
  readonly headHasUnnamedInvalid: boolean;
}

/**
 * Compares two directories' manifests, paired by metadata.name. Overlaps are counted among enforce-mode manifests
 * only: only they compose (an instance selected by several gets a composite role with all their policies), and an
 * observe-mode manifest never writes. Switching a manifest to enforce is where its overlaps appear.
 */
export function buildDiffReport(base: ManifestSet, head: ManifestSet): DiffReport {
  const baseByName = byName(base.manifests);
  const headByName = byName(head.manifests);
  const invalidInHead = [...baseByName.keys()].filter(
    (name) => !headByName.has(name) && head.invalidNames.has(name),
  );
  const skipped = new Set(invalidInHead);
  const names = [...new Set([...baseByName.keys(), ...headByName.keys()])].filter(
    (name) => !skipped.has(name),
  );
  const changes = names.sort().map((name): ManifestChangeEntry => {
    const before = baseByName.get(name);
    const after = headByName.get(name);
    return {
      ...diffDesired(name, before?.desired, after?.desired),
      file: { base: before?.file ?? null, head: after?.file ?? null },
    };
  });
  const summary = { added: 0, removed: 0, changed: 0, unchanged: 0 };
  for (const entry of changes) summary[entry.change] += 1;
  const touched = new Set(
    changes.filter((entry) => entry.change !== "unchanged").map((entry) => entry.manifest),
  );
  return {
    changes,
    overlaps: overlapChanges(enforced(base.manifests, skipped), enforced(head.manifests, skipped), touched),
    summary,
    errors: { base: base.errors, head: head.errors },
    invalidInHead: invalidInHead.sort(),
    invalidInBase: [...headByName.keys()].filter(
      (name) => !baseByName.has(name) && base.invalidNames.has(name),
    ),
    headHasUnnamedInvalid: head.unnamedInvalid,
  };
}

/** Whether the diff reports any change (the exit code 2 of `rolecall diff`). */
export function reportsChange(report: DiffReport): boolean {
  return report.changes.some((entry) => entry.change !== "unchanged");
}

function overlapChanges(
  base: readonly DesiredAccess[],
  head: readonly DesiredAccess[],
  touched: ReadonlySet<string>,
): DiffReport["overlaps"] {
  const pairsOf = (manifests: readonly DesiredAccess[]) => {
    const selectors = new Map(manifests.map((desired) => [desired.manifest, desired.selector]));
    const pairs = overlappingPairs(
      manifests.map((desired) => ({ name: desired.manifest, selector: desired.selector })),
      touched,
    );
    return new Map(
      pairs.map((pair) => {
        const [a, b] = pair.map((name) => selectors.get(name));
        const witness = a === undefined || b === undefined ? undefined : overlapWitness(a, b);
        return [pair.join("\u0000"), { pair, witness }] as const;
      }),
    );
  };
  const before = pairsOf(base);
  const after = pairsOf(head);
  const only = (mine: Map<string, Overlap>, theirs: Map<string, Overlap>) =>
    [...mine]
      .filter(([key]) => !theirs.has(key))
      .map(([, overlap]) => overlap)
      .sort((x, y) => comparePairs(x.pair, y.pair));
  return { added: only(after, before), removed: only(before, after) };
}

function enforced(manifests: readonly ValidManifest[], skipped: ReadonlySet<string>): DesiredAccess[] {
  return manifests
    .filter((manifest) => manifest.desired.mode === "enforce" && !skipped.has(manifest.name))
    .map((manifest) => manifest.desired);
}

function byName(manifests: readonly ValidManifest[]): Map<string, ValidManifest> {
  return new Map(manifests.map((manifest) => [manifest.name, manifest]));
}
