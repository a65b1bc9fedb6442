import type { DesiredAccess } from "../desired/desired-access.js";
import { iamNameKey } from "../desired/iam-names.js";
import {
  manifestFromPolicyDescription,
  ownershipTagKeys,
  readOwnership,
  type Ownership,
  type Tags,
} from "../desired/ownership.js";
import { compositeMembersOf, isCompositeName } from "../desired/composite.js";
import type { Snapshot } from "../observed/snapshot.js";
import type { DiffContext } from "./manifest-plan.js";

export type Kind = "policy" | "role" | "instanceProfile";

/** A resource whose tags say rolecall owns it. */
export interface Owned {
  readonly kind: Kind;
  readonly name: string;
  readonly ownership: Ownership;
  /** Under this controller's IAM path, or taken over by it (rolecall.dev/iam-path). */
  readonly inScope: boolean;
  /** A composite's members, from its tags. */
  readonly members?: readonly string[];
}

export interface Inventory {
  /** What no manifest in force wants any more, by the manifest that owns it. */
  readonly candidates: ReadonlyMap<string, readonly Owned[]>;
  /** Manifests rolecall manages: those in force, and owners of resources not yet orphaned. */
  readonly managedManifests: ReadonlySet<string>;
  /** Policies whose description names a manifest but whose tags were not read: nothing can be concluded. */
  readonly unknownPolicies: readonly string[];
}

/** Finds what rolecall owns and no manifest in force wants (removed manifests, renamed resources). */
export function inventory(
  snapshot: Snapshot,
  context: DiffContext,
  iamPath: string | undefined,
  wantedComposites: ReadonlySet<string> = new Set(),
): Inventory {
  const inScope = (path: string, tags: Tags) =>
    iamPath === undefined || path.startsWith(iamPath) || tags[ownershipTagKeys.iamPath] === iamPath;
  const owned: Owned[] = [];
  const own = (kind: Kind, name: string, path: string, tags: Tags) => {
    const members = compositeMembersOf(tags);
    owned.push({
      kind,
      name,
      ownership: readOwnership(tags),
      inScope: inScope(path, tags),
      ...(members === undefined ? {} : { members: [...members.keys()] }),
    });
  };
  for (const role of snapshot.roles.values()) own("role", role.name, role.path, role.tags);
  for (const profile of snapshot.instanceProfiles.values())
    if (profile.tags !== undefined) own("instanceProfile", profile.name, profile.path, profile.tags);
  const unknownPolicies: string[] = [];
  for (const policy of snapshot.policies.values()) {
    if (policy.tags !== undefined) {
      own("policy", policy.name, policy.path, policy.tags);
      continue;
    }
    const marker = manifestFromPolicyDescription(policy.description);
    const holder = marker === undefined ? undefined : context.desired.get(marker);
    if (marker !== undefined && holder?.policy.name !== policy.name && inScope(policy.path, {}))
      unknownPolicies.push(policy.name);
  }
  return { ...candidatesOf(owned, context, wantedComposites), unknownPolicies };
}

function candidatesOf(
  owned: readonly Owned[],
  context: DiffContext,
  wantedComposites: ReadonlySet<string>,
): { candidates: Map<string, Owned[]>; managedManifests: Set<string> } {
  const wanted = wantedNames(context.desired);
  for (const name of wantedComposites) {
    wanted.role.add(iamNameKey(name));
    wanted.instanceProfile.add(iamNameKey(name));
  }
  // Manifests in force count as managed even before their resources exist.
  const managedManifests = new Set<string>(context.desired.keys());
  const candidates = new Map<string, Owned[]>();
  for (const resource of owned) {
    const owner = resource.ownership.manifest;
    if (!resource.ownership.managed || owner === undefined || !resource.inScope) continue;
    // Composites are collected under the same rules, but they are not manifests: the guard does not count them.
    if (!resource.ownership.orphaned && !isCompositeName(owner)) managedManifests.add(owner);
    if (wanted[resource.kind].has(iamNameKey(resource.name))) continue; // wanted by a manifest in force
    if (context.protectedNames.has(owner)) continue;
    // A composite one of whose members is an invalid file never seen valid is left alone, as that member is.
    if (resource.members?.some((member) => context.protectedNames.has(member)) === true) continue;
    const list = candidates.get(owner) ?? [];
    list.push(resource);
    candidates.set(owner, list);
  }
  return { candidates, managedManifests };
}

function wantedNames(desired: ReadonlyMap<string, DesiredAccess>): Record<Kind, Set<string>> {
  const wanted: Record<Kind, Set<string>> = {
    policy: new Set(),
    role: new Set(),
    instanceProfile: new Set(),
  };
  for (const access of desired.values()) {
    wanted.policy.add(iamNameKey(access.policy.name));
    wanted.role.add(iamNameKey(access.role.name));
    wanted.instanceProfile.add(iamNameKey(access.instanceProfile.name));
  }
  return wanted;
}
