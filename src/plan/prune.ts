import type { DesiredAccess } from "../desired/desired-access.js";
import { iamNameKey } from "../desired/iam-names.js";
import {
  manifestFromPolicyDescription,
  ownershipTagKeys,
  readOwnership,
  type Ownership,
  type Tags,
} from "../desired/ownership.js";
import type { DeletionPolicy } from "../manifest/instance-access.js";
import { nameFromArn, type Snapshot } from "../observed/snapshot.js";
import { isDestructive, type Action, type Reason } from "./action.js";
import type { DiffContext, Issue } from "./manifest-plan.js";
import { label } from "./labels.js";

export interface PruneOptions {
  /** Some invalid file hid its manifest names: nothing may be removed, it could be theirs. */
  readonly unnamedInvalid: boolean;
  /** Allow one pass to remove more than half of the managed manifests. */
  readonly allowMassPrune: boolean;
  /** Instances that a manifest in force is about to take over: their profile is replaced, not removed. */
  readonly reassignedInstances: ReadonlySet<string>;
  /** Instances left as they are this pass (claimed by several manifests, or by a blocked one): hands off. */
  readonly untouchableInstances: ReadonlySet<string>;
  /** Manifests in force whose converging actions run this pass (enforce mode, not blocked). */
  readonly actingManifests: ReadonlySet<string>;
  /**
   * This controller's IAM path: only resources under it (or taken over by it, per their rolecall.dev/iam-path
   * tag) are its to remove, so two rolecalls with different paths in one account never prune each other.
   */
  readonly iamPath?: string;
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
  readonly inScope: boolean;
}

/**
 * Finds what rolecall owns but no manifest in force wants (manifests removed, or resources renamed) and plans its
 * removal in the safe order, or, for deletionPolicy retain, marks it orphaned and leaves it in place.
 */
