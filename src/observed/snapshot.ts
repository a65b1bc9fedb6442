import type { Tags } from "../desired/ownership.js";

/**
 * Live IAM and EC2 state as one pass saw it: plain data, read by the AWS adapters (or the simulator) and diffed
 * by the pure core. Maps are keyed by lower-cased IAM name (IAM names are case-insensitive) or instance ID.
 */
export interface Snapshot {
  readonly policies: ReadonlyMap<string, ObservedPolicy>;
  readonly roles: ReadonlyMap<string, ObservedRole>;
  readonly instanceProfiles: ReadonlyMap<string, ObservedInstanceProfile>;
  readonly instances: ReadonlyMap<string, ObservedInstance>;
  /** Current (associating or associated) profile association per instance ID. */
  readonly associations: ReadonlyMap<string, ObservedAssociation>;
}

export interface PolicyVersion {
  readonly id: string;
  readonly isDefault: boolean;
  /** Milliseconds since the epoch; orders versions for rotation. */
  readonly createdAt: number;
}

export interface ObservedPolicy {
  readonly name: string;
  readonly arn: string;
  readonly path: string;
  readonly description: string | undefined;
  /** The default version's document, decoded and parsed; undefined if it could not be read or parsed. */
  readonly document: unknown;
  readonly defaultVersionId: string;
  readonly versions: readonly PolicyVersion[];
  /** Undefined when not read: whole-account listings do not return policy tags. */
  readonly tags: Tags | undefined;
}

export interface ObservedRole {
  readonly name: string;
  readonly arn: string;
  readonly path: string;
  /** Parsed trust policy; undefined if it could not be parsed. */
  readonly trustPolicy: unknown;
  readonly attachedPolicyArns: readonly string[];
  readonly inlinePolicyNames: readonly string[];
  readonly tags: Tags;
  /** The ARN of the managed policy capping the role, if it has one. */
  readonly permissionsBoundary?: string | undefined;
}

export interface ObservedInstanceProfile {
  readonly name: string;
  readonly arn: string;
  /** IAM's unique ID: a profile deleted and re-created under the same name gets a new one. */
  readonly id?: string | undefined;
  readonly path: string;
  readonly roleNames: readonly string[];
  /** Undefined when not read. */
  readonly tags: Tags | undefined;
}

export const selectableInstanceStates = ["pending", "running", "stopping", "stopped"] as const;
export type InstanceState =
  (typeof selectableInstanceStates)[number] | "shutting-down" | "terminated" | "unknown";

export interface ObservedInstance {
  readonly id: string;
  readonly state: InstanceState;
  readonly tags: Tags;
}

export interface ObservedAssociation {
  readonly associationId: string;
  readonly instanceId: string;
  readonly profileArn: string;
  /** The ID of the profile the association points to (it may no longer exist). */
  readonly profileId?: string | undefined;
  readonly state: "associating" | "associated" | "disassociating" | "disassociated" | "unknown";
}

export function emptySnapshot(): Snapshot {
  return {
    policies: new Map(),
    roles: new Map(),
    instanceProfiles: new Map(),
    instances: new Map(),
    associations: new Map(),
  };
}

/** The resource name at the end of an IAM ARN (after its path): arn:aws:iam::1:instance-profile/rolecall/x → x. */
export function nameFromArn(arn: string): string {
  const slash = arn.lastIndexOf("/");
  return slash === -1 ? arn.slice(arn.lastIndexOf(":") + 1) : arn.slice(slash + 1);
}
