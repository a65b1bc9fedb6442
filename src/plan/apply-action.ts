import { iamNameKey } from "../desired/iam-names.js";
import type { Tags } from "../desired/ownership.js";
import { policyAt, policyNamed, profileNamed, roleNamed } from "../observed/snapshot-lookup.js";
import type {
  ObservedAssociation,
  ObservedInstanceProfile,
  ObservedPolicy,
  ObservedRole,
  PolicyVersion,
  Snapshot,
} from "../observed/snapshot.js";
import type { Action, ActionKind } from "./action.js";

/**
 * What carrying out an action taught that its plan could not know: the IDs AWS assigned, the resource found in
 * its place, or that its target was already gone. The executor returns it; applyAction turns it into state.
 */
export type ActionResponse =
  | { readonly kind: "done" }
  /** A create succeeded; `createdAt` dates a policy's first version. */
  | {
      readonly kind: "created";
      readonly arn: string;
      readonly id?: string;
      readonly versionId?: string;
      readonly createdAt: number;
    }
  /** A create met an existing resource that is this manifest's (an earlier, unseen success): this is it now. */
  | { readonly kind: "found"; readonly resource: ObservedPolicy | ObservedRole | ObservedInstanceProfile }
  | { readonly kind: "versioned"; readonly versionId: string; readonly createdAt: number }
  | { readonly kind: "associated"; readonly association: ObservedAssociation }
  /** The action's target does not exist (any more): for a removal, that is success. */
  | { readonly kind: "absent" };

/** One entry of a snapshot map set (or, with value undefined, removed). */
export type SnapshotEdit =
  | { readonly in: "policies"; readonly key: string; readonly value: ObservedPolicy | undefined }
  | { readonly in: "roles"; readonly key: string; readonly value: ObservedRole | undefined }
  | {
      readonly in: "instanceProfiles";
      readonly key: string;
      readonly value: ObservedInstanceProfile | undefined;
    }
  | { readonly in: "associations"; readonly key: string; readonly value: ObservedAssociation | undefined };

type ActionOf<K extends ActionKind> = Extract<Action, { kind: K }>;
type Effect<K extends ActionKind> = (
  snapshot: Snapshot,
  action: ActionOf<K>,
  response: ActionResponse,
) => SnapshotEdit[];

/**
 * What an action that succeeded did to live state, as edits of the snapshot it ran against: the one statement of
 * each action's effect, used by the executor's write-through (and so by the daemon's cache) and by every fake.
 * Pure. Edits rather than a new snapshot, because copying every map after each of a pass's thousands of actions
 * would make a large converge quadratic.
 */
export function applyAction(snapshot: Snapshot, action: Action, response: ActionResponse): SnapshotEdit[] {
  const effect = effects[action.kind] as Effect<ActionKind>;
  return effect(snapshot, action, response);
}

/** The snapshot after the edits, as a copy (for tests and one-off uses; the writer applies edits in place). */
export function withEdits(snapshot: Snapshot, edits: readonly SnapshotEdit[]): Snapshot {
  const next = {
    policies: new Map(snapshot.policies),
    roles: new Map(snapshot.roles),
    instanceProfiles: new Map(snapshot.instanceProfiles),
    instances: new Map(snapshot.instances),
    associations: new Map(snapshot.associations),
  };
  for (const edit of edits) {
    const map = next[edit.in] as Map<string, unknown>;
    if (edit.value === undefined) map.delete(edit.key);
    else map.set(edit.key, edit.value);
  }
  return next;
}

export function mergeTags(tags: Tags | undefined, set: Tags, remove: readonly string[] = []): Tags {
  const dropped = new Set(remove);
  return Object.fromEntries(Object.entries({ ...(tags ?? {}), ...set }).filter(([key]) => !dropped.has(key)));
}

// ---------------------------------------------------------------- edits of one resource

const putPolicy = (policy: ObservedPolicy): SnapshotEdit => ({
  in: "policies",
  key: iamNameKey(policy.name),
  value: policy,
});
const putRole = (role: ObservedRole): SnapshotEdit => ({
  in: "roles",
  key: iamNameKey(role.name),
  value: role,
});
const putProfile = (profile: ObservedInstanceProfile): SnapshotEdit => ({
  in: "instanceProfiles",
  key: iamNameKey(profile.name),
  value: profile,
});

