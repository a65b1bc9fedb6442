import { iamNameKey } from "../desired/iam-names.js";
import { ownershipTagKeys, readOwnership } from "../desired/ownership.js";
import type { DeletionPolicy } from "../manifest/instance-access.js";
import {
  nameFromArn,
  type ObservedInstanceProfile,
  type ObservedPolicy,
  type ObservedRole,
} from "../observed/snapshot.js";
import type { Action, Reason } from "./action.js";
import { label } from "./labels.js";
import type { Issue } from "./manifest-plan.js";
import type { Kind, Owned } from "./prune-inventory.js";
import { deferred, type PruneWorld } from "./prune-world.js";

/** One owner's removal plan, as it is being drafted. */
export class Draft {
  readonly actions: Action[] = [];
  readonly drift: Reason[] = [];
  readonly issues: Issue[] = [];
  private readonly why: string;

  constructor(
    readonly manifest: string,
    /** The manifest no longer exists (as opposed to a manifest in force that renamed a resource). */
    readonly removed: boolean,
    readonly resources: readonly Owned[],
  ) {
    this.why = removed ? `manifest "${manifest}" was removed` : `manifest "${manifest}" no longer names it`;
  }

  reasonFor(resource: string, policy: DeletionPolicy): Reason {
    return {
      resource,
      field: "exists",
      desired: policy === "delete" ? `absent (${this.why})` : `retained, tagged orphaned (${this.why})`,
      actual: "present",
    };
  }

  /** Resources of a kind to delete (not retained). */
  deletable(kind: Kind): Owned[] {
    return this.resources.filter(
      (resource) => resource.kind === kind && resource.ownership.deletionPolicy === "delete",
    );
  }
}

/** Retained resources, then the profiles and roles of one group, in the order IAM allows. */
export function draftGroup(
  manifest: string,
  removed: boolean,
  resources: readonly Owned[],
  world: PruneWorld,
): Draft {
  const draft = new Draft(manifest, removed, resources);
  if (removed) markOrphans(draft, world);
  for (const ref of draft.deletable("instanceProfile")) {
    const profile = world.snapshot.instanceProfiles.get(iamNameKey(ref.name));
    if (profile !== undefined) removeProfile(draft, profile, world);
  }
  for (const ref of draft.deletable("role")) {
    const role = world.snapshot.roles.get(iamNameKey(ref.name));
    if (role !== undefined) removeRole(draft, role, world);
  }
  return draft;
}

/** Policies last: each goes once no role that stays will still hold it after this pass. */
export function removePolicies(draft: Draft, world: PruneWorld): void {
  for (const ref of draft.deletable("policy")) {
    const policy = world.snapshot.policies.get(iamNameKey(ref.name));
    if (policy !== undefined) removePolicy(draft, policy, world);
  }
}

/** Retained: kept in place, and said to be orphaned, once. */
function markOrphans(draft: Draft, world: PruneWorld): void {
  const { manifest } = draft;
  const tags = { [ownershipTagKeys.orphaned]: "true" };
  for (const resource of draft.resources) {
    if (resource.ownership.deletionPolicy !== "retain" || resource.ownership.orphaned) continue;
    const reason = draft.reasonFor(labelOf(resource), "retain");
    draft.drift.push(reason);
    if (resource.kind === "policy") {
      const arn = world.snapshot.policies.get(iamNameKey(resource.name))?.arn;
      if (arn !== undefined)
        draft.actions.push({ kind: "tagPolicy", manifest, reason, policyArn: arn, tags });
    } else if (resource.kind === "role") {
      draft.actions.push({ kind: "tagRole", manifest, reason, roleName: resource.name, tags });
    } else {
      draft.actions.push({ kind: "tagInstanceProfile", manifest, reason, profileName: resource.name, tags });
    }
  }
}

/** A profile: its instances released (unless another manifest moves them), its role taken out, deleted. */
function removeProfile(draft: Draft, profile: ObservedInstanceProfile, world: PruneWorld): void {
  const { manifest } = draft;
  const profileLabel = label.instanceProfile(profile.name);
  const untouchable = world.keptProfiles.get(iamNameKey(profile.name));
  if (untouchable !== undefined) {
    // Deleting it would leave those instances pointing at nothing; they are not ours to change this pass.
    draft.issues.push(
      deferred(
        profileLabel,
        `${profileLabel} is still held by ${untouchable.join(", ")}, which is left as it is this pass; it is removed once released`,
      ),
    );
    return;
  }
  const reason = draft.reasonFor(profileLabel, "delete");
  draft.drift.push(reason);
  for (const association of world.snapshot.associations.values()) {
    if (iamNameKey(nameFromArn(association.profileArn)) !== iamNameKey(profile.name)) continue;
    if (world.options.reassignedInstances.has(association.instanceId)) continue;
    draft.actions.push({
      kind: "disassociateInstanceProfile",
      manifest,
      reason: { ...reason, resource: label.instance(association.instanceId), field: "association" },
      instanceId: association.instanceId,
      associationId: association.associationId,
    });
  }
  for (const roleName of profile.roleNames)
    draft.actions.push({
      kind: "removeRoleFromInstanceProfile",
      manifest,
      reason,
      profileName: profile.name,
      roleName,
    });
  draft.actions.push({ kind: "deleteInstanceProfile", manifest, reason, profileName: profile.name });
}

