import { isCompositeName } from "../desired/composite.js";
import { isDestructive } from "./action.js";
import type { Issue } from "./manifest-plan.js";
import type { PruneGroup } from "./prune-world.js";

/**
 * Why no removal may happen this pass, if that is so: an invalid file may be hiding manifest names, or the pass
 * would remove more than half of the managed manifests at once (a directory emptied by mistake looks like that).
 */
export function pruneSuspension(
  groups: ReadonlyMap<string, PruneGroup>,
  managedManifests: number,
  options: { readonly unnamedInvalid: boolean; readonly allowMassPrune: boolean },
): Issue | undefined {
  // Every manifest leaving management this pass counts, retained ones too: a directory emptied by mistake must
  // not lose its deletable half just because the other half is retained.
  const removing = [...groups.values()].filter(
    (group) => group.removed && group.actions.length > 0 && !isCompositeName(group.manifest),
  );
  const removingComposites = [...groups.values()].some(
    (group) => isCompositeName(group.manifest) && group.actions.some(isDestructive),
  );
  if (
    options.unnamedInvalid &&
    (removingComposites || removing.some((group) => group.actions.some(isDestructive)))
  ) {
    return {
      code: "PruneSuspended",
      severity: "warning",
      message:
        "an invalid manifest file could not be read far enough to know its names, so nothing is removed until it is fixed",
    };
  }
  if (!options.allowMassPrune && removing.length * 2 > managedManifests) {
    return {
      code: "PruneGuardTripped",
      severity: "error",
      message: `this pass would remove ${removing.length} of ${managedManifests} managed manifests (${removing.map((group) => group.manifest).join(", ")}); more than half at once looks like a mistake, so nothing is removed (allow it with --allow-mass-prune)`,
    };
  }
  return undefined;
}

/**
 * Holds back, with the suspension said on each group: everything of removed manifests (their orphan tags too, so
 * the count stays the same next pass), and anything destructive of the rest.
 */
export function holdBack(groups: Map<string, PruneGroup>, suspended: Issue): void {
  for (const group of groups.values()) {
    const held = group.removed ? group.actions : group.actions.filter(isDestructive);
    if (held.length === 0) continue;
    groups.set(group.manifest, {
      ...group,
      actions: group.actions.filter((action) => !held.includes(action)),
      issues: [...group.issues, suspended],
    });
  }
}
