import type { DesiredAccess } from "../desired/desired-access.js";
import { SelectorIndex } from "../desired/selector-index.js";
import { iamNameKey } from "../desired/iam-names.js";
import { readOwnership } from "../desired/ownership.js";
import {
  nameFromArn,
  selectableInstanceStates,
  type ObservedAssociation,
  type ObservedInstance,
  type Snapshot,
} from "../observed/snapshot.js";
import type { Action, Reason } from "./action.js";
import type { DiffContext, InstanceStatus, Issue } from "./manifest-plan.js";
import { label } from "./labels.js";

export interface InstanceDiff {
  readonly actions: Action[];
  readonly drift: Reason[];
  readonly issues: Issue[];
  readonly instances: InstanceStatus[];
}

const selectable = new Set<string>(selectableInstanceStates);

/**
 * Decides, for every instance, which manifest's profile it should hold, across all manifests at once: an
 * instance wanted by two manifests is left alone and reported on both, and moving an instance from one manifest
 * to another is one replace, not a race between a disassociate and an associate.
 */
export function assignInstances(
  snapshot: Snapshot,
  context: DiffContext,
  blocked: ReadonlySet<string>,
): ReadonlyMap<string, InstanceDiff> {
  const result = new Map<string, InstanceDiff>();
  const forManifest = (name: string): InstanceDiff => {
    let diff = result.get(name);
    if (diff === undefined) {
      diff = { actions: [], drift: [], issues: [], instances: [] };
      result.set(name, diff);
    }
    return diff;
  };
  const profileOwner = (association: ObservedAssociation | undefined): string | undefined => {
    if (association === undefined) return undefined;
    const profile = snapshot.instanceProfiles.get(iamNameKey(nameFromArn(association.profileArn)));
    return profile?.tags === undefined ? undefined : readOwnership(profile.tags).manifest;
  };
  const desiredList = [...context.desired.values()];
  const index = new SelectorIndex(desiredList);

  for (const desired of desiredList) {
    for (const id of desired.selector.instanceIds) {
      const instance = snapshot.instances.get(id);
      if (instance === undefined || !selectable.has(instance.state)) {
        forManifest(desired.manifest).issues.push({
          code: "InstanceNotFound",
          severity: "warning",
          message: `instance ${id} is listed in instanceIds but ${instance === undefined ? "does not exist" : `is ${instance.state}`}`,
          resource: label.instance(id),
        });
      }
    }
  }

  for (const instance of snapshot.instances.values()) {
    if (!selectable.has(instance.state)) continue;
    const association = snapshot.associations.get(instance.id);
    const heldName = association === undefined ? undefined : nameFromArn(association.profileArn);
    const owner = profileOwner(association);
    const selectors = index.selecting(instance.id, instance.tags);

    if (selectors.length > 1) {
      const names = selectors.map((desired) => desired.manifest);
      for (const desired of selectors) {
        const diff = forManifest(desired.manifest);
        diff.issues.push({
          code: "InstanceClaimedByManifests",
          severity: "error",
          message: `instance ${instance.id} is selected by several manifests (${names.join(", ")}); it is left as it is`,
          resource: label.instance(instance.id),
        });
        diff.instances.push({ id: instance.id, state: instance.state, association: "conflict" });
      }
      continue;
    }

    const [desired] = selectors;
    if (desired === undefined) {
      // Access follows the manifest: an instance it no longer selects loses its profile.
      const holder = owner === undefined ? undefined : context.desired.get(owner);
      if (holder === undefined || association === undefined || blocked.has(holder.manifest)) continue;
      const diff = forManifest(holder.manifest);
      const reason: Reason = {
        resource: label.instance(instance.id),
        field: "association",
        desired: "(none: not selected)",
        actual: heldName ?? "(none)",
      };
      diff.drift.push(reason);
      diff.actions.push({
        kind: "disassociateInstanceProfile",
        manifest: holder.manifest,
        reason,
        instanceId: instance.id,
        associationId: association.associationId,
      });
      diff.instances.push({ id: instance.id, state: instance.state, association: "excluded" });
      continue;
    }

    const diff = forManifest(desired.manifest);
    const wanted = desired.instanceProfile.name;
    if (blocked.has(desired.manifest)) {
      diff.instances.push({
        id: instance.id,
        state: instance.state,
        association: heldName === undefined ? "pending" : "conflict",
      });
      continue;
    }
    if (heldName !== undefined && association !== undefined && iamNameKey(heldName) === iamNameKey(wanted)) {
      // The right name is not enough: a profile deleted and re-created (by hand, or by rolecall repairing that
      // deletion) has a new ID, and EC2 keeps the instance on the dead one, whose credentials no longer work.
      const current = snapshot.instanceProfiles.get(iamNameKey(wanted));
      const stale =
        current === undefined ||
        (association.profileId !== undefined &&
          current.id !== undefined &&
          association.profileId !== current.id);
      if (!stale) {
        const settled = association.state === "associated";
        diff.instances.push({
          id: instance.id,
          state: instance.state,
          association: settled ? "associated" : "pending",
        });
        continue;
      }
      const staleReason: Reason = {
        resource: label.instance(instance.id),
        field: "association",
        desired: `${wanted}${current?.id === undefined ? "" : ` (${current.id})`}`,
        actual: `${heldName} (${association.profileId ?? "?"}, deleted)`,
      };
      diff.drift.push(staleReason);
      diff.actions.push(...replaceActions(desired, instance, association, staleReason));
      diff.instances.push({ id: instance.id, state: instance.state, association: "pending" });
      continue;
    }
    const reason: Reason = {
      resource: label.instance(instance.id),
      field: "association",
      desired: wanted,
      actual: heldName ?? "(none)",
    };
    if (association === undefined) {
      diff.drift.push(reason);
      diff.actions.push({
        kind: "associateInstanceProfile",
        manifest: desired.manifest,
        reason,
        instanceId: instance.id,
        profileName: wanted,
      });
      diff.instances.push({ id: instance.id, state: instance.state, association: "pending" });
      continue;
    }
    if (owner !== undefined && context.protectedNames.has(owner)) {
      diff.issues.push({
        code: "InstanceClaimedByInvalidManifest",
        severity: "error",
        message: `instance ${instance.id} holds ${heldName ?? "a profile"} of manifest "${owner}", whose file is invalid; it is left as it is`,
        resource: label.instance(instance.id),
      });
      diff.instances.push({ id: instance.id, state: instance.state, association: "conflict" });
      continue;
    }
    if (owner === undefined && desired.onConflict === "skip") {
      diff.issues.push({
        code: "ForeignInstanceProfile",
        severity: "warning",
        message: `instance ${instance.id} holds instance profile ${heldName ?? "?"}, which rolecall does not own; skipped (set spec.onConflict: replace to take it over)`,
        resource: label.instance(instance.id),
      });
      diff.instances.push({ id: instance.id, state: instance.state, association: "conflict" });
      continue;
    }
    diff.drift.push(reason);
    diff.actions.push(...replaceActions(desired, instance, association, reason));
    diff.instances.push({ id: instance.id, state: instance.state, association: "pending" });
  }

  for (const diff of result.values()) diff.instances.sort((a, b) => (a.id < b.id ? -1 : 1));
  return result;
}

/** A running instance swaps profiles in one call; a stopped one is disassociated, then associated. */
function replaceActions(
  desired: DesiredAccess,
  instance: ObservedInstance,
  association: ObservedAssociation,
  reason: Reason,
): Action[] {
  const manifest = desired.manifest;
  const profileName = desired.instanceProfile.name;
  if (instance.state === "running" || instance.state === "pending") {
    return [
      {
        kind: "replaceInstanceProfileAssociation",
        manifest,
        reason,
        instanceId: instance.id,
        associationId: association.associationId,
        profileName,
      },
    ];
  }
  return [
    {
      kind: "disassociateInstanceProfile",
      manifest,
      reason,
      instanceId: instance.id,
      associationId: association.associationId,
    },
    { kind: "associateInstanceProfile", manifest, reason, instanceId: instance.id, profileName },
  ];
}
