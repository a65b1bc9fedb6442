import type {
  GetAccountAuthorizationDetailsCommandOutput,
  GetInstanceProfileCommandOutput,
  GetPolicyCommandOutput,
  GetPolicyVersionCommandOutput,
  GetRoleCommandOutput,
  InstanceProfile,
  ManagedPolicyDetail,
  RoleDetail,
  ListAttachedRolePoliciesCommandOutput,
  ListInstanceProfilesCommandOutput,
  ListPoliciesCommandOutput,
  ListPolicyTagsCommandOutput,
  ListRolePoliciesCommandOutput,
  Tag,
} from "@aws-sdk/client-iam";
import {
  GetAccountAuthorizationDetailsCommand,
  GetInstanceProfileCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
  ListInstanceProfilesCommand,
  ListPoliciesCommand,
  ListPolicyTagsCommand,
  ListRolePoliciesCommand,
} from "./sdk/client-iam.js";
import type { Tags } from "../desired/ownership.js";
import { decodePolicyDocument } from "../plan/policy-equality.js";
import { label } from "../plan/labels.js";
import {
  nameFromArn,
  type ObservedInstanceProfile,
  type ObservedPolicy,
  type ObservedRole,
} from "../observed/snapshot.js";
import type { AwsCaller } from "./aws-caller.js";
import { AwsApiError } from "./aws-error.js";
import { foldAuthorizationDetails, type AuthorizationDetailsPage } from "./authorization-details-stream.js";
import { foldInstanceProfiles, type InstanceProfilesPage } from "./instance-profiles-stream.js";
import { iamNext, pages, withMarker } from "./paginate.js";

/** IAM's largest page; fewer calls for big accounts. */
const pageSize = 1000;

export function toTags(
  tags: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined,
): Tags {
  const result: Record<string, string> = {};
  for (const tag of tags ?? []) if (tag.Key !== undefined) result[tag.Key] = tag.Value ?? "";
  return result;
}

export interface AuthorizationDetails {
  readonly policies: ObservedPolicy[];
  readonly roles: ObservedRole[];
  /** Profiles that hold a role (IAM reports them under their roles); role-less ones need ListInstanceProfiles. */
  readonly profiles: ObservedInstanceProfile[];
}

/**
 * Every role (with its profiles and tags) and customer-managed policy (with all versions) of the account; each page
 * is folded as it streams in.
 */
export async function readAuthorizationDetails(iam: AwsCaller): Promise<AuthorizationDetails> {
  const policies: ObservedPolicy[] = [];
  const roles: ObservedRole[] = [];
  const profiles = new Map<string, ObservedInstanceProfile>();
  const listing = pages(async (marker): Promise<AuthorizationDetailsPage> => {
    const command = new GetAccountAuthorizationDetailsCommand({
      Filter: ["Role", "LocalManagedPolicy"],
      MaxItems: pageSize,
      ...withMarker(marker),
    });
    const folded = foldAuthorizationDetails(command);
    const output = await iam.send<GetAccountAuthorizationDetailsCommandOutput>(command);
    return folded.page() ?? output;
  }, iamNext);
  for await (const page of listing) {
    for (const detail of page.RoleDetailList ?? []) {
      const role = toObservedRole(detail);
      if (role !== undefined) roles.push(role);
      for (const profile of detail.InstanceProfileList ?? []) {
        const observed = toObservedProfile(profile);
        if (observed !== undefined) profiles.set(observed.name.toLowerCase(), observed);
      }
    }
    for (const detail of page.Policies ?? []) {
      const policy = toObservedPolicy(detail);
      if (policy !== undefined) policies.push(policy);
    }
  }
  return { policies, roles, profiles: [...profiles.values()] };
}

function toObservedRole(role: RoleDetail): ObservedRole | undefined {
  if (role.RoleName === undefined || role.Arn === undefined) return undefined;
  return {
    name: role.RoleName,
    arn: role.Arn,
    path: role.Path ?? "/",
    trustPolicy: decodePolicyDocument(role.AssumeRolePolicyDocument),
    attachedPolicyArns: (role.AttachedManagedPolicies ?? []).flatMap((policy) =>
      policy.PolicyArn === undefined ? [] : [policy.PolicyArn],
    ),
    inlinePolicyNames: (role.RolePolicyList ?? []).flatMap((policy) =>
      policy.PolicyName === undefined ? [] : [policy.PolicyName],
    ),
    tags: toTags(role.Tags),
    permissionsBoundary: role.PermissionsBoundary?.PermissionsBoundaryArn,
  };
}