export function planPrune(snapshot: Snapshot, context: DiffContext, options: PruneOptions): PruneResult {
  const wanted = wantedNames(context.desired);
  const inScope = (path: string, tags: Tags) =>
    options.iamPath === undefined ||
    path.startsWith(options.iamPath) ||
    tags[ownershipTagKeys.iamPath] === options.iamPath;
  const owned: Owned[] = [];
  for (const role of snapshot.roles.values())
    owned.push({
      kind: "role",
      name: role.name,
      ownership: readOwnership(role.tags),
      inScope: inScope(role.path, role.tags),
    });
  for (const profile of snapshot.instanceProfiles.values()) {
    if (profile.tags !== undefined)
      owned.push({
        kind: "instanceProfile",
        name: profile.name,
        ownership: readOwnership(profile.tags),
        inScope: inScope(profile.path, profile.tags),
      });
  }
  const unknownPolicies: string[] = [];
  for (const policy of snapshot.policies.values()) {
    if (policy.tags !== undefined)
      owned.push({
        kind: "policy",
        name: policy.name,
        ownership: readOwnership(policy.tags),
        inScope: inScope(policy.path, policy.tags),
      });
    else {
      const marker = manifestFromPolicyDescription(policy.description);
      const holder = marker === undefined ? undefined : context.desired.get(marker);
      if (marker !== undefined && holder?.policy.name !== policy.name && inScope(policy.path, {}))
        unknownPolicies.push(policy.name);
    }
  }

  // Manifests in force count as managed even before their resources exist.
  const managedManifests = new Set<string>(context.desired.keys());
  const candidates = new Map<string, Owned[]>();
  for (const resource of owned) {
    const owner = resource.ownership.manifest;
    if (!resource.ownership.managed || owner === undefined || !resource.inScope) continue;
    if (!resource.ownership.orphaned) managedManifests.add(owner);
    if (wanted[resource.kind].has(iamNameKey(resource.name))) continue; // wanted by a manifest in force
    if (context.protectedNames.has(owner)) continue;
    const list = candidates.get(owner) ?? [];
    list.push(resource);
    candidates.set(owner, list);
  }

  const world: PruneWorld = {
    snapshot,
    options,
    wantedProfiles: profileWanters(context.desired),
    // Roles an acting manifest wants: its converging actions detach whatever else is attached to them.
    cleanedRoles: new Set(
      [...context.desired.values()]
        .filter((desired) => options.actingManifests.has(desired.manifest))
        .map((desired) => iamNameKey(desired.role.name)),
    ),
    deletedRoles: new Set(),
    ...profilesToDelete(candidates, snapshot, options),
  };
  // Profiles and roles first, for every group: a policy may be deleted only once every role holding it goes.
  const drafts = [...candidates].map(([manifest, resources]) =>
    draftGroup(manifest, !context.desired.has(manifest), resources, world),
  );
  const groups = new Map<string, PruneGroup>();
  for (const draft of drafts) {
    const group = finishGroup(draft, world);
    if (group.actions.length > 0 || group.issues.length > 0) groups.set(group.manifest, group);
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

  // Every manifest leaving management this pass counts, retained ones too: a directory emptied by mistake must
  // not lose its deletable half just because the other half is retained.
  const removing = [...groups.values()].filter((group) => group.removed && group.actions.length > 0);
  const removingDestructively = removing.some((group) => group.actions.some(isDestructive));
  let suspended: Issue | undefined;
  if (removingDestructively && options.unnamedInvalid) {
    suspended = {
      code: "PruneSuspended",
      severity: "warning",
      message:
        "an invalid manifest file could not be read far enough to know its names, so nothing is removed until it is fixed",
    };
  } else if (!options.allowMassPrune && removing.length * 2 > managedManifests.size) {
    suspended = {
      code: "PruneGuardTripped",
      severity: "error",
      message: `this pass would remove ${removing.length} of ${managedManifests.size} managed manifests (${removing.map((group) => group.manifest).join(", ")}); more than half at once looks like a mistake, so nothing is removed (allow it with --allow-mass-prune)`,
    };
  }
  if (suspended !== undefined) {
    // Hold everything of removed manifests (their orphan tags too, so the count stays the same next pass), and
    // anything destructive of the rest.
    for (const group of groups.values()) {
      const held = group.removed ? group.actions : group.actions.filter(isDestructive);
      if (held.length === 0) continue;
      groups.set(group.manifest, {
        ...group,
        actions: group.actions.filter((action) => !held.includes(action)),
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

interface PruneWorld {
  readonly snapshot: Snapshot;
  readonly options: PruneOptions;
  /** Profile (lower-cased name) → the manifest in force that wants it. */
  readonly wantedProfiles: ReadonlyMap<string, string>;
  readonly cleanedRoles: ReadonlySet<string>;
  /** Filled while drafting: roles some group deletes this pass. */
  readonly deletedRoles: Set<string>;
  /** Profiles (lower-cased) some group deletes this pass: each takes its own roles out first. */
  readonly deletingProfiles: ReadonlySet<string>;
  /** Profiles that would be deleted but an instance that must be left alone still holds: they stay this pass. */
  readonly keptProfiles: ReadonlyMap<string, readonly string[]>;
}

function profilesToDelete(
  candidates: ReadonlyMap<string, readonly Owned[]>,
  snapshot: Snapshot,
  options: PruneOptions,
): { deletingProfiles: Set<string>; keptProfiles: Map<string, string[]> } {
  const deletingProfiles = new Set<string>();
  const keptProfiles = new Map<string, string[]>();
  for (const resources of candidates.values()) {
    for (const resource of resources) {
      if (resource.kind !== "instanceProfile" || resource.ownership.deletionPolicy !== "delete") continue;
      const key = iamNameKey(resource.name);
      const untouchable = [...snapshot.associations.values()]
        .filter((association) => iamNameKey(nameFromArn(association.profileArn)) === key)
        .map((association) => association.instanceId)
        .filter((instanceId) => options.untouchableInstances.has(instanceId));
      if (untouchable.length > 0) keptProfiles.set(key, untouchable);
      else deletingProfiles.add(key);
    }
  }
  return { deletingProfiles, keptProfiles };
}

interface Draft {
  readonly manifest: string;
  readonly removed: boolean;
  readonly resources: readonly Owned[];
  readonly actions: Action[];
  readonly drift: Reason[];
  readonly issues: Issue[];
  readonly reasonFor: (resource: string, policy: DeletionPolicy) => Reason;
}

function profileWanters(desired: ReadonlyMap<string, DesiredAccess>): Map<string, string> {
  return new Map(
    [...desired.values()].map((access) => [iamNameKey(access.instanceProfile.name), access.manifest]),
  );
}

const deferred = (resource: string, message: string): Issue => ({
  code: "RemovalDeferred",
  severity: "warning",
  message,
  resource,
});

/** Retained resources, and the profiles and roles of one group, in the order IAM allows. */
function draftGroup(
  manifest: string,
  removed: boolean,
  resources: readonly Owned[],
  world: PruneWorld,
): Draft {
  const { snapshot, options } = world;
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
  const byKind = (kind: Kind) =>
    resources.filter((resource) => resource.kind === kind && resource.ownership.deletionPolicy === "delete");

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

  // Profiles: release the instances (unless another manifest moves them), take the role out, delete.
  for (const profileRef of byKind("instanceProfile")) {
    const profile = snapshot.instanceProfiles.get(iamNameKey(profileRef.name));
    if (profile === undefined) continue;
    const profileLabel = label.instanceProfile(profile.name);
    const untouchable = world.keptProfiles.get(iamNameKey(profile.name));
    if (untouchable !== undefined) {
      // Deleting it would leave those instances pointing at nothing; they are not ours to change this pass.
      issues.push(
        deferred(
          profileLabel,
          `${profileLabel} is still held by ${untouchable.join(", ")}, which is left as it is this pass; it is removed once released`,
        ),
      );
      continue;
    }
    const holders = [...snapshot.associations.values()].filter(
      (association) => iamNameKey(nameFromArn(association.profileArn)) === iamNameKey(profile.name),
    );
    const reason = reasonFor(profileLabel, "delete");
    drift.push(reason);
    for (const association of holders) {
      if (options.reassignedInstances.has(association.instanceId)) continue;
      actions.push({
        kind: "disassociateInstanceProfile",
        manifest,
        reason: { ...reason, resource: label.instance(association.instanceId), field: "association" },
        instanceId: association.instanceId,
        associationId: association.associationId,
      });
    }
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

  // Roles: out of every other profile, policies detached, inline policies deleted, then the role.
  for (const roleRef of byKind("role")) {
    const role = snapshot.roles.get(iamNameKey(roleRef.name));
    if (role === undefined) continue;
    const roleLabel = label.role(role.name);
    const reason = reasonFor(roleLabel, "delete");
    const removals: Action[] = [];
    let blockedBy: Issue | undefined;
    for (const other of snapshot.instanceProfiles.values()) {
      if (!other.roleNames.some((held) => iamNameKey(held) === iamNameKey(role.name))) continue;
      const otherKey = iamNameKey(other.name);
      if (world.keptProfiles.has(otherKey)) {
        blockedBy = deferred(
          roleLabel,
          `${roleLabel} is in instance profile ${other.name}, which stays for now; it is removed with it`,
        );
        break;
      }
      if (world.deletingProfiles.has(otherKey)) continue; // its own removal takes the role out first
      const wanter = world.wantedProfiles.get(otherKey);
      if (wanter !== undefined) {
        // That manifest's converging actions, which run before any removal, take the role out; if it cannot act
        // this pass (blocked, observe mode), the role must wait, or DeleteRole fails on every pass.
        if (options.actingManifests.has(wanter)) continue;
        blockedBy = deferred(
          roleLabel,
          `${roleLabel} is in instance profile ${other.name} of manifest "${wanter}", which cannot change it this pass`,
        );
        break;
      }
      const owner = other.tags === undefined ? undefined : readOwnership(other.tags);
      if (owner?.managed !== true) {
        blockedBy = {
          code: "NotOwned",
          severity: "error",
          message: `${roleLabel} is held by instance profile ${other.name}, which rolecall does not own; the role is left in place`,
          resource: roleLabel,
        };
        break;
      }
      removals.push({
        kind: "removeRoleFromInstanceProfile",
        manifest,
        reason,
        profileName: other.name,
        roleName: role.name,
      });
    }
    if (blockedBy !== undefined) {
      issues.push(blockedBy);
      continue;
    }
    drift.push(reason);
    actions.push(...removals);
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
    world.deletedRoles.add(iamNameKey(role.name));
  }
  return { manifest, removed, resources, actions, drift, issues, reasonFor };
}

/** Policies last: each goes once no role that stays will still hold it after this pass. */
function finishGroup(draft: Draft, world: PruneWorld): PruneGroup {
  const { manifest, actions, drift, issues, reasonFor } = draft;
  for (const policyRef of draft.resources.filter(
    (resource) => resource.kind === "policy" && resource.ownership.deletionPolicy === "delete",
  )) {
    const policy = world.snapshot.policies.get(iamNameKey(policyRef.name));
    if (policy === undefined) continue;
    const policyLabel = label.policy(policy.name);
    const holders = [...world.snapshot.roles.values()].filter(
      (role) =>
        role.attachedPolicyArns.includes(policy.arn) &&
        !world.deletedRoles.has(iamNameKey(role.name)) &&
        !world.cleanedRoles.has(iamNameKey(role.name)),
    );
    if (holders.length > 0) {
      const unowned = holders.filter((role) => !readOwnership(role.tags).managed);
      issues.push(
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
      continue;
    }
    const reason = reasonFor(policyLabel, "delete");
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
  return { manifest, removed: draft.removed, actions, drift, issues };
}

function labelOf(resource: Owned): string {
  return resource.kind === "policy"
    ? label.policy(resource.name)
    : resource.kind === "role"
      ? label.role(resource.name)
      : label.instanceProfile(resource.name);
}
