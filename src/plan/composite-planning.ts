import {
  compileComposite,
  compositeMembersOf,
  isCompositeName,
  type DesiredComposite,
} from "../desired/composite.js";
import type { DesiredAccess } from "../desired/desired-access.js";
import { profileNamed, roleNamed } from "../observed/snapshot-lookup.js";
import type { Snapshot } from "../observed/snapshot.js";
import { diffCompositeChain, type ChainDiff } from "./iam-chain-diff.js";
import type { InstanceDiff } from "./instance-assignment.js";
import type { Selection } from "./instance-selection.js";
import type { CompositePlan, DiffContext } from "./manifest-plan.js";
import type { PruneGroup } from "./prune.js";

/** AWS's default quota of managed policies attached to one role; accounts with a raised quota set it higher. */
export const defaultMaxPoliciesPerRole = 10;

/** The composites this pass needs: one per distinct set of two or more enforce-mode manifests on an instance. */
export interface CompositeNeeds {
  /** The composite for a set of members (memoised); undefined when the set is above the quota. */
  readonly compositeFor: (members: readonly DesiredAccess[]) => DesiredComposite | undefined;
  readonly needed: ReadonlyMap<string, DesiredComposite>;
  readonly chains: ReadonlyMap<string, ChainDiff>;
  /** Composites that may not change: their role or profile name is held by someone else, or a member is blocked. */
  readonly blocked: ReadonlySet<string>;
}

export function compositeNeeds(
  selections: readonly Selection[],
  snapshot: Snapshot,
  context: DiffContext,
  blockedManifests: ReadonlySet<string>,
  maxPoliciesPerRole: number,
): CompositeNeeds {
  const memo = new Map<string, DesiredComposite | undefined>();
  const compositeFor = (members: readonly DesiredAccess[]) => {
    const key = members
      .map((member) => member.manifest)
      .sort()
      .join("\u0000");
    if (!memo.has(key))
      memo.set(key, members.length > maxPoliciesPerRole ? undefined : compileComposite(members));
    return memo.get(key);
  };
  const needed = new Map<string, DesiredComposite>();
  for (const selection of selections) {
    if (selection.enforce.length < 2) continue;
    const composite = compositeFor(selection.enforce);
    if (composite !== undefined) needed.set(composite.name, composite);
  }
  const chains = new Map<string, ChainDiff>();
  const blocked = new Set<string>();
  for (const composite of needed.values()) {
    const chain = diffCompositeChain(composite, snapshot, context);
    // A member that may not change anything this pass may have no policy to attach yet: the composite waits too.
    const memberBlocked = composite.members.some((member) => blockedManifests.has(member));
    chains.set(composite.name, memberBlocked ? { ...chain, actions: [], drift: [], blocked: true } : chain);
    if (chain.blocked || memberBlocked) blocked.add(composite.name);
  }
  return { compositeFor, needed, chains, blocked };
}

/** The members of a composite that exists in AWS, from its role's or profile's tags. */
export function existingMembers(snapshot: Snapshot, name: string): readonly string[] {
  const tags = roleNamed(snapshot, name)?.tags ?? profileNamed(snapshot, name)?.tags;
  return [...(compositeMembersOf(tags)?.keys() ?? [])];
}

/** The plans of the composites needed, and of those no instance needs any more (their removal). */
export function compositePlans(
  needs: CompositeNeeds,
  instances: ReadonlyMap<string, InstanceDiff>,
  pruneGroups: ReadonlyMap<string, PruneGroup>,
  snapshot: Snapshot,
  inFocus: (name: string, members: readonly string[]) => boolean,
): Map<string, CompositePlan> {
  const plans = new Map<string, CompositePlan>();
  for (const composite of needs.needed.values()) {
    if (!inFocus(composite.name, composite.members)) continue;
    const chain = needs.chains.get(composite.name);
    const assigned = instances.get(composite.name);
    const stale = pruneGroups.get(composite.name);
    plans.set(composite.name, {
      manifest: composite.name,
      mode: "enforce",
      members: composite.members,
      actions: [...(chain?.actions ?? []), ...(assigned?.actions ?? [])],
      pruneActions: stale?.actions ?? [],
      drift: [...(chain?.drift ?? []), ...(assigned?.drift ?? []), ...(stale?.drift ?? [])],
      issues: [...(chain?.issues ?? []), ...(assigned?.issues ?? []), ...(stale?.issues ?? [])],
      instances: assigned?.instances ?? [],
      resources: chain?.resources ?? {},
    });
  }
  for (const group of pruneGroups.values()) {
    if (!isCompositeName(group.manifest) || plans.has(group.manifest)) continue;
    const members = existingMembers(snapshot, group.manifest);
    if (!inFocus(group.manifest, members)) continue;
    const assigned = instances.get(group.manifest);
    plans.set(group.manifest, {
      manifest: group.manifest,
      mode: "enforce",
      members,
      actions: assigned?.actions ?? [],
      pruneActions: group.actions,
      drift: [...(assigned?.drift ?? []), ...group.drift],
      issues: group.issues,
      instances: assigned?.instances ?? [],
      resources: {},
    });
  }
  return plans;
}