/** Changes the policy at this ARN, if the snapshot has it; a target found absent leaves the snapshot. */
function changePolicy(
  snapshot: Snapshot,
  arn: string,
  response: ActionResponse,
  change: (policy: ObservedPolicy) => ObservedPolicy,
): SnapshotEdit[] {
  const policy = policyAt(snapshot, arn);
  if (policy === undefined) return [];
  if (response.kind === "absent") return [{ in: "policies", key: iamNameKey(policy.name), value: undefined }];
  return [putPolicy(change(policy))];
}

function changeRole(
  snapshot: Snapshot,
  name: string,
  change: (role: ObservedRole) => ObservedRole,
): SnapshotEdit[] {
  const role = roleNamed(snapshot, name);
  return role === undefined ? [] : [putRole(change(role))];
}

function changeProfile(
  snapshot: Snapshot,
  name: string,
  change: (profile: ObservedInstanceProfile) => ObservedInstanceProfile,
): SnapshotEdit[] {
  const profile = profileNamed(snapshot, name);
  return profile === undefined ? [] : [putProfile(change(profile))];
}

/** A new default version: every other version stops being the default. */
function withDefaultVersion(
  versions: readonly PolicyVersion[],
  id: string,
  createdAt: number,
): PolicyVersion[] {
  return [
    ...versions.map((version) => ({ ...version, isDefault: false })),
    { id, isDefault: true, createdAt },
  ];
}

/** The resource a create found in its place (an earlier, unseen success), if that is what happened. */
function found(
  response: ActionResponse,
): ObservedPolicy | ObservedRole | ObservedInstanceProfile | undefined {
  return response.kind === "found" ? response.resource : undefined;
}

// ---------------------------------------------------------------- the effects, by resource

const policyEffects = {
  createPolicy: (_snapshot, action, response) => {
    const existing = found(response) as ObservedPolicy | undefined;
    if (existing !== undefined) return [putPolicy(existing)];
    const created = response.kind === "created" ? response : undefined;
    const versionId = created?.versionId ?? "v1";
    return [
      putPolicy({
        name: action.policyName,
        arn: created?.arn ?? "",
        path: action.path,
        description: action.description,
        document: action.document,
        defaultVersionId: versionId,
        versions: [{ id: versionId, isDefault: true, createdAt: created?.createdAt ?? 0 }],
        tags: action.tags,
      }),
    ];
  },
  createPolicyVersion: (snapshot, action, response) =>
    changePolicy(snapshot, action.policyArn, response, (policy) => {
      if (response.kind !== "versioned") return policy;
      return {
        ...policy,
        document: action.document,
        defaultVersionId: response.versionId,
        versions: withDefaultVersion(policy.versions, response.versionId, response.createdAt),
      };
    }),
  deletePolicyVersion: (snapshot, action, response) =>
    changePolicy(snapshot, action.policyArn, response, (policy) => ({
      ...policy,
      versions: policy.versions.filter((version) => version.id !== action.versionId),
    })),
  tagPolicy: (snapshot, action, response) =>
    changePolicy(snapshot, action.policyArn, response, (policy) => ({
      ...policy,
      // Tags the snapshot never read stay unknown: the write adds keys, it does not say what else is there.
      tags: policy.tags === undefined ? undefined : mergeTags(policy.tags, action.tags),
    })),
  untagPolicy: (snapshot, action, response) =>
    changePolicy(snapshot, action.policyArn, response, (policy) => ({
      ...policy,
      tags: policy.tags === undefined ? undefined : mergeTags(policy.tags, {}, action.keys),
    })),
  deletePolicy: (snapshot, action) => {
    const policy = policyAt(snapshot, action.policyArn);
    return policy === undefined ? [] : [{ in: "policies", key: iamNameKey(policy.name), value: undefined }];
  },
} satisfies { [K in ActionKind]?: Effect<K> };

