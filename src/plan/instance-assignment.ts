import type { DesiredComposite } from "../desired/composite.js";
import type { DesiredAccess } from "../desired/desired-access.js";
import { iamNameKey, sameIamName } from "../desired/iam-names.js";
import { policyNamed, roleNamed } from "../observed/snapshot-lookup.js";
import type { ObservedAssociation, ObservedInstance, Snapshot } from "../observed/snapshot.js";
import type { Action, Reason } from "./action.js";
import type { Found, Selection } from "./instance-selection.js";
import { isSelectable } from "./instance-selection.js";
import { label } from "./labels.js";
import type { AssociationState, DiffContext, InstanceStatus, Issue } from "./manifest-plan.js";

export interface InstanceDiff {
  readonly actions: Action[];
  readonly drift: Reason[];
  readonly issues: Issue[];
  readonly instances: InstanceStatus[];
}

/** Where an instance's access comes from this pass: the profile it should hold, and who stands behind it. */
export interface Target {
  /** The plan unit that carries the instance's actions: the manifest, or the composite. */
  readonly unit: string;
  readonly profileName: string;
  /** The manifests the instance's status (and any problem with it) is reported on. */
  readonly members: readonly DesiredAccess[];
  /** A profile rolecall does not own is replaced only when every member says onConflict: replace. */
  readonly replaceForeign: boolean;
  /** The unit may plan changes this pass: nothing it needs is held by someone else. */
  readonly acting: boolean;
}

export interface AssignmentInput {
  readonly selections: readonly Selection[];
  readonly snapshot: Snapshot;
  readonly context: DiffContext;
  /** Manifests that may not change anything this pass (a resource they want is someone else's). */
  readonly blocked: ReadonlySet<string>;
  /** The composite each set of two or more enforce-mode manifests gets, by member key; absent above the quota. */
  readonly compositeFor: (members: readonly DesiredAccess[]) => DesiredComposite | undefined;
  /** Composites that may not change anything this pass. */
  readonly blockedComposites: ReadonlySet<string>;
  /** Composites some instance should hold after this pass. */
  readonly neededComposites: ReadonlySet<string>;
  readonly maxPoliciesPerRole: number;
}

/** The instance diffs being collected, one per plan unit (manifest or composite). */
export class Assignment {
  readonly diffs = new Map<string, InstanceDiff>();

  for(unit: string): InstanceDiff {
    let diff = this.diffs.get(unit);
    if (diff === undefined) {
      diff = { actions: [], drift: [], issues: [], instances: [] };
      this.diffs.set(unit, diff);
    }
    return diff;
  }

  status(
    unit: string,
    found: Found,
    association: AssociationState,
    extra: Partial<InstanceStatus> = {},
  ): void {
    this.for(unit).instances.push({
      id: found.instance.id,
      state: found.instance.state,
      association,
      ...extra,
    });
  }

  /** The same status on every member of a target, each told which others share the instance's profile. */
  statusOnMembers(target: Target, found: Found, association: AssociationState): void {
    const names = target.members.map((member) => member.manifest);
    for (const name of names) {
      const others = names.filter((other) => other !== name);
      this.status(name, found, association, {
        ...(target.profileName === "" ? {} : { profile: target.profileName }),
        ...(others.length === 0 ? {} : { sharedWith: others }),
      });
    }
  }

  issueOnMembers(target: Target, issue: Issue): void {
    for (const member of target.members) this.for(member.manifest).issues.push(issue);
  }
}

/**
 * Decides, for every instance, which profile it should hold, across all manifests at once: the profile of the one
 * enforce-mode manifest that selects it, or the composite of all of them; observe-mode manifests only report
 * what the instance lacks. Moving an instance to another profile is one replace, never a disassociate-then-
 * associate race between plans.
 */
export function assignInstances(input: AssignmentInput): ReadonlyMap<string, InstanceDiff> {
  const assignment = new Assignment();
  reportMissingInstances(input, assignment);
  for (const selection of input.selections) assignOne(selection, input, assignment);
  for (const diff of assignment.diffs.values()) diff.instances.sort((a, b) => (a.id < b.id ? -1 : 1));
  return assignment.diffs;
}

function assignOne(selection: Selection, input: AssignmentInput, assignment: Assignment): void {
  const { found, enforce, observe } = selection;
  const held = heldBack(found, selection, input);
  if (held !== undefined) {
    for (const desired of [...enforce, ...observe]) {
      assignment.for(desired.manifest).issues.push(held.issue);
      assignment.status(
        desired.manifest,
        found,
        held.association,
        found.heldName === undefined ? {} : { profile: found.heldName },
      );
    }
    return;
  }
  const [only] = enforce;
  const [onlyObserver] = observe;
  if (only === undefined) {
    // Access follows the enforce-mode manifests: a profile none of them selects the instance for is released
    // (unless it is the own profile of an observe-mode manifest that selects it). Observe-mode manifests report;
    // one alone plans what it would do, as if it were enforced (nothing of it runs).
    if (!observe.some((desired) => desired.manifest === found.owner))
      releaseUnselected(found, input, assignment);
    if (onlyObserver !== undefined && observe.length === 1)
      assignTarget(ownTarget(onlyObserver, input), found, input, assignment);
    else reportObservers(observe, found, input, assignment);
    return;
  }
  const target =
    enforce.length === 1 ? ownTarget(only, input) : compositeTarget(enforce, found, input, assignment);
  if (target !== undefined) assignTarget(target, found, input, assignment);
  reportObservers(observe, found, input, assignment);
}

