import type { DeletionPolicy } from "../manifest/instance-access.js";

/** Tag keys that mark what rolecall owns; every resource it creates carries them from its creation call on. */
export const ownershipTagKeys = {
  managedBy: "rolecall.dev/managed-by",
  manifest: "rolecall.dev/manifest",
  deletionPolicy: "rolecall.dev/deletion-policy",
  /** Set when a manifest with deletionPolicy retain is removed: the resource stays, and says why it is unmanaged. */
  orphaned: "rolecall.dev/orphaned",
  /**
   * On resources taken over outside rolecall's IAM path (adoption keeps their path): the path of the rolecall
   * that manages them. The IAM path is a controller's namespace; its removals stay inside it.
   */
  iamPath: "rolecall.dev/iam-path",
} as const;

export const managedByValue = "rolecall";

export type Tags = Readonly<Record<string, string>>;

export function ownershipTags(manifest: string, deletionPolicy: DeletionPolicy): Tags {
  return {
    [ownershipTagKeys.managedBy]: managedByValue,
    [ownershipTagKeys.manifest]: manifest,
    [ownershipTagKeys.deletionPolicy]: deletionPolicy,
  };
}

/** What a resource's tags say about its owner. */
export interface Ownership {
  /** True when rolecall manages the resource (the managed-by tag says so). */
  readonly managed: boolean;
  /** Name of the owning manifest, when managed. */
  readonly manifest: string | undefined;
  readonly deletionPolicy: DeletionPolicy;
  readonly orphaned: boolean;
}

export function readOwnership(tags: Tags): Ownership {
  const managed = tags[ownershipTagKeys.managedBy] === managedByValue;
  return {
    managed,
    manifest: managed ? tags[ownershipTagKeys.manifest] : undefined,
    // Only an explicit "delete" deletes: a missing or unknown value means someone edited the tag, and retain is
    // the answer that can never destroy anything by mistake.
    deletionPolicy: tags[ownershipTagKeys.deletionPolicy] === "delete" ? "delete" : "retain",
    orphaned: tags[ownershipTagKeys.orphaned] !== undefined,
  };
}

const policyDescriptionMarker = /\(rolecall\.dev\/manifest=([a-z0-9-]+)\)$/;

/**
 * Managed-policy descriptions carry the owning manifest too, because GetAccountAuthorizationDetails returns
 * policy descriptions but not policy tags: the marker lets a whole-account snapshot tell rolecall's policies
 * apart without one tag read per policy. Tags remain the authority: they are read before any change.
 */
export function policyDescription(manifest: string): string {
  return `S3 access for InstanceAccess ${manifest}, managed by rolecall (rolecall.dev/manifest=${manifest})`;
}

export function manifestFromPolicyDescription(description: string | undefined): string | undefined {
  return description === undefined ? undefined : policyDescriptionMarker.exec(description)?.[1];
}

export function roleDescription(manifest: string): string {
  return `EC2 role for InstanceAccess ${manifest}, managed by rolecall`;
}