const roleEffects = {
  createRole: (_snapshot, action, response) => [
    putRole(
      (found(response) as ObservedRole | undefined) ?? {
        name: action.roleName,
        arn: response.kind === "created" ? response.arn : "",
        path: action.path,
        trustPolicy: action.trustPolicy,
        attachedPolicyArns: [],
        inlinePolicyNames: [],
        tags: action.tags,
        permissionsBoundary: action.permissionsBoundary,
      },
    ),
  ],
  putRolePermissionsBoundary: (snapshot, action) =>
    changeRole(snapshot, action.roleName, (role) => ({ ...role, permissionsBoundary: action.boundaryArn })),
  updateAssumeRolePolicy: (snapshot, action) =>
    changeRole(snapshot, action.roleName, (role) => ({ ...role, trustPolicy: action.trustPolicy })),
  tagRole: (snapshot, action) =>
    changeRole(snapshot, action.roleName, (role) => ({ ...role, tags: mergeTags(role.tags, action.tags) })),
  untagRole: (snapshot, action) =>
    changeRole(snapshot, action.roleName, (role) => ({
      ...role,
      tags: mergeTags(role.tags, {}, action.keys),
    })),
  attachRolePolicy: (snapshot, action) => {
    const arn = action.policyArn ?? policyNamed(snapshot, action.policyName)?.arn;
    if (arn === undefined) return [];
    return changeRole(snapshot, action.roleName, (role) => ({
      ...role,
      attachedPolicyArns: [...new Set([...role.attachedPolicyArns, arn])],
    }));
  },
  detachRolePolicy: (snapshot, action) =>
    changeRole(snapshot, action.roleName, (role) => ({
      ...role,
      attachedPolicyArns: role.attachedPolicyArns.filter((arn) => arn !== action.policyArn),
    })),
  deleteRolePolicy: (snapshot, action) =>
    changeRole(snapshot, action.roleName, (role) => ({
      ...role,
      inlinePolicyNames: role.inlinePolicyNames.filter((name) => name !== action.inlinePolicyName),
    })),
  deleteRole: (_snapshot, action) => [{ in: "roles", key: iamNameKey(action.roleName), value: undefined }],
} satisfies { [K in ActionKind]?: Effect<K> };

const profileEffects = {
  createInstanceProfile: (_snapshot, action, response) => [
    putProfile(
      (found(response) as ObservedInstanceProfile | undefined) ?? {
        name: action.profileName,
        arn: response.kind === "created" ? response.arn : "",
        ...(response.kind === "created" && response.id !== undefined ? { id: response.id } : {}),
        path: action.path,
        roleNames: [],
        tags: action.tags,
      },
    ),
  ],
  tagInstanceProfile: (snapshot, action) =>
    changeProfile(snapshot, action.profileName, (profile) => ({
      ...profile,
      tags: mergeTags(profile.tags, action.tags),
    })),
  untagInstanceProfile: (snapshot, action) =>
    changeProfile(snapshot, action.profileName, (profile) => ({
      ...profile,
      tags: mergeTags(profile.tags, {}, action.keys),
    })),
  addRoleToInstanceProfile: (snapshot, action) =>
    changeProfile(snapshot, action.profileName, (profile) => ({ ...profile, roleNames: [action.roleName] })),
  removeRoleFromInstanceProfile: (snapshot, action) =>
    changeProfile(snapshot, action.profileName, (profile) => ({
      ...profile,
      roleNames: profile.roleNames.filter((name) => name !== action.roleName),
    })),
  deleteInstanceProfile: (_snapshot, action) => [
    { in: "instanceProfiles", key: iamNameKey(action.profileName), value: undefined },
  ],
} satisfies { [K in ActionKind]?: Effect<K> };

/** The association the call answered with is the instance's now. */
function associationAnswered(instanceId: string, response: ActionResponse): SnapshotEdit[] {
  return response.kind === "associated"
    ? [{ in: "associations", key: instanceId, value: response.association }]
    : [];
}

const associationEffects = {
  associateInstanceProfile: (_snapshot, action, response) => associationAnswered(action.instanceId, response),
  replaceInstanceProfileAssociation: (_snapshot, action, response) =>
    associationAnswered(action.instanceId, response),
  disassociateInstanceProfile: (_snapshot, action) => [
    { in: "associations", key: action.instanceId, value: undefined },
  ],
} satisfies { [K in ActionKind]?: Effect<K> };

/** Every action kind has its effect: a new kind without one fails to compile here. */
const effects: { readonly [K in ActionKind]: Effect<K> } = {
  ...policyEffects,
  ...roleEffects,
  ...profileEffects,
  ...associationEffects,
};
