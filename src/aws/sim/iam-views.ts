import type {
  AttachedPolicy,
  InstanceProfile,
  ManagedPolicyDetail,
  Policy,
  PolicyVersion,
  Role,
  RoleDetail,
} from "@aws-sdk/client-iam";
import { encodeDocument } from "./policy-document.js";
import type { IamStore, PolicyRecord, PolicyVersionRecord, ProfileRecord, RoleRecord } from "./iam-store.js";

/**
 * IAM records rendered as the SDK's output shapes: fresh objects (callers may mutate them), fresh Dates, and
 * documents URL-encoded as IAM returns them. Listings leave out tags, as IAM's do.
 */
const date = (value: Date) => new Date(value.getTime());

export function roleView(role: RoleRecord, options: { tags: boolean }): Role {
  return {
    Path: role.path,
    RoleName: role.name,
    RoleId: role.id,
    Arn: role.arn,
    CreateDate: date(role.createDate),
    AssumeRolePolicyDocument: encodeDocument(role.trustPolicy),
    MaxSessionDuration: role.maxSessionDuration,
    ...(role.description === undefined ? {} : { Description: role.description }),
    ...boundaryView(role),
    ...(options.tags ? { Tags: role.tags.list() } : {}),
  };
}

/** AWS leaves the element out when the role has no boundary. */
function boundaryView(role: RoleRecord): Pick<Role, "PermissionsBoundary"> {
  return role.permissionsBoundary === undefined
    ? {}
    : {
        PermissionsBoundary: {
          PermissionsBoundaryType: "PermissionsBoundaryPolicy",
          PermissionsBoundaryArn: role.permissionsBoundary,
        },
      };
}

export function profileView(
  store: IamStore,
  profile: ProfileRecord,
  options: { tags: boolean },
): InstanceProfile {
  const role = profile.role === undefined ? undefined : store.roles.get(profile.role);
  return {
    Path: profile.path,
    InstanceProfileName: profile.name,
    InstanceProfileId: profile.id,
    Arn: profile.arn,
    CreateDate: date(profile.createDate),
    Roles: role === undefined ? [] : [roleView(role, { tags: false })],
    ...(options.tags ? { Tags: profile.tags.list() } : {}),
  };
}

export function policyView(store: IamStore, policy: PolicyRecord, options: { tags: boolean }): Policy {
  return {
    PolicyName: policy.name,
    PolicyId: policy.id,
    Arn: policy.arn,
    Path: policy.path,
    DefaultVersionId: policy.defaultVersionId,
    AttachmentCount: store.attachmentsOf(policy).length,
    PermissionsBoundaryUsageCount: [...store.roles.values()].filter(
      (role) => role.permissionsBoundary === policy.arn,
    ).length,
    IsAttachable: true,
    ...(policy.description === undefined ? {} : { Description: policy.description }),
    CreateDate: date(policy.createDate),
    UpdateDate: date(policy.updateDate),
    ...(options.tags ? { Tags: policy.tags.list() } : {}),
  };
}

export function versionView(
  policy: PolicyRecord,
  version: PolicyVersionRecord,
  options: { document: boolean },
): PolicyVersion {
  return {
    ...(options.document ? { Document: encodeDocument(version.document) } : {}),
    VersionId: version.id,
    IsDefaultVersion: version.id === policy.defaultVersionId,
    CreateDate: date(version.createDate),
  };
}

export function attachedView(policy: PolicyRecord): AttachedPolicy {
  return { PolicyName: policy.name, PolicyArn: policy.arn };
}

/** Attached managed policies of a role, by policy name. */
export function attachedPolicies(store: IamStore, role: RoleRecord): PolicyRecord[] {
  return [...role.attached].sort().flatMap((key) => {
    const policy = store.attached(key);
    return policy === undefined ? [] : [policy];
  });
}

export function roleDetailView(store: IamStore, role: RoleRecord): RoleDetail {
  return {
    Path: role.path,
    RoleName: role.name,
    RoleId: role.id,
    Arn: role.arn,
    CreateDate: date(role.createDate),
    AssumeRolePolicyDocument: encodeDocument(role.trustPolicy),
    InstanceProfileList: store.profilesOf(role).map((profile) => profileView(store, profile, { tags: true })),
    RolePolicyList: [...role.inline.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([, inline]) => ({ PolicyName: inline.name, PolicyDocument: encodeDocument(inline.document) })),
    AttachedManagedPolicies: attachedPolicies(store, role).map(attachedView),
    ...boundaryView(role),
    Tags: role.tags.list(),
    RoleLastUsed: {},
  };
}

export function policyDetailView(store: IamStore, policy: PolicyRecord): ManagedPolicyDetail {
  return {
    ...policyView(store, policy, { tags: false }),
    PolicyVersionList: [...policy.versions]
      .reverse()
      .map((version) => versionView(policy, version, { document: true })),
  };
}
