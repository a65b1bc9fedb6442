import type { DesiredAccess } from "../desired/desired-access.js";
import { iamNameKey } from "../desired/iam-names.js";
import {
  manifestFromPolicyDescription,
  ownershipTagKeys,
  readOwnership,
  type Ownership,
} from "../desired/ownership.js";
import type { DeletionPolicy } from "../manifest/instance-access.js";
import { nameFromArn, type Snapshot } from "../observed/snapshot.js";
import { isDestructive, type Action, type Reason } from "../plan/action.js";
import type { DiffContext, Issue } from "./diff-context.js";
import { label } from "./labels.js";

export interface PruneOptions {
  /** Some invalid file hid its manifest names: nothing may be removed, it could be theirs. */
  readonly unnamedInvalid: boolean;
  /** Allow one pass to remove more than half of the managed manifests. */
  readonly allowMassPrune: boolean;
  /** Instances that a manifest in force is about to take over: their profile is replaced, not removed. */
  readonly reassignedInstances: ReadonlySet<string>;
}

export interface PruneGroup {
  readonly manifest: string;
  /** The manifest no longer exists (as opposed to a manifest in force that renamed a resource). */
  readonly removed: boolean;
  readonly actions: Action[];
  readonly drift: Reason[];
  readonly issues: Issue[];
}

export interface PruneResult {
  readonly groups: ReadonlyMap<string, PruneGroup>;
  /** Why nothing was removed this pass, when something would have been. */
  readonly suspended: Issue | undefined;
}

type Kind = "policy" | "role" | "instanceProfile";

interface Owned {
  readonly kind: Kind;
  readonly name: string;
  readonly ownership: Ownership;
}

/**
 * Finds what rolecall owns but no manifest in force wants (manifests removed, or resources renamed) and plans its
 * removal in the safe order, or, for deletionPolicy retain, marks it orphaned and leaves it in place.
 */
