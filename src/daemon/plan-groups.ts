import { readOwnership } from "../desired/ownership.js";
import { profileNamed } from "../observed/snapshot-lookup.js";
import { nameFromArn, type Snapshot } from "../observed/snapshot.js";
import type { PassPlan } from "../plan/plan-pass.js";

/**
 * The units of a full pass's plan that must run together, in one pass, because one's actions depend on
 * another's: a composite and its members (it attaches their policies), and the manifest or composite an instance
 * moves to with the one it moves from (the move comes before the old profile's removal). Every unit of the plan
 * maps to its group, itself included.
 */
export function planGroups(plan: PassPlan, snapshot: Snapshot): Map<string, readonly string[]> {
  const units = new Set([...plan.manifests.keys(), ...plan.composites.keys()]);
  const parent = new Map([...units].map((unit) => [unit, unit]));
  const root = (unit: string): string => {
    let current = unit;
    while (parent.get(current) !== current) current = parent.get(current) ?? current;
    parent.set(unit, current);
    return current;
  };
  const link = (a: string, b: string) => {
    if (units.has(a) && units.has(b)) parent.set(root(a), root(b));
  };
  for (const [name, composite] of plan.composites) for (const member of composite.members) link(name, member);
  for (const unit of [...plan.manifests.values(), ...plan.composites.values()]) {
    for (const action of [...unit.actions, ...unit.pruneActions]) {
      if (!("instanceId" in action)) continue;
      const holder = holderOf(snapshot, action.instanceId);
      if (holder !== undefined) link(unit.manifest, holder);
    }
  }
  const groups = new Map<string, string[]>();
  for (const unit of units) groups.set(root(unit), [...(groups.get(root(unit)) ?? []), unit]);
  return new Map([...units].map((unit) => [unit, groups.get(root(unit)) ?? [unit]]));
}

/** The owner (manifest or composite) of the profile an instance holds, by its tags. */
function holderOf(snapshot: Snapshot, instanceId: string): string | undefined {
  const association = snapshot.associations.get(instanceId);
  if (association === undefined) return undefined;
  const tags = profileNamed(snapshot, nameFromArn(association.profileArn))?.tags;
  return tags === undefined ? undefined : readOwnership(tags).manifest;
}
