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
import type { AssociationState, DiffContext, InstanceStatus, Issue } from "./manifest-plan.js";
import { label } from "./labels.js";

export interface InstanceDiff {
  readonly actions: Action[];
  readonly drift: Reason[];
  readonly issues: Issue[];
  readonly instances: InstanceStatus[];
}

const selectable = new Set<string>(selectableInstanceStates);

/** One selectable instance as the pass found it: its current association, and who owns the profile it holds. */
interface Found {
  readonly instance: ObservedInstance;
  readonly association: ObservedAssociation | undefined;
  readonly heldName: string | undefined;
  readonly owner: string | undefined;
}

/** The instance diffs being collected, one per manifest. */
class Assignment {
  readonly diffs = new Map<string, InstanceDiff>();

  for(manifest: string): InstanceDiff {
    let diff = this.diffs.get(manifest);
    if (diff === undefined) {
      diff = { actions: [], drift: [], issues: [], instances: [] };
      this.diffs.set(manifest, diff);
    }
    return diff;
  }

  status(manifest: string, found: Found, association: AssociationState): void {
    this.for(manifest).instances.push({ id: found.instance.id, state: found.instance.state, association });
  }
}

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
  const assignment = new Assignment();
  const desiredList = [...context.desired.values()];
  reportMissingInstances(desiredList, snapshot, assignment);
  const index = new SelectorIndex(desiredList);
  for (const instance of snapshot.instances.values()) {
    if (!selectable.has(instance.state)) continue;
    const found = foundInstance(snapshot, instance);
    const selectors = index.selecting(instance.id, instance.tags);
    const [only] = selectors;
    if (selectors.length > 1) claimedBySeveral(selectors, found, assignment);
    else if (only === undefined) releaseUnselected(found, context, blocked, assignment);
    else if (blocked.has(only.manifest))
      assignment.status(only.manifest, found, found.heldName === undefined ? "pending" : "conflict");
    else assignTo(only, found, snapshot, context, assignment);
  }
  for (const diff of assignment.diffs.values()) diff.instances.sort((a, b) => (a.id < b.id ? -1 : 1));
  return assignment.diffs;
}

function foundInstance(snapshot: Snapshot, instance: ObservedInstance): Found {
  const association = snapshot.associations.get(instance.id);
  const heldName = association === undefined ? undefined : nameFromArn(association.profileArn);
  const profile = heldName === undefined ? undefined : snapshot.instanceProfiles.get(iamNameKey(heldName));
  const owner = profile?.tags === undefined ? undefined : readOwnership(profile.tags).manifest;
  return { instance, association, heldName, owner };
}

/** Instances listed by ID that are not there (or not selectable): worth a warning, not a failure. */
function reportMissingInstances(
  desiredList: readonly DesiredAccess[],
  snapshot: Snapshot,
  assignment: Assignment,
): void {
  for (const desired of desiredList) {
    for (const id of desired.selector.instanceIds) {
      const instance = snapshot.instances.get(id);
      if (instance !== undefined && selectable.has(instance.state)) continue;
      assignment.for(desired.manifest).issues.push({
        code: "InstanceNotFound",
        severity: "warning",
        message: `instance ${id} is listed in instanceIds but ${instance === undefined ? "does not exist" : `is ${instance.state}`}`,
        resource: label.instance(id),
      });
    }
  }
}

function claimedBySeveral(selectors: readonly DesiredAccess[], found: Found, assignment: Assignment): void {
  const names = selectors.map((desired) => desired.manifest);
  for (const desired of selectors) {
    assignment.for(desired.manifest).issues.push({
      code: "InstanceClaimedByManifests",
      severity: "error",
      message: `instance ${found.instance.id} is selected by several manifests (${names.join(", ")}); it is left as it is`,
      resource: label.instance(found.instance.id),
    });
    assignment.status(desired.manifest, found, "conflict");
  }
}

/** Access follows the manifest: an instance it no longer selects loses its profile. */
function releaseUnselected(
  found: Found,
  context: DiffContext,
  blocked: ReadonlySet<string>,
  assignment: Assignment,
): void {
  const { instance, association, heldName, owner } = found;
  const holder = owner === undefined ? undefined : context.desired.get(owner);
  if (holder === undefined || association === undefined || blocked.has(holder.manifest)) return;
  const diff = assignment.for(holder.manifest);
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
  assignment.status(holder.manifest, found, "excluded");
}

/** The one manifest that selects the instance, and may act: its profile, unless someone else's must stay. */
function assignTo(
  desired: DesiredAccess,
  found: Found,
  snapshot: Snapshot,
  context: DiffContext,
  assignment: Assignment,
): void {
  const { instance, association, heldName } = found;
  const diff = assignment.for(desired.manifest);
  const wanted = desired.instanceProfile.name;
  if (heldName !== undefined && association !== undefined && iamNameKey(heldName) === iamNameKey(wanted)) {
    holdsWantedName(desired, found, association, snapshot, assignment);
    return;
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
    assignment.status(desired.manifest, found, "pending");
    return;
  }
  const refusal = refusalToReplace(desired, found, context);
  if (refusal !== undefined) {
    diff.issues.push(refusal);
    assignment.status(desired.manifest, found, "conflict");
    return;
  }
  diff.drift.push(reason);
  diff.actions.push(...replaceActions(desired, instance, association, reason));
  assignment.status(desired.manifest, found, "pending");
}

/**
 * The instance holds a profile of the wanted name. The name is not enough: a profile deleted and re-created (by
 * hand, or by rolecall repairing that deletion) has a new ID, and EC2 keeps the instance on the dead one, whose
 * credentials no longer work.
 */
function holdsWantedName(
  desired: DesiredAccess,
  found: Found,
  association: ObservedAssociation,
  snapshot: Snapshot,
  assignment: Assignment,
): void {
  const wanted = desired.instanceProfile.name;
  const current = snapshot.instanceProfiles.get(iamNameKey(wanted));
  const stale =
    current === undefined ||
    (association.profileId !== undefined && current.id !== undefined && association.profileId !== current.id);
  if (!stale) {
    assignment.status(desired.manifest, found, association.state === "associated" ? "associated" : "pending");
    return;
  }
  const reason: Reason = {
    resource: label.instance(found.instance.id),
    field: "association",
    desired: `${wanted}${current?.id === undefined ? "" : ` (${current.id})`}`,
    actual: `${found.heldName ?? ""} (${association.profileId ?? "?"}, deleted)`,
  };
  const diff = assignment.for(desired.manifest);
  diff.drift.push(reason);
  diff.actions.push(...replaceActions(desired, found.instance, association, reason));
  assignment.status(desired.manifest, found, "pending");
}

/** Why an instance holding another profile keeps it: a broken manifest's, or a foreign one with onConflict skip. */
function refusalToReplace(desired: DesiredAccess, found: Found, context: DiffContext): Issue | undefined {
  const { instance, heldName, owner } = found;
  if (owner !== undefined && context.protectedNames.has(owner)) {
    return {
      code: "InstanceClaimedByInvalidManifest",
      severity: "error",
      message: `instance ${instance.id} holds ${heldName ?? "a profile"} of manifest "${owner}", whose file is invalid; it is left as it is`,
      resource: label.instance(instance.id),
    };
  }
  if (owner === undefined && desired.onConflict === "skip") {
    return {
      code: "ForeignInstanceProfile",
      severity: "warning",
      message: `instance ${instance.id} holds instance profile ${heldName ?? "?"}, which rolecall does not own; skipped (set spec.onConflict: replace to take it over)`,
      resource: label.instance(instance.id),
    };
  }
  return undefined;
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
