import { ownershipTagKeys, type Tags } from "../desired/ownership.js";

/** Ownership tags to (re)write and keys to remove so that `observed` says what `desired` says. */
export function tagChanges(
  observed: Tags | undefined,
  desired: Tags,
): { set: Tags | undefined; remove: string[] } {
  const differs = Object.entries(desired).some(([key, value]) => observed?.[key] !== value);
  const remove = observed?.[ownershipTagKeys.orphaned] === undefined ? [] : [ownershipTagKeys.orphaned];
  return { set: differs ? desired : undefined, remove };
}

export function showTags(tags: Tags | undefined): string {
  if (tags === undefined) return "(not read)";
  const owned = Object.entries(tags).filter(([key]) => key.startsWith("rolecall.dev/"));
  return owned.length === 0 ? "(no rolecall tags)" : owned.map(([key, value]) => `${key}=${value}`).join(",");
}
