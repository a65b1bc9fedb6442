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
  | "InstanceClaimedByManifests"
  | "ForeignInstanceProfile"
  | "InstanceClaimedByInvalidManifest"
  | "InstanceNotFound"
  | "PruneSuspended"
  | "RemovalDeferred"
  | "PruneGuardTripped";

export type AssociationState = "associated" | "pending" | "conflict" | "excluded";

export interface InstanceStatus {
  readonly id: string;
  readonly state: string;
  readonly association: AssociationState;
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