/** A policy with every version listed; its tags are not in this listing. */
function toObservedPolicy(policy: ManagedPolicyDetail): ObservedPolicy | undefined {
  if (policy.Arn === undefined) return undefined;
  const versions = (policy.PolicyVersionList ?? []).flatMap((version) =>
    version.VersionId === undefined
      ? []
      : [
          {
            id: version.VersionId,
            isDefault: version.IsDefaultVersion === true,
            createdAt: version.CreateDate?.getTime() ?? 0,
            document: version.Document,
          },
        ],
  );
  const defaultVersion = versions.find((version) => version.isDefault);
  return {
    name: policy.PolicyName ?? nameFromArn(policy.Arn),
    arn: policy.Arn,
    path: policy.Path ?? "/",
    description: policy.Description,
    document: decodePolicyDocument(defaultVersion?.document),
    defaultVersionId: policy.DefaultVersionId ?? defaultVersion?.id ?? "",
    versions: versions.map(({ id, isDefault, createdAt }) => ({ id, isDefault, createdAt })),
    tags: undefined,
  };
}

export function toObservedProfile(profile: InstanceProfile | undefined): ObservedInstanceProfile | undefined {
  if (profile?.InstanceProfileName === undefined || profile.Arn === undefined) return undefined;
  return {
    name: profile.InstanceProfileName,
    arn: profile.Arn,
    id: profile.InstanceProfileId,
    path: profile.Path ?? "/",
    roleNames: (profile.Roles ?? []).flatMap((role) => (role.RoleName === undefined ? [] : [role.RoleName])),
    tags: profile.Tags === undefined ? undefined : toTags(profile.Tags),
  };
}

/**
 * Instance profiles under a path, including those that hold no role; each page is folded as it streams in. Listings
 * omit tags on AWS.
 */
export async function listInstanceProfiles(
  iam: AwsCaller,
  pathPrefix: string,
): Promise<ObservedInstanceProfile[]> {
  const result: ObservedInstanceProfile[] = [];
  const listing = pages(async (marker): Promise<InstanceProfilesPage> => {
    const command = new ListInstanceProfilesCommand({
      PathPrefix: pathPrefix,
      MaxItems: pageSize,
      ...withMarker(marker),
    });
    const folded = foldInstanceProfiles(command);
    const output = await iam.send<ListInstanceProfilesCommandOutput>(command);
    return folded.page() ?? output;
  }, iamNext);
  for await (const page of listing) {
    for (const profile of page.InstanceProfiles ?? []) {
      const observed = toObservedProfile(profile);
      if (observed !== undefined) result.push(observed);
    }
  }
  return result;
}

export async function readPolicyTags(iam: AwsCaller, policyArn: string, policyName: string): Promise<Tags> {
  const tags: Tag[] = [];
  const listing = pages(
    (marker) =>
      iam.send<ListPolicyTagsCommandOutput>(
        new ListPolicyTagsCommand({ PolicyArn: policyArn, ...withMarker(marker) }),
        {
          resource: label.policy(policyName),
        },
      ),
    iamNext,
  );
  for await (const page of listing) tags.push(...(page.Tags ?? []));
  return toTags(tags);
}

/** One instance profile by name, with tags; undefined when it does not exist. */
export async function readInstanceProfile(
  iam: AwsCaller,
  name: string,
): Promise<ObservedInstanceProfile | undefined> {
  try {
    const output = await iam.send<GetInstanceProfileCommandOutput>(
      new GetInstanceProfileCommand({ InstanceProfileName: name }),
      {
        resource: label.instanceProfile(name),
      },
    );
    const observed = toObservedProfile(output.InstanceProfile);
    return observed === undefined ? undefined : { ...observed, tags: toTags(output.InstanceProfile?.Tags) };
  } catch (error) {
    if (error instanceof AwsApiError && error.kind === "not-found") return undefined;
    throw error;
  }
}

