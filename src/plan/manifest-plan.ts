import type { DesiredAccess } from "../desired/desired-access.js";
import type { Mode } from "../manifest/instance-access.js";
import type { Action, Reason } from "./action.js";

/** What the diff knows about the manifest set as a whole. */
export interface DiffContext {
  /** Manifests in force (valid now, or last valid while their file is broken), by name. */
  readonly desired: ReadonlyMap<string, DesiredAccess>;
  /** Manifests whose file is invalid and that were never valid: their resources are left alone. */
  readonly protectedNames: ReadonlySet<string>;
}

/** A problem that keeps a manifest from converging, or a warning worth showing. */
export interface Issue {
  /** CamelCase, stable: usable as a status condition reason. */
  readonly code: IssueCode;
  readonly severity: "error" | "warning";
  readonly message: string;
  readonly resource?: string;
}

export type IssueCode =
  | "NotOwned"
  | "OwnedByInvalidManifest"
  | "OwnedByOtherManifest"
  | "OwnershipUnknown"
  | "InstanceNeedsTooManyPolicies"
  | "CompositeRetained"
  | "ForeignInstanceProfile"
  | "InstanceClaimedByInvalidManifest"
  | "InstanceNotFound"
  | "PruneSuspended"
  | "RemovalDeferred"
  | "PruneGuardTripped";

/**
 * associated: holds the profile it should; pending: being given it; conflict: left as it is (a foreign profile, a
 * quota, a resource held by someone else); excluded: no longer selected, losing the profile; retained: holds a
 * composite kept in place because a member with deletionPolicy retain was removed.
 */
export type AssociationState = "associated" | "pending" | "conflict" | "excluded" | "retained";

export interface InstanceStatus {
  readonly id: string;
  readonly state: string;
  readonly association: AssociationState;
  /** The profile the instance should hold (for excluded or retained ones: the one it holds). */
  readonly profile?: string;
  /** The other manifests whose access the instance gets through the same composite profile. */
  readonly sharedWith?: readonly string[];
}

/** The ARNs of a manifest's chain as found (or, after a pass, as it left them). */
export interface ManifestResources {
  readonly policyArn?: string;
  readonly roleArn?: string;
  readonly instanceProfileArn?: string;
  /** The boundary the role carries, if any. */
  readonly permissionsBoundary?: string;
}

/** What one manifest needs done, and what was found. */
export interface ManifestPlan {
  readonly manifest: string;
  readonly mode: Mode;
  /** Converging actions, in order. */
  readonly actions: Action[];
  /** Removal of what no manifest wants any more; run after every manifest's converging actions. */
  readonly pruneActions: Action[];
  readonly drift: Reason[];
  readonly issues: Issue[];
  readonly instances: InstanceStatus[];
  readonly resources: ManifestResources;
  /** The composite plans of this pass this manifest is a member of (their actions are theirs, not this plan's). */
  readonly composites?: readonly string[];
}

/** A composite's plan: its role and profile, the instances moving onto it or off it, and its removal. */
export interface CompositePlan extends ManifestPlan {
  readonly members: readonly string[];
}

export function emptyManifestPlan(manifest: string, mode: Mode): ManifestPlan {
  return {
    manifest,
    mode,
    actions: [],
    pruneActions: [],
    drift: [],
    issues: [],
    instances: [],
    resources: {},
  };
}
