import type { ObservedRole } from "../observed/snapshot.js";
import { takeoverTags, type ChainWork } from "./chain-work.js";
import { show } from "./labels.js";
import { policiesEqual } from "./policy-equality.js";
import { tagActions, tagReason } from "./tag-changes.js";

/** Role: exists, trusts EC2 exactly, holds exactly its chain's policies and no inline policy. */
export function diffRole(work: ChainWork): void {
  const { spec, manifest } = work;
  const { role, labels } = work.chain;
  if (role === undefined) {
    const reason = { resource: labels.role, field: "exists", desired: "present", actual: "absent" };
    work.want(reason, {
      kind: "createRole",
      manifest,
      reason,
      roleName: spec.role.name,
      path: spec.role.path,
      description: spec.role.description,
      trustPolicy: spec.role.trustPolicy,
      tags: spec.tags,
      ...(spec.role.permissionsBoundary === undefined
        ? {}
        : { permissionsBoundary: spec.role.permissionsBoundary }),
    });
  } else {
    diffRoleTags(work, role);
    diffTrust(work, role);
    diffRolePolicies(work, role);
  }
  attachPolicies(work);
}

/**
 * The permissions boundary, first of all the chain's changes: a role taken over, or one whose boundary was removed
 * or replaced by hand, is capped before anything is attached to it. Without a configured boundary, a boundary
 * set by hand is left alone.
 */
export function diffBoundary(work: ChainWork): void {
  const { role, labels } = work.chain;
  const wanted = work.spec.role.permissionsBoundary;
  if (role === undefined || wanted === undefined || role.permissionsBoundary === wanted) return;
  const reason = {
    resource: labels.role,
    field: "permissionsBoundary",
    desired: wanted,
    actual: role.permissionsBoundary ?? "(none)",
  };
  work.want(reason, {
    kind: "putRolePermissionsBoundary",
    manifest: work.manifest,
    reason,
    roleName: role.name,
    boundaryArn: wanted,
  });
}

function diffRoleTags(work: ChainWork, role: ObservedRole): void {
  const [, roleClaim] = work.chain.claims;
  const changes =
    roleClaim?.kind === "takeover"
      ? { set: takeoverTags(work.spec, role.path), remove: work.roleTags?.remove ?? [] }
      : work.roleTags;
  if (changes === undefined) return;
  const reason = tagReason(work.chain.labels.role, work.spec.tags, role.tags);
  const target = { kind: "role" as const, roleName: role.name };
  for (const action of tagActions(work.manifest, target, changes, reason)) work.want(reason, action);
}

function diffTrust(work: ChainWork, role: ObservedRole): void {
  const trustPolicy = work.spec.role.trustPolicy;
  if (policiesEqual(role.trustPolicy, trustPolicy)) return;
  const reason = {
    resource: work.chain.labels.role,
    field: "trustPolicy",
    desired: show(trustPolicy),
    actual: role.trustPolicy === undefined ? "(unreadable)" : show(role.trustPolicy),
  };
  work.want(reason, {
    kind: "updateAssumeRolePolicy",
    manifest: work.manifest,
    reason,
    roleName: role.name,
    trustPolicy,
  });
}

/** What the role should hold, as shown in reasons: the ARNs known, the names of policies not there yet. */
function wantedShown(work: ChainWork): string {
  return show(work.chain.attached.map((entry) => entry.policy?.arn ?? entry.name));
}

/** Inline policies deleted, and every managed policy but the chain's own detached. */
function diffRolePolicies(work: ChainWork, role: ObservedRole): void {
  const { manifest } = work;
  const { labels } = work.chain;
  const wantedArns = new Set(
    work.chain.attached.flatMap((entry) => (entry.policy === undefined ? [] : [entry.policy.arn])),
  );
  for (const inline of role.inlinePolicyNames) {
    const reason = {
      resource: labels.role,
      field: "inlinePolicies",
      desired: "[]",
      actual: show(role.inlinePolicyNames),
    };
    work.want(reason, {
      kind: "deleteRolePolicy",
      manifest,
      reason,
      roleName: role.name,
      inlinePolicyName: inline,
    });
  }
  for (const attached of role.attachedPolicyArns) {
    if (wantedArns.has(attached)) continue;
    const reason = {
      resource: labels.role,
      field: "attachedPolicies",
      desired: wantedShown(work),
      actual: show(role.attachedPolicyArns),
    };
    work.want(reason, {
      kind: "detachRolePolicy",
      manifest,
      reason,
      roleName: role.name,
      policyArn: attached,
    });
  }
}

/** Each of the chain's policies attached to its role (created in this plan, or there already). */
function attachPolicies(work: ChainWork): void {
  const { role, labels } = work.chain;
  for (const { name, policy } of work.chain.attached) {
    if (policy !== undefined && role !== undefined && role.attachedPolicyArns.includes(policy.arn)) continue;
    const reason = {
      resource: labels.role,
      field: "attachedPolicies",
      desired: wantedShown(work),
      actual: show(role?.attachedPolicyArns ?? []),
    };
    work.want(reason, {
      kind: "attachRolePolicy",
      manifest: work.manifest,
      reason,
      roleName: role?.name ?? work.spec.role.name,
      policyName: policy?.name ?? name,
      policyArn: policy?.arn,
    });
  }
}
