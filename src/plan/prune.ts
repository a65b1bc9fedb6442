import { iamNameKey } from "../desired/iam-names.js";
import { manifestFromPolicyDescription } from "../desired/ownership.js";
import type { Snapshot } from "../observed/snapshot.js";
import { label } from "./labels.js";
import type { DiffContext } from "./manifest-plan.js";
import { draftGroup, removePolicies } from "./prune-draft.js";
import { holdBack, pruneSuspension } from "./prune-guard.js";
import { inventory } from "./prune-inventory.js";
import { pruneWorld, type PruneGroup, type PruneOptions, type PruneResult } from "./prune-world.js";

export type { PruneGroup, PruneOptions, PruneResult } from "./prune-world.js";

/**
 * Finds what rolecall owns but no manifest in force wants (manifests removed, or resources renamed) and plans its
 * removal in the safe order, or, for deletionPolicy retain, marks it orphaned and leaves it in place.
 */
export function planPrune(snapshot: Snapshot, context: DiffContext, options: PruneOptions): PruneResult {
  const found = inventory(snapshot, context, options.iamPath, options.wantedComposites);
  const world = pruneWorld(snapshot, context.desired, found.candidates, options);
  // Profiles and roles first, for every group: a policy may be deleted only once every role holding it goes.
  const drafts = [...found.candidates].map(([manifest, resources]) =>
    draftGroup(manifest, !context.desired.has(manifest), resources, world),
  );
  const groups = new Map<string, PruneGroup>();
  for (const draft of drafts) {
    removePolicies(draft, world);
    const { manifest, removed, actions, drift, issues } = draft;
    if (actions.length > 0 || issues.length > 0)
      groups.set(manifest, { manifest, removed, actions, drift, issues });
  }
  for (const name of found.unknownPolicies) reportUnknownPolicy(name, snapshot, context, groups);
  const suspended = pruneSuspension(groups, found.managedManifests.size, options);
  if (suspended !== undefined) holdBack(groups, suspended);
  return { groups, suspended };
}

/** A policy that looks like rolecall's but whose tags were not read: left in place, and said so. */
function reportUnknownPolicy(
  name: string,
  snapshot: Snapshot,
  context: DiffContext,
  groups: Map<string, PruneGroup>,
): void {
  const marker = manifestFromPolicyDescription(snapshot.policies.get(iamNameKey(name))?.description) ?? "";
  const group = groups.get(marker) ?? {
    manifest: marker,
    removed: !context.desired.has(marker),
    actions: [],
    drift: [],
    issues: [],
  };
  group.issues.push({
    code: "OwnershipUnknown",
    severity: "error",
    message: `${label.policy(name)} looks like rolecall's (its description names manifest "${marker}") but its tags could not be read; it is left in place`,
    resource: label.policy(name),
  });
  groups.set(marker, group);
}
