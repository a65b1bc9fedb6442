import type { DesiredAccess } from "../../src/desired/desired-access.js";
import { iamNameKey } from "../../src/desired/iam-names.js";
import type { Tags } from "../../src/desired/ownership.js";
import type {
  InstanceState,
  ObservedAssociation,
  ObservedInstance,
  ObservedInstanceProfile,
  ObservedPolicy,
  ObservedRole,
  Snapshot,
} from "../../src/observed/snapshot.js";
import { policyArn, profileArn, roleArn } from "./desired-fixtures.js";

export interface SnapshotParts {
  readonly policies?: readonly ObservedPolicy[];
  readonly roles?: readonly ObservedRole[];
  readonly profiles?: readonly ObservedInstanceProfile[];
  readonly instances?: readonly ObservedInstance[];
  readonly associations?: readonly ObservedAssociation[];
}

/** A Snapshot keyed as the readers key it (lower-cased IAM names, instance IDs). */
export function snapshotOf(parts: SnapshotParts): Snapshot {
  return {
    policies: new Map((parts.policies ?? []).map((policy) => [iamNameKey(policy.name), policy])),
    roles: new Map((parts.roles ?? []).map((role) => [iamNameKey(role.name), role])),
    instanceProfiles: new Map((parts.profiles ?? []).map((profile) => [iamNameKey(profile.name), profile])),
    instances: new Map((parts.instances ?? []).map((instance) => [instance.id, instance])),
    associations: new Map(
      (parts.associations ?? []).map((association) => [association.instanceId, association]),
    ),
  };
}

/** The live chain exactly as `desired` wants it, owned by its manifest (overrides per resource). */
export function chainOf(
  desired: DesiredAccess,
  overrides: {
    policy?: Partial<ObservedPolicy>;
    role?: Partial<ObservedRole>;
    profile?: Partial<ObservedInstanceProfile>;
  } = {},
): { policy: ObservedPolicy; role: ObservedRole; profile: ObservedInstanceProfile } {
  const policy: ObservedPolicy = {
    name: desired.policy.name,
    arn: policyArn(desired.policy.name),
    path: desired.policy.path,
    description: desired.policy.description,
    document: desired.policy.document,
    defaultVersionId: "v1",
    versions: [{ id: "v1", isDefault: true, createdAt: 1000 }],
    tags: desired.tags,
    ...overrides.policy,
  };
  const role: ObservedRole = {
    name: desired.role.name,
    arn: roleArn(desired.role.name),
    path: desired.role.path,
    trustPolicy: desired.role.trustPolicy,
    attachedPolicyArns: [policy.arn],
    inlinePolicyNames: [],
    tags: desired.tags,
    ...overrides.role,
  };
  const profile: ObservedInstanceProfile = {
    name: desired.instanceProfile.name,
    arn: profileArn(desired.instanceProfile.name),
    path: desired.instanceProfile.path,
    roleNames: [role.name],
    tags: desired.tags,
    ...overrides.profile,
  };
  return { policy, role, profile };
}

export function instance(id: string, tags: Tags = {}, state: InstanceState = "running"): ObservedInstance {
  return { id, state, tags };
}

export function associationOf(
  instanceId: string,
  profileName: string,
  state: ObservedAssociation["state"] = "associated",
  path = "/rolecall/",
): ObservedAssociation {
  return {
    associationId: `iip-assoc-${instanceId}`,
    instanceId,
    profileArn: profileArn(profileName, path),
    state,
  };
}
