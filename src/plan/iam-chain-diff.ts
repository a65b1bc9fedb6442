import type { DesiredAccess } from "../desired/desired-access.js";
import { iamNameKey } from "../desired/iam-names.js";
import { ownershipTagKeys, type Tags } from "../desired/ownership.js";
import type { Snapshot } from "../observed/snapshot.js";
import type { Action, OwnershipExpectation, Reason } from "./action.js";
import { claim, type Claim } from "./claim.js";
import type { DiffContext, Issue, ManifestPlan } from "./manifest-plan.js";
import { label, show } from "./labels.js";
import { canonicalPolicy, policiesEqual } from "./policy-equality.js";
import { showTags, tagChanges } from "./tag-changes.js";

/** IAM keeps at most five versions of a managed policy. */
export const maxPolicyVersions = 5;

export interface ChainDiff {
  readonly actions: Action[];
  readonly drift: Reason[];
  readonly issues: Issue[];
  readonly resources: ManifestPlan["resources"];
  /** A resource this manifest wants is held by someone else: nothing of this manifest may be changed. */
  readonly blocked: boolean;
}

/** Who holds each resource this manifest wants: the part of the diff that decides whether it may act at all. */
export function claimChain(desired: DesiredAccess, snapshot: Snapshot, context: DiffContext) {
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
  const actions: Action[] = [];
  const drift: Reason[] = [];
  const issues: Issue[] = [];
  const manifest = desired.manifest;
  const want = (reason: Reason, action?: Action) => {
    drift.push(reason);
    if (action !== undefined) actions.push(action);
  };

  const { policy, role, profile, claims, resources, labels } = claimChain(desired, snapshot, context);
  const { policy: policyLabel, role: roleLabel, instanceProfile: profileLabel } = labels;
  for (const result of claims) if (result?.kind === "blocked") issues.push(result.issue);
  if (issues.length > 0) return { actions: [], drift: [], issues, resources, blocked: true };
  const [policyClaim, roleClaim] = claims;

  // The role's tags are always read; they stand witness for the policy's, which whole-account reads omit.
  const roleTags = role === undefined ? undefined : tagChanges(role.tags, desired.tags);
  const roleRetagged =
    roleClaim?.kind === "takeover" || roleTags?.set !== undefined || (roleTags?.remove.length ?? 0) > 0;

  // 1. Policy: exists, carries the compiled document as its default version, carries the ownership tags.
  if (policy === undefined) {
    want(
      { resource: policyLabel, field: "exists", desired: "present", actual: "absent" },
      {
        kind: "createPolicy",
        manifest,
        reason: { resource: policyLabel, field: "exists", desired: "present", actual: "absent" },
        policyName: desired.policy.name,
        path: desired.policy.path,
        description: desired.policy.description,
        document: desired.policy.document,
        tags: desired.tags,
      },
    );
  } else {
    const expectOwner: OwnershipExpectation | undefined =
      policyClaim?.kind === "owned" && !policyClaim.confirmed ? { manifest } : undefined;
    const ownerCheck = expectOwner === undefined ? {} : { expectOwner };
    if (policyClaim?.kind === "takeover" || policy.tags !== undefined || roleRetagged) {
      const changes =
        policyClaim?.kind === "takeover"
          ? {
              set: takeoverTags(desired, policy.path),
              remove:
                policy.tags?.[ownershipTagKeys.orphaned] === undefined ? [] : [ownershipTagKeys.orphaned],
            }
          : policy.tags === undefined
            ? // Tags not read: the role's stand witness. What the role lacked or carried too much (the orphaned
              // mark of a manifest that comes back), the policy, tagged alongside it, did too.
              // (UntagPolicy of a key the policy lacks is a no-op.)
              { set: roleTags?.set, remove: roleTags?.remove ?? [] }
            : tagChanges(policy.tags, desired.tags);
      const reason = {
        resource: policyLabel,
        field: "tags",
        desired: showTags(desired.tags),
        actual: showTags(policy.tags),
      };
      if (changes.set !== undefined)
        want(reason, {
          kind: "tagPolicy",
          manifest,
          reason,
          policyArn: policy.arn,
          tags: changes.set,
          ...ownerCheck,
        });
      if (changes.remove.length > 0) {
        want(reason, {
          kind: "untagPolicy",
          manifest,
          reason,
          policyArn: policy.arn,
          keys: changes.remove,
          ...ownerCheck,
        });
      }
    }
    if (!policiesEqual(policy.document, desired.policy.document)) {
      const reason = {
        resource: policyLabel,
        field: "document",
        desired: show(JSON.parse(canonicalPolicy(desired.policy.document))),
        actual:
          policy.document === undefined ? "(unreadable)" : show(JSON.parse(canonicalPolicy(policy.document))),
      };
      drift.push(reason);
      if (policy.versions.length >= maxPolicyVersions) {
        const oldest = [...policy.versions]
          .filter((version) => !version.isDefault)
          .sort((a, b) => a.createdAt - b.createdAt || versionNumber(a.id) - versionNumber(b.id))[0];
        if (oldest !== undefined) {
          actions.push({
            kind: "deletePolicyVersion",
            manifest,
            reason: {
              ...reason,
              field: "versions",
              desired: `at most ${maxPolicyVersions - 1} before adding one`,
              actual: String(policy.versions.length),
            },
            policyArn: policy.arn,
            versionId: oldest.id,
            ...ownerCheck,
          });
        }
      }
      actions.push({
        kind: "createPolicyVersion",
        manifest,
        reason,
        policyName: policy.name,
        policyArn: policy.arn,
        document: desired.policy.document,
        ...ownerCheck,
      });
    }
  }

  // 2. Role: exists, trusts EC2 exactly, holds exactly the manifest's policy and no inline policy.
  if (role === undefined) {
    const reason = { resource: roleLabel, field: "exists", desired: "present", actual: "absent" };
    want(reason, {
      kind: "createRole",
      manifest,
      reason,
      roleName: desired.role.name,
      path: desired.role.path,
      description: desired.role.description,
      trustPolicy: desired.role.trustPolicy,
      tags: desired.tags,
    });
  } else {
    const changes =
      roleClaim?.kind === "takeover"
        ? { set: takeoverTags(desired, role.path), remove: roleTags?.remove ?? [] }
        : roleTags;
    const tagReason = {
      resource: roleLabel,
      field: "tags",
      desired: showTags(desired.tags),
      actual: showTags(role.tags),
    };
    if (changes?.set !== undefined)
      want(tagReason, {
        kind: "tagRole",
        manifest,
        reason: tagReason,
        roleName: role.name,
        tags: changes.set,
      });
    if ((changes?.remove.length ?? 0) > 0) {
      want(tagReason, {
        kind: "untagRole",
        manifest,
        reason: tagReason,
        roleName: role.name,
        keys: changes?.remove ?? [],
      });
    }
    if (!policiesEqual(role.trustPolicy, desired.role.trustPolicy)) {
      const reason = {
        resource: roleLabel,
        field: "trustPolicy",
        desired: show(desired.role.trustPolicy),
        actual: role.trustPolicy === undefined ? "(unreadable)" : show(role.trustPolicy),
      };
      want(reason, {
        kind: "updateAssumeRolePolicy",
        manifest,
        reason,
        roleName: role.name,
        trustPolicy: desired.role.trustPolicy,
      });
    }
    for (const inline of role.inlinePolicyNames) {
      const reason = {
        resource: roleLabel,
        field: "inlinePolicies",
        desired: "[]",
        actual: show(role.inlinePolicyNames),
      };
      want(reason, {
        kind: "deleteRolePolicy",
        manifest,
        reason,
        roleName: role.name,
        inlinePolicyName: inline,
      });
    }
    for (const attached of role.attachedPolicyArns) {
      if (attached === policy?.arn) continue;
      const reason = {
        resource: roleLabel,
        field: "attachedPolicies",
        desired: show([policy?.arn ?? desired.policy.name]),
        actual: show(role.attachedPolicyArns),
      };
      want(reason, { kind: "detachRolePolicy", manifest, reason, roleName: role.name, policyArn: attached });
    }
  }
  const roleName = role?.name ?? desired.role.name;
  if (policy === undefined || role === undefined || !role.attachedPolicyArns.includes(policy.arn)) {
    const reason = {
      resource: roleLabel,
      field: "attachedPolicies",
      desired: show([policy?.arn ?? desired.policy.name]),
      actual: show(role?.attachedPolicyArns ?? []),
    };
    want(reason, {
      kind: "attachRolePolicy",
      manifest,
      reason,
      roleName,
      policyName: policy?.name ?? desired.policy.name,
      policyArn: policy?.arn,
    });
  }

  // 3. Instance profile: exists and holds exactly the role.
  const profileClaim = claims[2];
  if (profile === undefined) {
    const reason = { resource: profileLabel, field: "exists", desired: "present", actual: "absent" };
    want(reason, {
      kind: "createInstanceProfile",
      manifest,
      reason,
      profileName: desired.instanceProfile.name,
      path: desired.instanceProfile.path,
      tags: desired.tags,
    });
  } else {
    const changes =
      profileClaim?.kind === "takeover"
        ? { set: takeoverTags(desired, profile.path), remove: tagChanges(profile.tags, desired.tags).remove }
        : tagChanges(profile.tags, desired.tags);
    const tagReason = {
      resource: profileLabel,
      field: "tags",
      desired: showTags(desired.tags),
      actual: showTags(profile.tags),
    };
    if (changes.set !== undefined) {
      want(tagReason, {
        kind: "tagInstanceProfile",
        manifest,
        reason: tagReason,
        profileName: profile.name,
        tags: changes.set,
      });
    }
    if (changes.remove.length > 0) {
      want(tagReason, {
        kind: "untagInstanceProfile",
        manifest,
        reason: tagReason,
        profileName: profile.name,
        keys: changes.remove,
      });
    }
    for (const held of profile.roleNames) {
      if (iamNameKey(held) === iamNameKey(roleName)) continue;
      const reason = {
        resource: profileLabel,
        field: "roles",
        desired: show([roleName]),
        actual: show(profile.roleNames),
      };
      want(reason, {
        kind: "removeRoleFromInstanceProfile",
        manifest,
        reason,
        profileName: profile.name,
        roleName: held,
      });
    }
  }
  const profileName = profile?.name ?? desired.instanceProfile.name;
  if (profile === undefined || !profile.roleNames.some((held) => iamNameKey(held) === iamNameKey(roleName))) {
    const reason = {
      resource: profileLabel,
      field: "roles",
      desired: show([roleName]),
      actual: show(profile?.roleNames ?? []),
    };
    want(reason, { kind: "addRoleToInstanceProfile", manifest, reason, profileName, roleName });
  }

  return { actions, drift: dedupeReasons(drift), issues, resources, blocked: false };
}

/**
 * IAM numbers versions v1, v2, … in creation order and never reuses a number. CreateDate has one-second
 * precision on AWS, so versions made by a script in the same second tie on it; the number settles which is older.
 */
function versionNumber(id: string): number {
  const parsed = Number(/^v(\d+)$/i.exec(id)?.[1]);
  return Number.isFinite(parsed) ? parsed : Number.MAX_SAFE_INTEGER;
}

/** Ownership tags for a resource taken over; one kept outside rolecall's path also records that path. */
function takeoverTags(desired: DesiredAccess, path: string): Tags {
  return path.startsWith(desired.policy.path)
    ? desired.tags
    : { ...desired.tags, [ownershipTagKeys.iamPath]: desired.policy.path };
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
