import { isCompositeName } from "../desired/composite.js";
import type { DesiredAccess } from "../desired/desired-access.js";
import { compositeNeeds, compositePlans, defaultMaxPoliciesPerRole } from "./composite-planning.js";
import { chainIsBlocked, diffIamChain, type ChainDiff } from "./iam-chain-diff.js";
import { assignInstances, type InstanceDiff } from "./instance-assignment.js";
import { selectInstances, type Selection } from "./instance-selection.js";
import {
  emptyManifestPlan,
  type CompositePlan,
  type DiffContext,
  type Issue,
  type ManifestPlan,
} from "./manifest-plan.js";
import { planPrune, type PruneGroup } from "./prune.js";
import type { Mode } from "../manifest/instance-access.js";
import type { Snapshot } from "../observed/snapshot.js";

/** The manifests a pass works from. */
export interface ManifestsInForce {
  /** Valid now, or (in the daemon) last valid while their file is broken. */
  readonly inForce: readonly DesiredAccess[];
  /** Names of invalid manifests never seen valid: nothing of theirs is touched. */
  readonly protectedNames: ReadonlySet<string>;
  /** Some invalid file did not reveal its names (or the read cannot see orphans): nothing is removed. */
  readonly unnamedInvalid: boolean;
}

/** The manifests, and the controller's rules for removing what they no longer want. */
export interface PassInput extends ManifestsInForce {
  readonly allowMassPrune: boolean;
  /** Mode for removed manifests' clean-up (the daemon's --mode). */
  readonly defaultMode: Mode;
  /** This controller's IAM path: removal stays within it (see PruneOptions.iamPath). */
  readonly iamPath?: string;
  /** The most managed policies a role may hold (--max-policies-per-role): the largest composite. */
  readonly maxPoliciesPerRole?: number;
}

export interface PassPlan {
  /** One plan per manifest in force, and one per removed manifest with something left in AWS. */
  readonly manifests: ReadonlyMap<string, ManifestPlan>;
  /** One plan per composite needed (or no longer needed, being removed). */
  readonly composites: ReadonlyMap<string, CompositePlan>;
  /** Why removal was held back this pass, if it was. */
  readonly pruneSuspended: Issue | undefined;
}

/**
 * The whole decision of a pass, as a pure function of the manifests and one snapshot: for every manifest and
 * every composite, the ordered actions (with reasons), the drift, and the problems that keep it from converging.
 * With a focus (one reconcile in the daemon), only the focused manifests and the composites they are members of
 * are planned in full; everything is still assigned across all manifests, as removal and instances need.
 */
export function planPass(snapshot: Snapshot, input: PassInput, focus?: ReadonlySet<string>): PassPlan {
  const context: DiffContext = {
    desired: new Map(input.inForce.map((desired) => [desired.manifest, desired])),
    protectedNames: input.protectedNames,
  };
  const selections = selectInstances(snapshot, context);
  const widened = focus === undefined ? undefined : widenFocus(focus, selections);
  const inFocus = (name: string) => widened === undefined || widened.has(name);
  const { chains, blocked } = diffChains(snapshot, input.inForce, context, inFocus);
  const maxPoliciesPerRole = input.maxPoliciesPerRole ?? defaultMaxPoliciesPerRole;
  const needs = compositeNeeds(selections, snapshot, context, blocked, maxPoliciesPerRole);
  const instances = assignInstances({
    selections,
    snapshot,
    context,
    blocked,
    compositeFor: needs.compositeFor,
    blockedComposites: needs.blocked,
    neededComposites: new Set(needs.needed.keys()),
    maxPoliciesPerRole,
  });
  const actingComposites = new Set([...needs.needed.keys()].filter((name) => !needs.blocked.has(name)));
  const acting = new Set([
    ...input.inForce
      .filter((desired) => desired.mode === "enforce" && !blocked.has(desired.manifest))
      .map((desired) => desired.manifest),
    ...actingComposites,
  ]);
  const prune = planPrune(snapshot, context, {
    unnamedInvalid: input.unnamedInvalid,
    allowMassPrune: input.allowMassPrune,
    ...instancesInPlay(instances, acting, new Set([...blocked, ...needs.blocked])),
    actingManifests: acting,
    wantedComposites: new Set(needs.needed.keys()),
    actingComposites,
    ...(input.iamPath === undefined ? {} : { iamPath: input.iamPath }),
  });
  const composites = compositePlans(
    needs,
    instances,
    prune.groups,
    snapshot,
    (name, members) => inFocus(name) || members.some(inFocus),
  );
  const manifests = manifestPlans(input, chains, instances, prune.groups, composites, inFocus);
  return { manifests, composites, pruneSuspended: prune.suspended };
}

