import type { DesiredAccess } from "../desired/desired-access.js";
import { iamNameKey } from "../desired/iam-names.js";
import { nameFromArn, type Snapshot } from "../observed/snapshot.js";
import type { Action, Reason } from "./action.js";
import type { Issue } from "./manifest-plan.js";
import type { Owned } from "./prune-inventory.js";

export interface PruneOptions {
  /** Some invalid file hid its manifest names: nothing may be removed, it could be theirs. */
  readonly unnamedInvalid: boolean;
  /** Allow one pass to remove more than half of the managed manifests. */
  readonly allowMassPrune: boolean;
  /**
   * Instances a converging action of this pass moves to another profile (or a composite releases): their
   * profile's removal does not disassociate them again.
   */
  readonly reassignedInstances: ReadonlySet<string>;
  /** Instances left as they are this pass (claimed by several manifests, or by a blocked one): hands off. */
  readonly untouchableInstances: ReadonlySet<string>;
  /** Manifests in force (and composites) whose converging actions run this pass (enforce mode, not blocked). */
  readonly actingManifests: ReadonlySet<string>;
  /** Composites some instance needs after this pass: their role and profile are wanted. */
  readonly wantedComposites?: ReadonlySet<string>;
  /** Composites whose converging actions run this pass: they detach whatever else their role holds. */
  readonly actingComposites?: ReadonlySet<string>;
  /**
   * This controller's IAM path: only resources under it (or taken over by it, per their rolecall.dev/iam-path
   * tag) are its to remove, so two rolecalls with different paths in one account never prune each other.
   */
  readonly iamPath?: string;
}

export interface PruneGroup {
  readonly manifest: string;
  /** The manifest no longer exists (as opposed to a manifest in force that renamed a resource). */
  readonly removed: boolean;
  readonly actions: Action[];
  readonly drift: Reason[];
  readonly issues: Issue[];
}

export interface PruneResult {
  readonly groups: ReadonlyMap<string, PruneGroup>;
  /** Why nothing was removed this pass, when something would have been. */
  readonly suspended: Issue | undefined;
}

/** What every group's removal plan needs to know of the others and of the pass. */
export interface PruneWorld {
  readonly snapshot: Snapshot;
  readonly options: PruneOptions;
  /** Profile (lower-cased name) → the manifest in force that wants it. */
  readonly wantedProfiles: ReadonlyMap<string, string>;
  /** Roles an acting manifest wants: its converging actions detach whatever else is attached to them. */
  readonly cleanedRoles: ReadonlySet<string>;
  /** Filled while drafting: roles some group deletes this pass. */
  readonly deletedRoles: Set<string>;
  /** Profiles (lower-cased) some group deletes this pass: each takes its own roles out first. */
  readonly deletingProfiles: ReadonlySet<string>;
  /** Profiles that would be deleted but an instance that must be left alone still holds: they stay this pass. */
  readonly keptProfiles: ReadonlyMap<string, readonly string[]>;
}

export function pruneWorld(
  snapshot: Snapshot,
  desired: ReadonlyMap<string, DesiredAccess>,
  candidates: ReadonlyMap<string, readonly Owned[]>,
  options: PruneOptions,
): PruneWorld {
  return {
    snapshot,
    options,
    wantedProfiles: new Map(
      [...desired.values()].map((access) => [iamNameKey(access.instanceProfile.name), access.manifest]),
    ),
    cleanedRoles: new Set([
      ...[...desired.values()]
        .filter((access) => options.actingManifests.has(access.manifest))
        .map((access) => iamNameKey(access.role.name)),
      ...[...(options.actingComposites ?? [])].map(iamNameKey),
    ]),
    deletedRoles: new Set(),
    ...profilesToDelete(candidates, snapshot, options),
  };
}

function profilesToDelete(
  candidates: ReadonlyMap<string, readonly Owned[]>,
  snapshot: Snapshot,
  options: PruneOptions,
): { deletingProfiles: Set<string>; keptProfiles: Map<string, string[]> } {
  const deletingProfiles = new Set<string>();
  const keptProfiles = new Map<string, string[]>();
  for (const resources of candidates.values()) {
    for (const resource of resources) {
      if (resource.kind !== "instanceProfile" || resource.ownership.deletionPolicy !== "delete") continue;
      const key = iamNameKey(resource.name);
      const untouchable = [...snapshot.associations.values()]
        .filter((association) => iamNameKey(nameFromArn(association.profileArn)) === key)
        .map((association) => association.instanceId)
        .filter((instanceId) => options.untouchableInstances.has(instanceId));
      if (untouchable.length > 0) keptProfiles.set(key, untouchable);
      else deletingProfiles.add(key);
    }
  }
  return { deletingProfiles, keptProfiles };
}

export const deferred = (resource: string, message: string): Issue => ({
  code: "RemovalDeferred",
  severity: "warning",
  message,
  resource,
});
