import type { DesiredAccess } from "../desired/desired-access.js";
import { iamNameKey } from "../desired/iam-names.js";
import type { Snapshot } from "../observed/snapshot.js";
import type { Action, Reason } from "./action.js";
import { ChainWork, type ClaimedChain } from "./chain-work.js";
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

/** Who holds each resource this manifest wants: the part of the diff that decides whether it may act at all. */
export function claimChain(
  desired: DesiredAccess,
  snapshot: Snapshot,
  context: DiffContext,
): ClaimedChain & { readonly resources: ManifestPlan["resources"] } {
  const policyLabel = label.policy(desired.policy.name);
  const roleLabel = label.role(desired.role.name);
  const profileLabel = label.instanceProfile(desired.instanceProfile.name);
  const policy = snapshot.policies.get(iamNameKey(desired.policy.name));
  const role = snapshot.roles.get(iamNameKey(desired.role.name));
  const profile = snapshot.instanceProfiles.get(iamNameKey(desired.instanceProfile.name));

  const claims: [Claim | undefined, Claim | undefined, Claim | undefined] = [
    policy &&
      claim(
        {
          kind: "policy",
          name: policy.name,
          label: policyLabel,
          tags: policy.tags,
          description: policy.description,
        },
        desired,
        context,
      ),
    role && claim({ kind: "role", name: role.name, label: roleLabel, tags: role.tags }, desired, context),
    profile &&
      claim(
        { kind: "instanceProfile", name: profile.name, label: profileLabel, tags: profile.tags },
        desired,
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
    claims,
    resources,
    labels: { policy: policyLabel, role: roleLabel, instanceProfile: profileLabel },
  };
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
  const issues = chain.claims.flatMap((result) => (result?.kind === "blocked" ? [result.issue] : []));
  if (issues.length > 0) return { actions: [], drift: [], issues, resources: chain.resources, blocked: true };
  const roleTags = chain.role === undefined ? undefined : tagChanges(chain.role.tags, desired.tags);
  const work = new ChainWork(desired, chain, roleTags);
  diffBoundary(work);
  diffPolicy(work);
  diffRole(work);
  diffProfile(work);
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
