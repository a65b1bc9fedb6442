import type { DesiredAccess } from "../desired/desired-access.js";
import { emptyManifestPlan, type DiffContext, type Issue, type ManifestPlan } from "./manifest-plan.js";
import { chainIsBlocked, diffIamChain, type ChainDiff } from "./iam-chain-diff.js";
import { assignInstances, type InstanceDiff } from "./instance-assignment.js";
import { planPrune } from "./prune.js";
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
}

export interface PassPlan {
  /** One plan per manifest in force, and one per removed manifest with something left in AWS. */
  readonly manifests: ReadonlyMap<string, ManifestPlan>;
  /** Why removal was held back this pass, if it was. */
  readonly pruneSuspended: Issue | undefined;
}

/**
 * The whole decision of a pass, as a pure function of the manifests and one snapshot: for every manifest, the
 * ordered actions (with reasons), the drift, and the problems that keep it from converging.
 */
export function planPass(snapshot: Snapshot, input: PassInput, focus?: ReadonlySet<string>): PassPlan {
  const context: DiffContext = {
    desired: new Map(input.inForce.map((desired) => [desired.manifest, desired])),
    protectedNames: input.protectedNames,
  };
  const inFocus = (name: string) => focus === undefined || focus.has(name);
  const { chains, blocked } = diffChains(snapshot, input.inForce, context, inFocus);
  const instances = assignInstances(snapshot, context, blocked);
  const acting = new Set(
    input.inForce
      .filter((desired) => desired.mode === "enforce" && !blocked.has(desired.manifest))
      .map((desired) => desired.manifest),
  );
  const prune = planPrune(snapshot, context, {
    unnamedInvalid: input.unnamedInvalid,
    allowMassPrune: input.allowMassPrune,
    ...instancesInPlay(instances, acting, blocked),
    actingManifests: acting,
    ...(input.iamPath === undefined ? {} : { iamPath: input.iamPath }),
  });

  const manifests = new Map<string, ManifestPlan>();
  for (const desired of input.inForce) {
    if (!inFocus(desired.manifest)) continue;
    const chain = chains.get(desired.manifest);
    const assigned = instances.get(desired.manifest);
    const stale = prune.groups.get(desired.manifest);
    manifests.set(desired.manifest, {
      manifest: desired.manifest,
      mode: desired.mode,
      actions: [...(chain?.actions ?? []), ...(assigned?.actions ?? [])],
      pruneActions: stale?.actions ?? [],
      drift: [...(chain?.drift ?? []), ...(assigned?.drift ?? []), ...(stale?.drift ?? [])],
      issues: [...(chain?.issues ?? []), ...(assigned?.issues ?? []), ...(stale?.issues ?? [])],
      instances: assigned?.instances ?? [],
      resources: chain?.resources ?? {},
    });
  }
  for (const group of prune.groups.values()) {
    if (manifests.has(group.manifest) || !inFocus(group.manifest)) continue;
    manifests.set(group.manifest, {
      ...emptyManifestPlan(group.manifest, input.defaultMode),
      pruneActions: group.actions,
      drift: group.drift,
      issues: group.issues,
    });
  }
  return { manifests, pruneSuspended: prune.suspended };
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
      if (acting.has(manifest) && takesOver) reassignedInstances.add(action.instanceId);
    }
    for (const status of diff.instances) {
      if (status.association === "conflict" || (blocked.has(manifest) && status.association !== "excluded"))
        untouchableInstances.add(status.id);
    }
  }
  return { reassignedInstances, untouchableInstances };
}
