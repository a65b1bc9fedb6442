import type {
  ObservedAssociation,
  ObservedInstance,
  ObservedInstanceProfile,
  ObservedPolicy,
  ObservedRole,
  Snapshot,
} from "../observed/snapshot.js";
import * as lookup from "../observed/snapshot-lookup.js";
import type { Action } from "../plan/action.js";
import { applyAction, type ActionResponse, type SnapshotEdit } from "../plan/apply-action.js";

/**
 * A snapshot that follows the pass's own changes: each action that succeeds is applied to it (applyAction), so
 * later actions of the same pass find what earlier ones created (a new policy's ARN), and the daemon's cache
 * stays current between full reads.
 */
export class SnapshotWriter {
  private readonly policies: Map<string, ObservedPolicy>;
  private readonly roles: Map<string, ObservedRole>;
  private readonly profiles: Map<string, ObservedInstanceProfile>;
  private readonly associations: Map<string, ObservedAssociation>;
  private instances: ReadonlyMap<string, ObservedInstance>;

  constructor(base: Snapshot) {
    this.policies = new Map(base.policies);
    this.roles = new Map(base.roles);
    this.profiles = new Map(base.instanceProfiles);
    this.associations = new Map(base.associations);
    this.instances = base.instances;
  }

  /** A copy, safe to keep while this writer goes on changing. */
  snapshot(): Snapshot {
    return {
      policies: new Map(this.policies),
      roles: new Map(this.roles),
      instanceProfiles: new Map(this.profiles),
      instances: new Map(this.instances),
      associations: new Map(this.associations),
    };
  }

  /** The live state, without copying: for planning right now, not for keeping. */
  view(): Snapshot {
    return {
      policies: this.policies,
      roles: this.roles,
      instanceProfiles: this.profiles,
      instances: this.instances,
      associations: this.associations,
    };
  }

  /** Records what an action that succeeded did. */
  apply(action: Action, response: ActionResponse): void {
    for (const edit of applyAction(this.view(), action, response)) this.edit(edit);
  }

  /** Takes instances and associations from a fresher read of EC2 (see refreshInstances). */
  takeEc2State(fresh: Snapshot): void {
    this.instances = fresh.instances;
    this.associations.clear();
    for (const [id, association] of fresh.associations) this.associations.set(id, association);
  }

  /**
   * Takes a few instances read by ID: each replaces what the cache knew of it, and one that is terminated or no
   * longer exists leaves the cache (with its association).
   */
  takeInstances(
    ids: readonly string[],
    instances: readonly ObservedInstance[],
    associations: readonly ObservedAssociation[],
  ): void {
    const next = new Map(this.instances);
    for (const id of ids) {
      next.delete(id);
      this.associations.delete(id);
    }
    for (const instance of instances) if (instance.state !== "terminated") next.set(instance.id, instance);
    for (const association of associations)
      if (next.has(association.instanceId)) this.associations.set(association.instanceId, association);
    this.instances = next;
  }

  policy(name: string): ObservedPolicy | undefined {
    return lookup.policyNamed(this.view(), name);
  }

  role(name: string): ObservedRole | undefined {
    return lookup.roleNamed(this.view(), name);
  }

  profile(name: string): ObservedInstanceProfile | undefined {
    return lookup.profileNamed(this.view(), name);
  }

  association(instanceId: string): ObservedAssociation | undefined {
    return lookup.associationOf(this.view(), instanceId);
  }

  private edit(edit: SnapshotEdit): void {
    const map = {
      policies: this.policies,
      roles: this.roles,
      instanceProfiles: this.profiles,
      associations: this.associations,
    }[edit.in] as Map<string, unknown>;
    if (edit.value === undefined) map.delete(edit.key);
    else map.set(edit.key, edit.value);
  }
}
