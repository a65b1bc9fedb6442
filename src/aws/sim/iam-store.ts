import { iamArn, parseIamArn } from "./arns.js";
import { iamError } from "./errors.js";
import type { MonotonicClock } from "./clock.js";
import type { IdFactory } from "./ids.js";
import { required } from "./iam-validation.js";
import type { TagSet } from "./tags.js";

/** The account's IAM state. Names are unique case-insensitively, so every map is keyed by the lower-cased name. */
export interface PolicyVersionRecord {
  readonly id: string;
  readonly document: string;
  readonly createDate: Date;
}

export interface PolicyRecord {
  readonly name: string;
  readonly id: string;
  readonly arn: string;
  readonly path: string;
  readonly description: string | undefined;
  readonly createDate: Date;
  updateDate: Date;
  /** Oldest first. */
  readonly versions: PolicyVersionRecord[];
  defaultVersionId: string;
  /** Version numbers only grow: v3 is never reused after v3 is deleted. */
  nextVersion: number;
  readonly tags: TagSet;
}

export interface RoleRecord {
  readonly name: string;
  readonly id: string;
  readonly arn: string;
  readonly path: string;
  readonly description: string | undefined;
  readonly maxSessionDuration: number;
  readonly createDate: Date;
  trustPolicy: string;
  /** Attached managed policies, by attachment key (see IamStore.attachmentKey). */
  readonly attached: Set<string>;
  /** Inline policies by lower-cased name. */
  readonly inline: Map<string, { readonly name: string; readonly document: string }>;
  readonly tags: TagSet;
  /** The ARN of the managed policy that caps the role, if any. */
  permissionsBoundary: string | undefined;
}

export interface ProfileRecord {
  readonly name: string;
  readonly id: string;
  readonly arn: string;
  readonly path: string;
  readonly createDate: Date;
  /** The lower-cased name of the role it holds (IAM allows one). */
  role: string | undefined;
  readonly tags: TagSet;
}

export class IamStore {
  readonly policies = new Map<string, PolicyRecord>();
  readonly roles = new Map<string, RoleRecord>();
  readonly profiles = new Map<string, ProfileRecord>();
  constructor(
    readonly partition: string,
    readonly accountId: string,
    readonly ids: IdFactory,
    readonly clock: MonotonicClock,
    /** AWS-managed policies, by lower-cased name: attachable, never created, changed or deleted here. */
    readonly awsPolicies: ReadonlyMap<string, PolicyRecord> = new Map(),
  ) {}

  arn(type: "policy" | "role" | "instance-profile", path: string, name: string): string {
    return iamArn(this.partition, this.accountId, type, path, name);
  }

  role(name: string): RoleRecord {
    const role = this.roles.get(name.toLowerCase());
    if (role === undefined) throw iamError("NoSuchEntity", `The role with name ${name} cannot be found.`);
    return role;
  }

  profile(name: string): ProfileRecord {
    const profile = this.profiles.get(name.toLowerCase());
    if (profile === undefined) throw iamError("NoSuchEntity", `Instance Profile ${name} cannot be found.`);
    return profile;
  }

  /** The customer-managed policy with this ARN (name compared case-insensitively, like IAM). */
  policy(arn: string): PolicyRecord {
    const found = this.findPolicy(arn);
    if (found === undefined)
      throw iamError("NoSuchEntity", `Policy ${arn} does not exist or is not attachable.`);
    return found;
  }

  /** A policy of this account's, for a change: AWS-managed policies cannot be changed by an account. */
  customerPolicy(arn: string): PolicyRecord {
    const policy = this.policy(arn);
    if (this.isAwsManaged(policy))
      throw iamError("AccessDenied", `${arn} is an AWS managed policy; it cannot be changed by an account`);
    return policy;
  }

  findPolicy(arn: string): PolicyRecord | undefined {
    const parts = parseIamArn(arn, "policy");
    if (parts === undefined) throw iamError("InvalidInput", `ARN ${arn} is not valid.`);
    const policies = parts.accountId === "aws" ? this.awsPolicies : this.policies;
    const policy = policies.get(parts.name.toLowerCase());
    return policy !== undefined && policy.arn.toLowerCase() === arn.toLowerCase() ? policy : undefined;
  }

  /** Whether a policy is one of AWS's (not this account's). */
  isAwsManaged(policy: PolicyRecord): boolean {
    return this.awsPolicies.get(policy.name.toLowerCase()) === policy;
  }

  /** How a role's attachments name a policy: customer and AWS-managed policies may share a name. */
  attachmentKey(policy: PolicyRecord): string {
    return this.isAwsManaged(policy) ? `aws/${policy.name.toLowerCase()}` : policy.name.toLowerCase();
  }

  /** The policy an attachment key names. */
  attached(key: string): PolicyRecord | undefined {
    return key.startsWith("aws/") ? this.awsPolicies.get(key.slice(4)) : this.policies.get(key);
  }

  /** Roles that have the policy attached. */
  attachmentsOf(policy: PolicyRecord): RoleRecord[] {
    const key = this.attachmentKey(policy);
    return [...this.roles.values()].filter((role) => role.attached.has(key));
  }

  /** Profiles that hold the role. */
  profilesOf(role: RoleRecord): ProfileRecord[] {
    const key = role.name.toLowerCase();
    return [...this.profiles.values()].filter((profile) => profile.role === key);
  }
}

/** The role a request's RoleName names: ValidationError when it is missing, NoSuchEntity when it is unknown. */
export function roleNamed(store: IamStore, name: string | undefined): RoleRecord {
  return store.role(required(name, "roleName"));
}

/** The profile a request's InstanceProfileName names, checked like a RoleName. */
export function profileNamed(store: IamStore, name: string | undefined): ProfileRecord {
  return store.profile(required(name, "instanceProfileName"));
}