/** One role by name, with its policies; undefined when it does not exist. Used by per-resource reads. */
export async function readRole(iam: AwsCaller, name: string): Promise<ObservedRole | undefined> {
  let role;
  try {
    role = (
      await iam.send<GetRoleCommandOutput>(new GetRoleCommand({ RoleName: name }), {
        resource: label.role(name),
      })
    ).Role;
  } catch (error) {
    if (error instanceof AwsApiError && error.kind === "not-found") return undefined;
    throw error;
  }
  if (role?.RoleName === undefined || role.Arn === undefined) return undefined;
  const resource = { resource: label.role(name) };
  const attached: string[] = [];
  const attachments = pages(
    (marker) =>
      iam.send<ListAttachedRolePoliciesCommandOutput>(
        new ListAttachedRolePoliciesCommand({ RoleName: name, ...withMarker(marker) }),
        resource,
      ),
    iamNext,
  );
  for await (const page of attachments)
    for (const policy of page.AttachedPolicies ?? [])
      if (policy.PolicyArn !== undefined) attached.push(policy.PolicyArn);
  const inline: string[] = [];
  const inlinePolicies = pages(
    (marker) =>
      iam.send<ListRolePoliciesCommandOutput>(
        new ListRolePoliciesCommand({ RoleName: name, ...withMarker(marker) }),
        resource,
      ),
    iamNext,
  );
  for await (const page of inlinePolicies) inline.push(...(page.PolicyNames ?? []));
  return {
    name: role.RoleName,
    arn: role.Arn,
    path: role.Path ?? "/",
    trustPolicy: decodePolicyDocument(role.AssumeRolePolicyDocument),
    attachedPolicyArns: attached,
    inlinePolicyNames: inline,
    tags: toTags(role.Tags),
    permissionsBoundary: role.PermissionsBoundary?.PermissionsBoundaryArn,
  };
}

/** One managed policy by ARN, with tags and its default document; undefined when it does not exist. */
export async function readPolicy(iam: AwsCaller, arn: string): Promise<ObservedPolicy | undefined> {
  let policy;
  try {
    policy = (
      await iam.send<GetPolicyCommandOutput>(new GetPolicyCommand({ PolicyArn: arn }), {
        resource: label.policy(nameFromArn(arn)),
      })
    ).Policy;
  } catch (error) {
    if (error instanceof AwsApiError && error.kind === "not-found") return undefined;
    throw error;
  }
  if (policy?.Arn === undefined || policy.DefaultVersionId === undefined) return undefined;
  const version = await iam.send<GetPolicyVersionCommandOutput>(
    new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: policy.DefaultVersionId }),
    { resource: label.policy(nameFromArn(arn)) },
  );
  return {
    name: policy.PolicyName ?? nameFromArn(arn),
    arn: policy.Arn,
    path: policy.Path ?? "/",
    description: policy.Description,
    document: decodePolicyDocument(version.PolicyVersion?.Document),
    defaultVersionId: policy.DefaultVersionId,
    // Per-resource reads do not list versions: the default one stands for all (enough for a baseline read).
    versions: [
      { id: policy.DefaultVersionId, isDefault: true, createdAt: policy.CreateDate?.getTime() ?? 0 },
    ],
    tags: toTags(policy.Tags),
  };
}

/** Finds a customer-managed policy by name (under any path) when its ARN is not known. */
export async function findPolicyArn(iam: AwsCaller, name: string): Promise<string | undefined> {
  const listing = pages(
    (marker) =>
      iam.send<ListPoliciesCommandOutput>(
        new ListPoliciesCommand({ Scope: "Local", MaxItems: pageSize, ...withMarker(marker) }),
        { resource: label.policy(name) },
      ),
    iamNext,
  );
  for await (const page of listing) {
    const found = (page.Policies ?? []).find(
      (policy) => policy.PolicyName?.toLowerCase() === name.toLowerCase(),
    );
    if (found?.Arn !== undefined) return found.Arn;
  }
  return undefined;
}
