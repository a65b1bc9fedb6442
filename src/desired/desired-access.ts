import type { DeletionPolicy, InstanceAccess, Mode, OnConflict } from "../manifest/instance-access.js";
import { defaultIamName } from "./iam-names.js";
import { ownershipTags, policyDescription, roleDescription, type Tags } from "./ownership.js";
import { ec2TrustPolicy, type PolicyDocument } from "./policy-document.js";
import { compileS3Policy } from "./s3-policy.js";

export interface CompileOptions {
  /** IAM path for everything rolecall creates, e.g. "/rolecall/". */
  readonly iamPath: string;
  /** AWS partition for ARNs: aws, aws-cn, aws-us-gov. */
  readonly partition: string;
  /** Mode for manifests that do not set spec.mode. */
  readonly defaultMode: Mode;
  /** The permissions boundary every role rolecall creates carries (--permissions-boundary); none when undefined. */
  readonly permissionsBoundary?: string | undefined;
}

export interface InstanceSelection {
  readonly instanceIds: readonly string[];
  readonly matchTags: Tags;
}

/** What a manifest wants to exist in AWS: the compiled, fully defaulted form the diff works on. */
export interface DesiredAccess {
  readonly manifest: string;
  readonly mode: Mode;
  readonly adopt: boolean;
  readonly onConflict: OnConflict;
  readonly deletionPolicy: DeletionPolicy;
  readonly tags: Tags;
  readonly policy: {
    readonly name: string;
    readonly path: string;
    readonly description: string;
    readonly document: PolicyDocument;
  };
  readonly role: {
    readonly name: string;
    readonly path: string;
    readonly description: string;
    readonly trustPolicy: PolicyDocument;
    /** The managed policy capping the role; undefined: rolecall sets none and leaves one set by hand alone. */
    readonly permissionsBoundary: string | undefined;
  };
  readonly instanceProfile: { readonly name: string; readonly path: string };
  readonly selector: InstanceSelection;
}

export function compileDesired(manifest: InstanceAccess, options: CompileOptions): DesiredAccess {
  const name = manifest.metadata.name;
  const spec = manifest.spec;
  const deletionPolicy = spec.deletionPolicy ?? "delete";
  const matchTags: Record<string, string> = {};
  for (const [key, value] of Object.entries(spec.instanceSelector.matchTags ?? {})) {
    if (value !== undefined) matchTags[key] = value;
  }
  return {
    manifest: name,
    mode: spec.mode ?? options.defaultMode,
    adopt: spec.adopt ?? false,
    onConflict: spec.onConflict ?? "skip",
    deletionPolicy,
    tags: ownershipTags(name, deletionPolicy),
    policy: {
      name: spec.iam?.policyName ?? defaultIamName(name),
      path: options.iamPath,
      description: policyDescription(name),
      document: compileS3Policy(spec.grants, spec.listAllBuckets ?? false, options.partition),
    },
    role: {
      name: spec.iam?.roleName ?? defaultIamName(name),
      path: options.iamPath,
      description: roleDescription(name),
      trustPolicy: ec2TrustPolicy(),
      permissionsBoundary: options.permissionsBoundary,
    },
    instanceProfile: { name: spec.iam?.instanceProfileName ?? defaultIamName(name), path: options.iamPath },
    selector: { instanceIds: [...(spec.instanceSelector.instanceIds ?? [])].sort(), matchTags },
  };
}

/** Whether an instance with these tags and ID is selected: listed by ID, or carrying every matchTags pair. */
export function selects(selector: InstanceSelection, instanceId: string, instanceTags: Tags): boolean {
  if (selector.instanceIds.includes(instanceId)) return true;
  const wanted = Object.entries(selector.matchTags);
  return wanted.length > 0 && wanted.every(([key, value]) => instanceTags[key] === value);
}