function ownTarget(desired: DesiredAccess, input: AssignmentInput): Target {
  return {
    unit: desired.manifest,
    profileName: desired.instanceProfile.name,
    members: [desired],
    replaceForeign: desired.onConflict === "replace",
    // Observe-mode manifests plan too (their plans are reported, never run).
    acting: !input.blocked.has(desired.manifest),
  };
}

/** The composite of several enforce-mode manifests, or undefined (and a conflict said) above the quota. */
function compositeTarget(
  members: readonly DesiredAccess[],
  found: Found,
  input: AssignmentInput,
  assignment: Assignment,
): Target | undefined {
  const composite = input.compositeFor(members);
  if (composite === undefined) {
    const names = members.map((member) => member.manifest).sort();
    // No profile can carry that many policies: the status names none.
    const target = { unit: "", profileName: "", members, replaceForeign: false, acting: false };
    assignment.issueOnMembers(target, {
      code: "InstanceNeedsTooManyPolicies",
      severity: "error",
      message: `instance ${found.instance.id} is selected by ${names.length} manifests (${names.join(", ")}); a role holds at most ${input.maxPoliciesPerRole} managed policies (--max-policies-per-role), so the instance is left as it is`,
      resource: label.instance(found.instance.id),
    });
    assignment.statusOnMembers(target, found, "conflict");
    return undefined;
  }
  return {
    unit: composite.name,
    profileName: composite.instanceProfile.name,
    members,
    replaceForeign: members.every((member) => member.onConflict === "replace"),
    acting:
      !input.blockedComposites.has(composite.name) &&
      members.every((member) => !input.blocked.has(member.manifest)),
  };
}

/**
 * An instance that must be left exactly as it is, whoever selects it: it holds a composite kept in place because
 * a member with deletionPolicy retain was removed, or a profile of a manifest whose file is invalid.
 */
function heldBack(
  found: Found,
  selection: Selection,
  input: AssignmentInput,
): { issue: Issue; association: AssociationState } | undefined {
  const { context } = input;
  const resource = label.instance(found.instance.id);
  const holders =
    found.heldMembers === undefined
      ? found.owner === undefined
        ? []
        : [found.owner]
      : [...found.heldMembers.keys()];
  const invalid = holders.find((name) => context.protectedNames.has(name));
  if (invalid !== undefined && [...selection.enforce, ...selection.observe].length > 0)
    return {
      association: "conflict",
      issue: {
        code: "InstanceClaimedByInvalidManifest",
        severity: "error",
        message: `instance ${found.instance.id} holds ${found.heldName ?? "a profile"} of manifest "${invalid}", whose file is invalid; it is left as it is`,
        resource,
      },
    };
  const retainedBy = [...(found.heldMembers ?? [])].find(
    ([name, policy]) =>
      policy === "retain" && !context.desired.has(name) && !context.protectedNames.has(name),
  )?.[0];
  if (retainedBy === undefined) return undefined;
  return {
    association: "retained",
    issue: {
      code: "CompositeRetained",
      severity: "warning",
      message: `instance ${found.instance.id} holds composite ${found.heldName ?? ""}, kept in place because manifest "${retainedBy}" (deletionPolicy: retain) was removed; it is left as it is until a manifest of that name returns or the profile is changed by hand`,
      resource,
    },
  };
}

/** Instances listed by ID that are not there (or not selectable): worth a warning, not a failure. */
function reportMissingInstances(input: AssignmentInput, assignment: Assignment): void {
  for (const desired of input.context.desired.values()) {
    for (const id of desired.selector.instanceIds) {
      const instance = input.snapshot.instances.get(id);
      if (instance !== undefined && isSelectable(instance)) continue;
      assignment.for(desired.manifest).issues.push({
        code: "InstanceNotFound",
        severity: "warning",
        message: `instance ${id} is listed in instanceIds but ${instance === undefined ? "does not exist" : `is ${instance.state}`}`,
        resource: label.instance(id),
      });
    }
  }
}

/**
 * Access follows the manifests: an instance no enforce-mode manifest selects loses a profile of rolecall's. Its
 * own manifest releases it, or its composite does (even one no longer needed: it may be kept this pass for an
 * instance that must be left as it is, and this one must not keep access through it).
 */
