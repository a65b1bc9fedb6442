import { ownershipTagKeys, type Tags } from "../desired/ownership.js";
import type { Action, OwnershipExpectation, Reason } from "./action.js";

/** What to write and what to remove so a resource's tags say what the manifest says. */
export interface TagChanges {
  readonly set: Tags | undefined;
  readonly remove: readonly string[];
}

/** Ownership tags to (re)write and keys to remove so that `observed` says what `desired` says. */
export function tagChanges(observed: Tags | undefined, desired: Tags): TagChanges {
  const differs = Object.entries(desired).some(([key, value]) => observed?.[key] !== value);
  const remove = observed?.[ownershipTagKeys.orphaned] === undefined ? [] : [ownershipTagKeys.orphaned];
  return { set: differs ? desired : undefined, remove };
}

/** The resource tag actions apply to. */
export type TagTarget =
  | { readonly kind: "policy"; readonly policyArn: string; readonly expectOwner?: OwnershipExpectation }
  | { readonly kind: "role"; readonly roleName: string }
  | { readonly kind: "instanceProfile"; readonly profileName: string };

/** The tag and untag actions, in that order, that make the changes on one resource. */
export function tagActions(
  manifest: string,
  target: TagTarget,
  changes: TagChanges,
  reason: Reason,
): Action[] {
  const actions: Action[] = [];
  const base = { manifest, reason };
  const { set, remove } = changes;
  const keys = [...remove];
  switch (target.kind) {
    case "policy": {
      const owner = target.expectOwner === undefined ? {} : { expectOwner: target.expectOwner };
      if (set !== undefined)
        actions.push({ ...base, kind: "tagPolicy", policyArn: target.policyArn, tags: set, ...owner });
      if (keys.length > 0)
        actions.push({ ...base, kind: "untagPolicy", policyArn: target.policyArn, keys, ...owner });
      break;
    }
    case "role":
      if (set !== undefined) actions.push({ ...base, kind: "tagRole", roleName: target.roleName, tags: set });
      if (keys.length > 0) actions.push({ ...base, kind: "untagRole", roleName: target.roleName, keys });
      break;
    case "instanceProfile":
      if (set !== undefined)
        actions.push({ ...base, kind: "tagInstanceProfile", profileName: target.profileName, tags: set });
      if (keys.length > 0)
        actions.push({ ...base, kind: "untagInstanceProfile", profileName: target.profileName, keys });
      break;
  }
  return actions;
}

export function showTags(tags: Tags | undefined): string {
  if (tags === undefined) return "(not read)";
  const owned = Object.entries(tags).filter(([key]) => key.startsWith("rolecall.dev/"));
  return owned.length === 0 ? "(no rolecall tags)" : owned.map(([key, value]) => `${key}=${value}`).join(",");
}

/** The reason for a tag change on a resource. */
export function tagReason(resource: string, desired: Tags, actual: Tags | undefined): Reason {
  return { resource, field: "tags", desired: showTags(desired), actual: showTags(actual) };
}
