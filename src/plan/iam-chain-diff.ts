import type { DesiredComposite } from "../desired/composite.js";
import type { DesiredAccess } from "../desired/desired-access.js";
import { policyNamed, profileNamed, roleNamed } from "../observed/snapshot-lookup.js";
import type { ObservedPolicy, Snapshot } from "../observed/snapshot.js";
import type { Action, Reason } from "./action.js";
import {
  ChainWork,
  chainSpecOf,
  compositeChainSpec,
  type ClaimedChain,
  type RoleChainSpec,
} from "./chain-work.js";
import { claim, type Claim } from "./claim.js";
import { label } from "./labels.js";
import type { DiffContext, Issue, ManifestPlan } from "./manifest-plan.js";
import { diffPolicy } from "./policy-diff.js";
import { diffProfile } from "./profile-diff.js";
import { diffBoundary, diffRole } from "./role-diff.js";
import { tagChanges } from "./tag-changes.js";

export { maxPolicyVersions } from "./policy-diff.js";

export interface ChainDiff {
  readonly actions: Action[];
  readonly drift: Reason[];
  readonly issues: Issue[];
  readonly resources: ManifestPlan["resources"];
  /** A resource this manifest wants is held by someone else: nothing of this manifest may be changed. */
  readonly blocked: boolean;
}

/** Who holds each resource a chain wants: the part of the diff that decides whether it may act at all. */
function claimRoleChain(
  spec: RoleChainSpec,
  policy: ObservedPolicy | undefined,
  policyClaim: Claim | undefined,
  snapshot: Snapshot,
  context: DiffContext,
): ClaimedChain & { readonly resources: ManifestPlan["resources"] } {
  const roleLabel = label.role(spec.role.name);
  const profileLabel = label.instanceProfile(spec.instanceProfile.name);
  const role = roleNamed(snapshot, spec.role.name);
  const profile = profileNamed(snapshot, spec.instanceProfile.name);
  const claims: [Claim | undefined, Claim | undefined, Claim | undefined] = [
    policyClaim,
    role && claim({ kind: "role", name: role.name, label: roleLabel, tags: role.tags }, spec, context),
    profile &&
      claim(
        { kind: "instanceProfile", name: profile.name, label: profileLabel, tags: profile.tags },
        spec,
        context,
      ),
  ];
  const resources: ManifestPlan["resources"] = {
    ...(policy === undefined ? {} : { policyArn: policy.arn }),
    ...(role === undefined ? {} : { roleArn: role.arn }),
    ...(role?.permissionsBoundary === undefined ? {} : { permissionsBoundary: role.permissionsBoundary }),
    ...(profile === undefined ? {} : { instanceProfileArn: profile.arn }),
  };
  return {
    policy,
    role,
    profile,
    attached: spec.policyNames.map((name) => ({ name, policy: policyNamed(snapshot, name) })),
    claims,
    resources,
    labels: {
      policy: label.policy(spec.policyNames[0] ?? ""),
      role: roleLabel,
      instanceProfile: profileLabel,
    },
  };
}

/** A manifest's chain: its own policy, then its role and profile. */
export function claimChain(
  desired: DesiredAccess,
  snapshot: Snapshot,
  context: DiffContext,
): ClaimedChain & { readonly resources: ManifestPlan["resources"] } {
  const policy = policyNamed(snapshot, desired.policy.name);
  const policyClaim =
    policy &&
    claim(
      {
        kind: "policy",
        name: policy.name,
        label: label.policy(desired.policy.name),
        tags: policy.tags,
        description: policy.description,
      },
      desired,
      context,
    );
  return claimRoleChain(chainSpecOf(desired), policy, policyClaim, snapshot, context);
}

/** Whether some resource this manifest wants is held by someone else (so nothing of it may change). */
export function chainIsBlocked(desired: DesiredAccess, snapshot: Snapshot, context: DiffContext): boolean {
  return claimChain(desired, snapshot, context).claims.some((result) => result?.kind === "blocked");
}

/**
 * Diffs the policy → role → instance profile chain of one manifest against the snapshot and lists the actions,
 * in dependency order, that make AWS match it.
 */
export function diffIamChain(desired: DesiredAccess, snapshot: Snapshot, context: DiffContext): ChainDiff {
  const chain = claimChain(desired, snapshot, context);
  return diffClaimed(chainSpecOf(desired), chain, (work) => {
    diffBoundary(work);
    diffPolicy(work, desired);
    diffRole(work);
    diffProfile(work);
  });
}

/**
 * Diffs a composite's role and profile: the role holds exactly its members' policies (which their manifests'
 * chains create and keep), the profile holds the role.
 */
export function diffCompositeChain(
  composite: DesiredComposite,
  snapshot: Snapshot,
  context: DiffContext,
): ChainDiff {
  const spec = compositeChainSpec(composite);
  const chain = claimRoleChain(spec, undefined, undefined, snapshot, context);
  return diffClaimed(spec, chain, (work) => {
    diffBoundary(work);
    diffRole(work);
    diffProfile(work);
  });
}

function diffClaimed(
  spec: RoleChainSpec,
  chain: ClaimedChain & { readonly resources: ManifestPlan["resources"] },
  steps: (work: ChainWork) => void,
): ChainDiff {
  const issues = chain.claims.flatMap((result) => (result?.kind === "blocked" ? [result.issue] : []));
  if (issues.length > 0) return { actions: [], drift: [], issues, resources: chain.resources, blocked: true };
  const roleTags = chain.role === undefined ? undefined : tagChanges(chain.role.tags, spec.tags);
  const work = new ChainWork(spec, chain, roleTags);
  steps(work);
  return {
    actions: work.actions,
    drift: dedupeReasons(work.drift),
    issues,
    resources: chain.resources,
    blocked: false,
  };
}

function dedupeReasons(reasons: Reason[]): Reason[] {
  const seen = new Set<string>();
  return reasons.filter((reason) => {
    const key = `${reason.resource}\u0000${reason.field}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
