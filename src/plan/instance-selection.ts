import { compositeMembersOf } from "../desired/composite.js";
import type { DesiredAccess } from "../desired/desired-access.js";
import { iamNameKey } from "../desired/iam-names.js";
import { readOwnership } from "../desired/ownership.js";
import { SelectorIndex } from "../desired/selector-index.js";
import {
  nameFromArn,
  selectableInstanceStates,
  type ObservedAssociation,
  type ObservedInstance,
  type ObservedInstanceProfile,
  type Snapshot,
} from "../observed/snapshot.js";
import type { DiffContext } from "./manifest-plan.js";

const selectable = new Set<string>(selectableInstanceStates);

export function isSelectable(instance: ObservedInstance): boolean {
  return selectable.has(instance.state);
}

/** One selectable instance as the pass found it: its association, and who owns the profile it holds. */
export interface Found {
  readonly instance: ObservedInstance;
  readonly association: ObservedAssociation | undefined;
  readonly heldName: string | undefined;
  readonly heldProfile: ObservedInstanceProfile | undefined;
  /** The owner in the held profile's tags: a manifest's name, or a composite's. */
  readonly owner: string | undefined;
  /** When the held profile is a composite: its members and their deletion policies, from its tags. */
  readonly heldMembers: ReadonlyMap<string, "delete" | "retain"> | undefined;
}

/** An instance and the manifests in force that select it, split by mode: only enforce-mode ones compose. */
export interface Selection {
  readonly found: Found;
  readonly enforce: readonly DesiredAccess[];
  readonly observe: readonly DesiredAccess[];
}

/** Every selectable instance with the manifests selecting it. */
export function selectInstances(snapshot: Snapshot, context: DiffContext): Selection[] {
  const index = new SelectorIndex(context.desired.values());
  const selections: Selection[] = [];
  for (const instance of snapshot.instances.values()) {
    if (!isSelectable(instance)) continue;
    const selectors = index.selecting(instance.id, instance.tags);
    selections.push({
      found: foundInstance(snapshot, instance),
      enforce: selectors.filter((desired) => desired.mode === "enforce"),
      observe: selectors.filter((desired) => desired.mode === "observe"),
    });
  }
  return selections;
}

function foundInstance(snapshot: Snapshot, instance: ObservedInstance): Found {
  const association = snapshot.associations.get(instance.id);
  const heldName = association === undefined ? undefined : nameFromArn(association.profileArn);
  const heldProfile =
    heldName === undefined ? undefined : snapshot.instanceProfiles.get(iamNameKey(heldName));
  const tags = heldProfile?.tags;
  return {
    instance,
    association,
    heldName,
    heldProfile,
    owner: tags === undefined ? undefined : readOwnership(tags).manifest,
    heldMembers: compositeMembersOf(tags),
  };
}
