import { iamNameKey } from "../desired/iam-names.js";
import {
  nameFromArn,
  type ObservedAssociation,
  type ObservedInstanceProfile,
  type ObservedPolicy,
  type ObservedRole,
  type Snapshot,
} from "./snapshot.js";

/** Lookups of a snapshot the way IAM finds things: names regardless of case, policies by ARN. */

export function policyNamed(snapshot: Snapshot, name: string): ObservedPolicy | undefined {
  return snapshot.policies.get(iamNameKey(name));
}

/** The policy an ARN names (by its name, as IAM names are unique per account). */
export function policyAt(snapshot: Snapshot, arn: string): ObservedPolicy | undefined {
  return snapshot.policies.get(iamNameKey(nameFromArn(arn)));
}

export function roleNamed(snapshot: Snapshot, name: string): ObservedRole | undefined {
  return snapshot.roles.get(iamNameKey(name));
}

export function profileNamed(snapshot: Snapshot, name: string): ObservedInstanceProfile | undefined {
  return snapshot.instanceProfiles.get(iamNameKey(name));
}

export function associationOf(snapshot: Snapshot, instanceId: string): ObservedAssociation | undefined {
  return snapshot.associations.get(instanceId);
}

/** Instances whose current association names this profile. */
export function instancesHolding(snapshot: Snapshot, profileName: string): string[] {
  const key = iamNameKey(profileName);
  return [...snapshot.associations.values()]
    .filter((association) => iamNameKey(nameFromArn(association.profileArn)) === key)
    .map((association) => association.instanceId);
}

/** Roles that have this managed policy attached. */
export function rolesAttaching(snapshot: Snapshot, policyArn: string): string[] {
  return [...snapshot.roles.values()]
    .filter((role) => role.attachedPolicyArns.includes(policyArn))
    .map((role) => role.name);
}

/** Instance profiles that hold this role. */
export function profilesHolding(snapshot: Snapshot, roleName: string): string[] {
  const key = iamNameKey(roleName);
  return [...snapshot.instanceProfiles.values()]
    .filter((profile) => profile.roleNames.some((name) => iamNameKey(name) === key))
    .map((profile) => profile.name);
}
