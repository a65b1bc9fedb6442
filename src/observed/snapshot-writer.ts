import { iamNameKey } from "../desired/iam-names.js";
import type { Tags } from "../desired/ownership.js";
import {
  nameFromArn,
  type ObservedAssociation,
  type ObservedInstance,
  type ObservedInstanceProfile,
  type ObservedPolicy,
  type ObservedRole,
  type Snapshot,
} from "./snapshot.js";

/**
 * A snapshot that the executor updates as its calls succeed: later actions of the same pass find what earlier
 * ones created (a new policy's ARN), and the daemon's cache stays current between full reads.
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

  /** Takes instances and associations from a fresher read of EC2 (see refreshInstances). */
  takeEc2State(fresh: Snapshot): void {
    this.instances = fresh.instances;
    this.associations.clear();
    for (const [id, association] of fresh.associations) this.associations.set(id, association);
  }

  policy(name: string): ObservedPolicy | undefined {
    return this.policies.get(iamNameKey(name));
  }

  policyByArn(arn: string): ObservedPolicy | undefined {
    return this.policies.get(iamNameKey(nameFromArn(arn)));
  }

  role(name: string): ObservedRole | undefined {
    return this.roles.get(iamNameKey(name));
  }

  profile(name: string): ObservedInstanceProfile | undefined {
    return this.profiles.get(iamNameKey(name));
  }

  association(instanceId: string): ObservedAssociation | undefined {
    return this.associations.get(instanceId);
  }

  putPolicy(policy: ObservedPolicy): void {
    this.policies.set(iamNameKey(policy.name), policy);
  }

  updatePolicy(arn: string, change: (policy: ObservedPolicy) => ObservedPolicy): void {
    const policy = this.policyByArn(arn);
    if (policy !== undefined) this.putPolicy(change(policy));
  }

  removePolicy(arn: string): void {
    this.policies.delete(iamNameKey(nameFromArn(arn)));
  }

  putRole(role: ObservedRole): void {
    this.roles.set(iamNameKey(role.name), role);
  }

  updateRole(name: string, change: (role: ObservedRole) => ObservedRole): void {
    const role = this.role(name);
    if (role !== undefined) this.putRole(change(role));
  }

  removeRole(name: string): void {
    this.roles.delete(iamNameKey(name));
  }

  putProfile(profile: ObservedInstanceProfile): void {
    this.profiles.set(iamNameKey(profile.name), profile);
  }

  updateProfile(name: string, change: (profile: ObservedInstanceProfile) => ObservedInstanceProfile): void {
    const profile = this.profile(name);
    if (profile !== undefined) this.putProfile(change(profile));
  }

  removeProfile(name: string): void {
    this.profiles.delete(iamNameKey(name));
  }

  /** Instances whose current association names this profile. */
  instancesHolding(profileName: string): string[] {
    const key = iamNameKey(profileName);
    return [...this.associations.values()]
      .filter((association) => iamNameKey(nameFromArn(association.profileArn)) === key)
      .map((association) => association.instanceId);
  }

  /** Roles that have this managed policy attached. */
  rolesAttaching(policyArn: string): string[] {
    return [...this.roles.values()]
      .filter((role) => role.attachedPolicyArns.includes(policyArn))
      .map((role) => role.name);
  }

  putAssociation(association: ObservedAssociation): void {
    this.associations.set(association.instanceId, association);
  }

  removeAssociation(instanceId: string): void {
    this.associations.delete(instanceId);
  }
}

export function mergeTags(tags: Tags | undefined, set: Tags, remove: readonly string[] = []): Tags {
  const dropped = new Set(remove);
  return Object.fromEntries(Object.entries({ ...(tags ?? {}), ...set }).filter(([key]) => !dropped.has(key)));
}
