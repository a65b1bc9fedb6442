import type { DesiredAccess } from "../desired/desired-access.js";
import { ownershipTagKeys } from "../desired/ownership.js";
import type { ObservedPolicy, PolicyVersion } from "../observed/snapshot.js";
import type { OwnershipExpectation } from "./action.js";
import { takeoverTags, type ChainWork } from "./chain-work.js";
import { show } from "./labels.js";
import { canonicalPolicy, policiesEqual } from "./policy-equality.js";
import { tagActions, tagChanges, tagReason, type TagChanges } from "./tag-changes.js";

/** IAM keeps at most five versions of a managed policy. */
export const maxPolicyVersions = 5;

/** Policy: exists, carries the compiled document as its default version, carries the ownership tags. */
export function diffPolicy(work: ChainWork, desired: DesiredAccess): void {
  const { manifest } = work;
  const { policy, labels } = work.chain;
  if (policy === undefined) {
    const reason = { resource: labels.policy, field: "exists", desired: "present", actual: "absent" };
    work.want(reason, {
      kind: "createPolicy",
      manifest,
      reason,
      policyName: desired.policy.name,
      path: desired.policy.path,
      description: desired.policy.description,
      document: desired.policy.document,
      tags: desired.tags,
    });
    return;
  }
  const [policyClaim] = work.chain.claims;
  // Ownership suggested by the description only: the executor reads the tags before any change.
  const expectOwner: OwnershipExpectation | undefined =
    policyClaim?.kind === "owned" && !policyClaim.confirmed ? { manifest } : undefined;
  diffPolicyTags(work, desired, policy, expectOwner);
  diffPolicyDocument(work, desired, policy, expectOwner);
}

function diffPolicyTags(
  work: ChainWork,
  desired: DesiredAccess,
  policy: ObservedPolicy,
  expectOwner: OwnershipExpectation | undefined,
): void {
  const [policyClaim] = work.chain.claims;
  if (!(policyClaim?.kind === "takeover" || policy.tags !== undefined || work.roleRetagged())) return;
  let changes: TagChanges;
  if (policyClaim?.kind === "takeover") {
    changes = {
      set: takeoverTags(work.spec, policy.path),
      remove: policy.tags?.[ownershipTagKeys.orphaned] === undefined ? [] : [ownershipTagKeys.orphaned],
    };
  } else if (policy.tags === undefined) {
    // Tags not read: the role's stand witness. What the role lacked or carried too much (the orphaned mark of a
    // manifest that comes back), the policy, tagged alongside it, did too. (UntagPolicy of a missing key is a no-op.)
    changes = { set: work.roleTags?.set, remove: work.roleTags?.remove ?? [] };
  } else {
    changes = tagChanges(policy.tags, desired.tags);
  }
  const reason = tagReason(work.chain.labels.policy, desired.tags, policy.tags);
  const target = {
    kind: "policy" as const,
    policyArn: policy.arn,
    ...(expectOwner === undefined ? {} : { expectOwner }),
  };
  for (const action of tagActions(work.manifest, target, changes, reason)) work.want(reason, action);
}

function diffPolicyDocument(
  work: ChainWork,
  desired: DesiredAccess,
  policy: ObservedPolicy,
  expectOwner: OwnershipExpectation | undefined,
): void {
  const { manifest } = work;
  if (policiesEqual(policy.document, desired.policy.document)) return;
  const ownerCheck = expectOwner === undefined ? {} : { expectOwner };
  const reason = {
    resource: work.chain.labels.policy,
    field: "document",
    desired: show(JSON.parse(canonicalPolicy(desired.policy.document))),
    actual:
      policy.document === undefined ? "(unreadable)" : show(JSON.parse(canonicalPolicy(policy.document))),
  };
  work.drift.push(reason);
  const oldest = policy.versions.length >= maxPolicyVersions ? oldestNonDefault(policy.versions) : undefined;
  if (oldest !== undefined) {
    work.actions.push({
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
  work.actions.push({
    kind: "createPolicyVersion",
    manifest,
    reason,
    policyName: policy.name,
    policyArn: policy.arn,
    document: desired.policy.document,
    ...(policy.document === undefined ? {} : { liveDocument: policy.document }),
    ...ownerCheck,
  });
}

function oldestNonDefault(versions: readonly PolicyVersion[]): PolicyVersion | undefined {
  return [...versions]
    .filter((version) => !version.isDefault)
    .sort((a, b) => a.createdAt - b.createdAt || versionNumber(a.id) - versionNumber(b.id))[0];
}

/**
 * IAM numbers versions v1, v2, … in creation order and never reuses a number. CreateDate has one-second
 * precision on AWS, so versions made by a script in the same second tie on it; the number settles which is older.
 */
function versionNumber(id: string): number {
  const parsed = Number(/^v(\d+)$/i.exec(id)?.[1]);
  return Number.isFinite(parsed) ? parsed : Number.MAX_SAFE_INTEGER;
}
