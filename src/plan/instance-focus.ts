import { compositeMembersOf } from "../desired/composite.js";
import type { DesiredAccess } from "../desired/desired-access.js";
import { readOwnership } from "../desired/ownership.js";
import { SelectorIndex } from "../desired/selector-index.js";
import { profileNamed } from "../observed/snapshot-lookup.js";
import { nameFromArn, type Snapshot } from "../observed/snapshot.js";
import { isSelectable } from "./instance-selection.js";

/**
 * The plan units (manifests and composites) a change to these instances concerns, decided on a snapshot that
 * already holds the instances as they are now: the manifests that select each one, and the owner of the profile
 * it holds (with a composite's members). An instance concerning none needs nothing from rolecall.
 */
export function unitsConcerning(
  snapshot: Snapshot,
  inForce: readonly DesiredAccess[],
  instanceIds: Iterable<string>,
): Map<string, string[]> {
  const index = new SelectorIndex(inForce);
  const byInstance = new Map<string, string[]>();
  for (const id of instanceIds) {
    const units = new Set<string>();
    const instance = snapshot.instances.get(id);
    if (instance !== undefined && isSelectable(instance))
      for (const desired of index.selecting(id, instance.tags)) units.add(desired.manifest);
    const association = snapshot.associations.get(id);
    const tags =
      association === undefined
        ? undefined
        : profileNamed(snapshot, nameFromArn(association.profileArn))?.tags;
    if (tags !== undefined) {
      const owner = readOwnership(tags).manifest;
      if (owner !== undefined) units.add(owner);
      for (const member of compositeMembersOf(tags)?.keys() ?? []) units.add(member);
    }
    byInstance.set(id, [...units].sort());
  }
  return byInstance;
}