/** A role: out of every other profile, policies detached, inline policies deleted, then the role. */
function removeRole(draft: Draft, role: ObservedRole, world: PruneWorld): void {
  const { manifest } = draft;
  const reason = draft.reasonFor(label.role(role.name), "delete");
  const outOfProfiles = releaseFromProfiles(draft, role, reason, world);
  if ("blockedBy" in outOfProfiles) {
    draft.issues.push(outOfProfiles.blockedBy);
    return;
  }
  draft.drift.push(reason);
  draft.actions.push(...outOfProfiles.actions);
  for (const arn of role.attachedPolicyArns)
    draft.actions.push({ kind: "detachRolePolicy", manifest, reason, roleName: role.name, policyArn: arn });
  for (const inline of role.inlinePolicyNames)
    draft.actions.push({
      kind: "deleteRolePolicy",
      manifest,
      reason,
      roleName: role.name,
      inlinePolicyName: inline,
    });
  draft.actions.push({ kind: "deleteRole", manifest, reason, roleName: role.name });
  world.deletedRoles.add(iamNameKey(role.name));
}

/** Takes a role out of the other profiles holding it, or says why it must stay this pass. */
function releaseFromProfiles(
  draft: Draft,
  role: ObservedRole,
  reason: Reason,
  world: PruneWorld,
): { readonly actions: Action[] } | { readonly blockedBy: Issue } {
  const roleLabel = label.role(role.name);
  const actions: Action[] = [];
  for (const other of world.snapshot.instanceProfiles.values()) {
    if (!other.roleNames.some((held) => iamNameKey(held) === iamNameKey(role.name))) continue;
    const otherKey = iamNameKey(other.name);
    if (world.keptProfiles.has(otherKey))
      return {
        blockedBy: deferred(
          roleLabel,
          `${roleLabel} is in instance profile ${other.name}, which stays for now; it is removed with it`,
        ),
      };
    if (world.deletingProfiles.has(otherKey)) continue; // its own removal takes the role out first
    const wanter = world.wantedProfiles.get(otherKey);
    if (wanter !== undefined) {
      // That manifest's converging actions, which run before any removal, take the role out; if it cannot act
      // this pass (blocked, observe mode), the role must wait, or DeleteRole fails on every pass.
      if (world.options.actingManifests.has(wanter)) continue;
      return {
        blockedBy: deferred(
          roleLabel,
          `${roleLabel} is in instance profile ${other.name} of manifest "${wanter}", which cannot change it this pass`,
        ),
      };
    }
    const owner = other.tags === undefined ? undefined : readOwnership(other.tags);
    if (owner?.managed !== true) {
      return {
        blockedBy: {
          code: "NotOwned",
          severity: "error",
          message: `${roleLabel} is held by instance profile ${other.name}, which rolecall does not own; the role is left in place`,
          resource: roleLabel,
        },
      };
    }
    actions.push({
      kind: "removeRoleFromInstanceProfile",
      manifest: draft.manifest,
      reason,
      profileName: other.name,
      roleName: role.name,
    });
  }
  return { actions };
}

function removePolicy(draft: Draft, policy: ObservedPolicy, world: PruneWorld): void {
  const { manifest } = draft;
  const policyLabel = label.policy(policy.name);
  const holders = [...world.snapshot.roles.values()].filter(
    (role) =>
      role.attachedPolicyArns.includes(policy.arn) &&
      !world.deletedRoles.has(iamNameKey(role.name)) &&
      !world.cleanedRoles.has(iamNameKey(role.name)),
  );
  if (holders.length > 0) {
    const unowned = holders.filter((role) => !readOwnership(role.tags).managed);
    draft.issues.push(
      unowned.length > 0
        ? {
            code: "NotOwned",
            severity: "error",
            message: `${policyLabel} is still attached to ${unowned.map((role) => label.role(role.name)).join(", ")}, which rolecall does not own; the policy is left in place`,
            resource: policyLabel,
          }
        : deferred(
            policyLabel,
            `${policyLabel} is still attached to ${holders.map((role) => label.role(role.name)).join(", ")}, which stays; it is removed once detached`,
          ),
    );
    return;
  }
  const reason = draft.reasonFor(policyLabel, "delete");
  draft.drift.push(reason);
  for (const version of policy.versions) {
    if (!version.isDefault)
      draft.actions.push({
        kind: "deletePolicyVersion",
        manifest,
        reason,
        policyArn: policy.arn,
        versionId: version.id,
      });
  }
  draft.actions.push({ kind: "deletePolicy", manifest, reason, policyArn: policy.arn });
}

function labelOf(resource: Owned): string {
  if (resource.kind === "policy") return label.policy(resource.name);
  return resource.kind === "role" ? label.role(resource.name) : label.instanceProfile(resource.name);
}