function releaseUnselected(found: Found, input: AssignmentInput, assignment: Assignment): void {
  const { association, heldName, owner, heldMembers } = found;
  if (association === undefined || owner === undefined) return;
  let unit: string;
  if (heldMembers !== undefined) {
    unit = owner;
  } else {
    const holder = input.context.desired.get(owner);
    if (holder === undefined || input.blocked.has(holder.manifest)) return;
    unit = holder.manifest;
  }
  const diff = assignment.for(unit);
  const reason: Reason = {
    resource: label.instance(found.instance.id),
    field: "association",
    desired: "(none: not selected)",
    actual: heldName ?? "(none)",
  };
  diff.drift.push(reason);
  diff.actions.push({
    kind: "disassociateInstanceProfile",
    manifest: unit,
    reason,
    instanceId: found.instance.id,
    associationId: association.associationId,
  });
  assignment.status(unit, found, "excluded", heldName === undefined ? {} : { profile: heldName });
}

/** The instance should hold the target's profile: keep it, give it, or swap it in, unless it must stay as it is. */
function assignTarget(target: Target, found: Found, input: AssignmentInput, assignment: Assignment): void {
  const { instance, association, heldName } = found;
  if (!target.acting) {
    assignment.statusOnMembers(target, found, heldName === undefined ? "pending" : "conflict");
    return;
  }
  if (heldName !== undefined && association !== undefined && sameIamName(heldName, target.profileName)) {
    holdsWantedName(target, found, association, input.snapshot, assignment);
    return;
  }
  const reason: Reason = {
    resource: label.instance(instance.id),
    field: "association",
    desired: target.profileName,
    actual: heldName ?? "(none)",
  };
  const diff = assignment.for(target.unit);
  if (association === undefined) {
    diff.drift.push(reason);
    diff.actions.push({
      kind: "associateInstanceProfile",
      manifest: target.unit,
      reason,
      instanceId: instance.id,
      profileName: target.profileName,
    });
    assignment.statusOnMembers(target, found, "pending");
    return;
  }
  if (found.owner === undefined && !target.replaceForeign) {
    const names = target.members.map((member) => member.manifest).join(", ");
    assignment.issueOnMembers(target, {
      code: "ForeignInstanceProfile",
      severity: "warning",
      message:
        target.members.length === 1
          ? `instance ${instance.id} holds instance profile ${heldName ?? "?"}, which rolecall does not own; skipped (set spec.onConflict: replace to take it over)`
          : `instance ${instance.id} holds instance profile ${heldName ?? "?"}, which rolecall does not own; skipped (it is replaced only when every manifest selecting it, ${names}, sets spec.onConflict: replace)`,
      resource: label.instance(instance.id),
    });
    assignment.statusOnMembers(target, found, "conflict");
    return;
  }
  diff.drift.push(reason);
  diff.actions.push(...replaceActions(target, instance, association, reason));
  assignment.statusOnMembers(target, found, "pending");
}

/**
 * The instance holds a profile of the wanted name. The name is not enough: a profile deleted and re-created (by
 * hand, or by rolecall repairing that deletion) has a new ID, and EC2 keeps the instance on the dead one, whose
 * credentials no longer work.
 */
function holdsWantedName(
  target: Target,
  found: Found,
  association: ObservedAssociation,
  snapshot: Snapshot,
  assignment: Assignment,
): void {
  const current = snapshot.instanceProfiles.get(iamNameKey(target.profileName));
  const stale =
    current === undefined ||
    (association.profileId !== undefined && current.id !== undefined && association.profileId !== current.id);
  if (!stale) {
    assignment.statusOnMembers(target, found, association.state === "associated" ? "associated" : "pending");
    return;
  }
  const reason: Reason = {
    resource: label.instance(found.instance.id),
    field: "association",
    desired: `${target.profileName}${current?.id === undefined ? "" : ` (${current.id})`}`,
    actual: `${found.heldName ?? ""} (${association.profileId ?? "?"}, deleted)`,
  };
  const diff = assignment.for(target.unit);
  diff.drift.push(reason);
  diff.actions.push(...replaceActions(target, found.instance, association, reason));
  assignment.statusOnMembers(target, found, "pending");
}

/**
 * Observe-mode manifests never join a composite and never change an instance: each reports, as drift, an
 * instance whose profile does not carry its policy.
 */
function reportObservers(
  observers: readonly DesiredAccess[],
  found: Found,
  input: AssignmentInput,
  assignment: Assignment,
): void {
  const role = found.heldProfile?.roleNames[0];
  const attached = role === undefined ? [] : (roleNamed(input.snapshot, role)?.attachedPolicyArns ?? []);
  for (const observer of observers) {
    const policyArn = policyNamed(input.snapshot, observer.policy.name)?.arn;
    const has = policyArn !== undefined && attached.includes(policyArn);
    if (!has) {
      assignment.for(observer.manifest).drift.push({
        resource: label.instance(found.instance.id),
        field: "access",
        desired: `a profile whose role holds ${observer.policy.name}`,
        actual: found.heldName ?? "(none)",
      });
    }
    assignment.status(
      observer.manifest,
      found,
      has ? "associated" : "pending",
      found.heldName === undefined ? {} : { profile: found.heldName },
    );
  }
}

/** A running instance swaps profiles in one call; a stopped one is disassociated, then associated. */
function replaceActions(
  target: Target,
  instance: ObservedInstance,
  association: ObservedAssociation,
  reason: Reason,
): Action[] {
  const manifest = target.unit;
  const profileName = target.profileName;
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