export function planPrune(snapshot: Snapshot, context: DiffContext, options: PruneOptions): PruneResult {
  const wanted = wantedNames(context.desired);
  const owned: Owned[] = [];
  for (const role of snapshot.roles.values())
    owned.push({ kind: "role", name: role.name, ownership: readOwnership(role.tags) });
  for (const profile of snapshot.instanceProfiles.values()) {
    if (profile.tags !== undefined)
      owned.push({ kind: "instanceProfile", name: profile.name, ownership: readOwnership(profile.tags) });
  }
  const unknownPolicies: string[] = [];
  for (const policy of snapshot.policies.values()) {
    if (policy.tags !== undefined)
      owned.push({ kind: "policy", name: policy.name, ownership: readOwnership(policy.tags) });
    else {
      const marker = manifestFromPolicyDescription(policy.description);
      const holder = marker === undefined ? undefined : context.desired.get(marker);
      if (marker !== undefined && holder?.policy.name !== policy.name) unknownPolicies.push(policy.name);
    }
  }

  const managedManifests = new Set<string>();
  const candidates = new Map<string, Owned[]>();
  for (const resource of owned) {
    const owner = resource.ownership.manifest;
    if (!resource.ownership.managed || owner === undefined) continue;
    if (!resource.ownership.orphaned) managedManifests.add(owner);
    if (wanted[resource.kind].has(iamNameKey(resource.name))) continue; // wanted by a manifest in force
    if (context.protectedNames.has(owner)) continue;
    const list = candidates.get(owner) ?? [];
    list.push(resource);
    candidates.set(owner, list);
  }

  const groups = new Map<string, PruneGroup>();
  for (const [manifest, resources] of candidates) {
    const group = planGroup(
      manifest,
      !context.desired.has(manifest),
      resources,
      snapshot,
      options,
      wanted.instanceProfile,
    );
    if (group.actions.length > 0 || group.issues.length > 0) groups.set(manifest, group);
  }
  for (const name of unknownPolicies) {
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

  const deleting = [...groups.values()].filter((group) => group.removed && group.actions.some(isDestructive));
  let suspended: Issue | undefined;
  if (deleting.length > 0 && options.unnamedInvalid) {
    suspended = {
      code: "PruneSuspended",
      severity: "warning",
      message:
        "an invalid manifest file could not be read far enough to know its names, so nothing is removed until it is fixed",
    };
  } else if (!options.allowMassPrune && deleting.length * 2 > managedManifests.size) {
    suspended = {
      code: "PruneGuardTripped",
      severity: "error",
      message: `this pass would remove ${deleting.length} of ${managedManifests.size} managed manifests (${deleting.map((group) => group.manifest).join(", ")}); more than half at once looks like a mistake, so nothing is removed (allow it with --allow-mass-prune)`,
    };
  }
  if (suspended !== undefined) {
    for (const group of groups.values()) {
      if (!group.actions.some(isDestructive)) continue;
      groups.set(group.manifest, {
        ...group,
        actions: group.actions.filter((action) => !isDestructive(action)),
        issues: [...group.issues, suspended],
      });
    }
  }
  return { groups, suspended };
}

function wantedNames(desired: ReadonlyMap<string, DesiredAccess>): Record<Kind, Set<string>> {
  const wanted: Record<Kind, Set<string>> = {
    policy: new Set(),
    role: new Set(),
    instanceProfile: new Set(),
  };
  for (const access of desired.values()) {
    wanted.policy.add(iamNameKey(access.policy.name));
    wanted.role.add(iamNameKey(access.role.name));
    wanted.instanceProfile.add(iamNameKey(access.instanceProfile.name));
  }
  return wanted;
}

function planGroup(
  manifest: string,
  removed: boolean,
  resources: readonly Owned[],
  snapshot: Snapshot,
  options: PruneOptions,
  wantedProfiles: ReadonlySet<string>,
): PruneGroup {
  const actions: Action[] = [];
  const drift: Reason[] = [];
  const issues: Issue[] = [];
  const why = removed ? `manifest "${manifest}" was removed` : `manifest "${manifest}" no longer names it`;
  const reasonFor = (resource: string, policy: DeletionPolicy): Reason => ({
    resource,
    field: "exists",
    desired: policy === "delete" ? `absent (${why})` : `retained, tagged orphaned (${why})`,
    actual: "present",
  });
  const byKind = (kind: Kind, policy: DeletionPolicy) =>
    resources.filter((resource) => resource.kind === kind && resource.ownership.deletionPolicy === policy);

  // Retained: keep in place, say it is orphaned, once.
  for (const resource of resources) {
    if (resource.ownership.deletionPolicy !== "retain" || resource.ownership.orphaned || !removed) continue;
    const resourceLabel = labelOf(resource);
    const reason = reasonFor(resourceLabel, "retain");
    drift.push(reason);
    const tags = { [ownershipTagKeys.orphaned]: "true" };
    if (resource.kind === "policy") {
      const arn = snapshot.policies.get(iamNameKey(resource.name))?.arn;
      if (arn !== undefined) actions.push({ kind: "tagPolicy", manifest, reason, policyArn: arn, tags });
    } else if (resource.kind === "role") {
      actions.push({ kind: "tagRole", manifest, reason, roleName: resource.name, tags });
    } else {
      actions.push({ kind: "tagInstanceProfile", manifest, reason, profileName: resource.name, tags });
    }
  }

  // Deleted, in the order IAM allows: instances, profile, role, policy.
  const profiles = byKind("instanceProfile", "delete");
  const roles = byKind("role", "delete");
  const policies = byKind("policy", "delete");
  const deletedRoles = new Set(roles.map((role) => iamNameKey(role.name)));
  for (const profileRef of profiles) {
    const profile = snapshot.instanceProfiles.get(iamNameKey(profileRef.name));
    if (profile === undefined) continue;
    const reason = reasonFor(label.instanceProfile(profile.name), "delete");
    drift.push(reason);
    for (const association of snapshot.associations.values()) {
      if (iamNameKey(nameFromArn(association.profileArn)) !== iamNameKey(profile.name)) continue;
      if (options.reassignedInstances.has(association.instanceId)) continue;
      actions.push({
        kind: "disassociateInstanceProfile",
        manifest,
        reason: { ...reason, resource: label.instance(association.instanceId), field: "association" },
        instanceId: association.instanceId,
        associationId: association.associationId,
      });
    }
  }
  for (const profileRef of profiles) {
    const profile = snapshot.instanceProfiles.get(iamNameKey(profileRef.name));
    if (profile === undefined) continue;
    const reason = reasonFor(label.instanceProfile(profile.name), "delete");
    for (const roleName of profile.roleNames) {
      actions.push({
        kind: "removeRoleFromInstanceProfile",
        manifest,
        reason,
        profileName: profile.name,
        roleName,
      });
    }
    actions.push({ kind: "deleteInstanceProfile", manifest, reason, profileName: profile.name });
  }
  for (const roleRef of roles) {
    const role = snapshot.roles.get(iamNameKey(roleRef.name));
    if (role === undefined) continue;
    const reason = reasonFor(label.role(role.name), "delete");
    drift.push(reason);
    for (const other of snapshot.instanceProfiles.values()) {
      if (profiles.some((profile) => iamNameKey(profile.name) === iamNameKey(other.name))) continue;
      if (other.roleNames.some((held) => iamNameKey(held) === iamNameKey(role.name))) {
        const owner = other.tags === undefined ? undefined : readOwnership(other.tags);
        if (owner?.managed === true) {
          // A profile that a manifest in force wants (one that renamed its role): that manifest's converging
          // actions, which run before any removal, already take the role out. A second removal is a wasted
          // mutating call on AWS (NoSuchEntity) and fails outright on moto (HTTP 500).
          if (wantedProfiles.has(iamNameKey(other.name))) continue;
          actions.push({
            kind: "removeRoleFromInstanceProfile",
            manifest,
            reason,
            profileName: other.name,
            roleName: role.name,
          });
        } else {
          issues.push({
            code: "NotOwned",
            severity: "error",
            message: `${label.role(role.name)} is held by instance profile ${other.name}, which rolecall does not own; the role is left in place`,
            resource: label.role(role.name),
          });
        }
      }
    }
    if (issues.some((issue) => issue.resource === label.role(role.name))) continue;
    for (const arn of role.attachedPolicyArns)
      actions.push({ kind: "detachRolePolicy", manifest, reason, roleName: role.name, policyArn: arn });
    for (const inline of role.inlinePolicyNames) {
      actions.push({
        kind: "deleteRolePolicy",
        manifest,
        reason,
        roleName: role.name,
        inlinePolicyName: inline,
      });
    }
    actions.push({ kind: "deleteRole", manifest, reason, roleName: role.name });
  }
  for (const policyRef of policies) {
    const policy = snapshot.policies.get(iamNameKey(policyRef.name));
    if (policy === undefined) continue;
    const resourceLabel = label.policy(policy.name);
    const holders = [...snapshot.roles.values()].filter(
      (role) =>
        role.attachedPolicyArns.includes(policy.arn) &&
        !deletedRoles.has(iamNameKey(role.name)) &&
        !readOwnership(role.tags).managed,
    );
    if (holders.length > 0) {
      issues.push({
        code: "NotOwned",
        severity: "error",
        message: `${resourceLabel} is still attached to ${holders.map((role) => label.role(role.name)).join(", ")}, which rolecall does not own; the policy is left in place`,
        resource: resourceLabel,
      });
      continue;
    }
    const reason = reasonFor(resourceLabel, "delete");
    drift.push(reason);
    for (const version of policy.versions) {
      if (!version.isDefault)
        actions.push({
          kind: "deletePolicyVersion",
          manifest,
          reason,
          policyArn: policy.arn,
          versionId: version.id,
        });
    }
    actions.push({ kind: "deletePolicy", manifest, reason, policyArn: policy.arn });
  }
  return { manifest, removed, actions, drift, issues };
}

function labelOf(resource: Owned): string {
  return resource.kind === "policy"
    ? label.policy(resource.name)
    : resource.kind === "role"
      ? label.role(resource.name)
      : label.instanceProfile(resource.name);
}