/** Each manifest's plan: its chain, its instances, its removals, and what its composites found. */
function manifestPlans(
  input: PassInput,
  chains: ReadonlyMap<string, ChainDiff>,
  instances: ReadonlyMap<string, InstanceDiff>,
  groups: ReadonlyMap<string, PruneGroup>,
  composites: ReadonlyMap<string, CompositePlan>,
  inFocus: (name: string) => boolean,
): Map<string, ManifestPlan> {
  const memberOf = new Map<string, CompositePlan[]>();
  for (const plan of composites.values())
    for (const member of plan.members) memberOf.set(member, [...(memberOf.get(member) ?? []), plan]);
  const manifests = new Map<string, ManifestPlan>();
  for (const desired of input.inForce) {
    if (!inFocus(desired.manifest)) continue;
    const chain = chains.get(desired.manifest);
    const assigned = instances.get(desired.manifest);
    const stale = groups.get(desired.manifest);
    const shared = memberOf.get(desired.manifest) ?? [];
    manifests.set(desired.manifest, {
      manifest: desired.manifest,
      mode: desired.mode,
      actions: [...(chain?.actions ?? []), ...(assigned?.actions ?? [])],
      pruneActions: stale?.actions ?? [],
      drift: [
        ...(chain?.drift ?? []),
        ...(assigned?.drift ?? []),
        ...(stale?.drift ?? []),
        ...shared.flatMap((plan) => plan.drift),
      ],
      issues: dedupeIssues([
        ...(chain?.issues ?? []),
        ...(assigned?.issues ?? []),
        ...(stale?.issues ?? []),
        ...shared.flatMap((plan) => plan.issues),
      ]),
      instances: assigned?.instances ?? [],
      resources: chain?.resources ?? {},
      ...(shared.length === 0 ? {} : { composites: shared.map((plan) => plan.manifest) }),
    });
  }
  for (const group of groups.values()) {
    if (manifests.has(group.manifest) || isCompositeName(group.manifest) || !inFocus(group.manifest))
      continue;
    // A removed manifest's composites are collected with it (in the daemon, by its key's reconcile).
    const shared = memberOf.get(group.manifest) ?? [];
    manifests.set(group.manifest, {
      ...emptyManifestPlan(group.manifest, input.defaultMode),
      pruneActions: group.actions,
      drift: group.drift,
      issues: group.issues,
      ...(shared.length === 0 ? {} : { composites: shared.map((plan) => plan.manifest) }),
    });
  }
  return manifests;
}

/** The same problem reported through two routes (the instance and its composite) is said once. */
function dedupeIssues(issues: readonly Issue[]): Issue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.code}\u0000${issue.resource ?? ""}\u0000${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
/**
 * A change to one manifest moves instances it shares with others: an instance it selects, or whose composite it
 * is a member of, takes its actions from the manifest (or composite) it should hold the profile of, which may be
 * another one. Those manifests join the focus, so the move happens in this reconcile, not at the next resync.
 */
function widenFocus(focus: ReadonlySet<string>, selections: readonly Selection[]): Set<string> {
  const widened = new Set(focus);
  for (const { found, enforce } of selections) {
    const involved = [
      ...enforce.map((desired) => desired.manifest),
      ...(found.heldMembers === undefined
        ? found.owner === undefined
          ? []
          : [found.owner]
        : [...found.heldMembers.keys()]),
    ];
    if (involved.some((name) => focus.has(name))) for (const name of involved) widened.add(name);
  }
  return widened;
}

/**
 * With a focus (one reconcile in the daemon), only the focused manifests' chains are diffed in full; the others
 * are only checked for being blocked, which the instance assignment and the removal plan need.
 */
function diffChains(
  snapshot: Snapshot,
  inForce: readonly DesiredAccess[],
  context: DiffContext,
  inFocus: (name: string) => boolean,
): { chains: Map<string, ChainDiff>; blocked: Set<string> } {
  const chains = new Map<string, ChainDiff>();
  const blocked = new Set<string>();
  for (const desired of inForce) {
    if (inFocus(desired.manifest)) {
      const chain = diffIamChain(desired, snapshot, context);
      chains.set(desired.manifest, chain);
      if (chain.blocked) blocked.add(desired.manifest);
    } else if (chainIsBlocked(desired, snapshot, context)) {
      blocked.add(desired.manifest);
    }
  }
  return { chains, blocked };
}

/** Instances the removal plan must respect: those an acting manifest takes over, and those left as they are. */
function instancesInPlay(
  instances: ReadonlyMap<string, InstanceDiff>,
  acting: ReadonlySet<string>,
  blocked: ReadonlySet<string>,
): { reassignedInstances: Set<string>; untouchableInstances: Set<string> } {
  const reassignedInstances = new Set<string>();
  const untouchableInstances = new Set<string>();
  for (const [manifest, diff] of instances) {
    for (const action of diff.actions) {
      const takesOver =
        action.kind === "associateInstanceProfile" || action.kind === "replaceInstanceProfileAssociation";
      // A composite releasing an instance it no longer serves does so among its converging actions.
      const released = action.kind === "disassociateInstanceProfile" && isCompositeName(manifest);
      if ((acting.has(manifest) && takesOver) || released) reassignedInstances.add(action.instanceId);
    }
    for (const status of diff.instances) {
      const leftAsIs = status.association === "conflict" || status.association === "retained";
      if (leftAsIs || (blocked.has(manifest) && status.association !== "excluded"))
        untouchableInstances.add(status.id);
    }
  }
  return { reassignedInstances, untouchableInstances };
}
