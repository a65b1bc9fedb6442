import type { DesiredAccess } from "../desired/desired-access.js";
import { stableStringify } from "../util/stable-json.js";
import { changesAccess, diffAccess, type AccessDiff } from "./access-diff.js";
import { expandPolicy } from "./policy-grants.js";

export type ChangeKind = "added" | "removed" | "changed" | "unchanged";

/** A field whose effective value (defaults applied) differs; null on the side where the manifest is absent. */
export interface FieldChange {
  /** Where it is written in a manifest, e.g. `spec.instanceSelector.matchTags`. */
  readonly field: string;
  readonly base: unknown;
  readonly head: unknown;
}

/** What one manifest's change does, in access terms and in the fields that decide who gets it and what remains. */
export interface ManifestChange {
  readonly manifest: string;
  readonly change: ChangeKind;
  readonly access: AccessDiff;
  readonly fields: readonly FieldChange[];
}

/**
 * The fields compared besides the policy, read from the compiled form so that a default written out (or left
 * out) is no change. Labels are not among them: they change nothing in AWS.
 */
export const comparedFields: readonly {
  readonly field: string;
  readonly read: (d: DesiredAccess) => unknown;
}[] = [
  { field: "spec.instanceSelector.instanceIds", read: (desired) => desired.selector.instanceIds },
  { field: "spec.instanceSelector.matchTags", read: (desired) => sortedTags(desired.selector.matchTags) },
  { field: "spec.mode", read: (desired) => desired.mode },
  { field: "spec.onConflict", read: (desired) => desired.onConflict },
  { field: "spec.deletionPolicy", read: (desired) => desired.deletionPolicy },
  { field: "spec.adopt", read: (desired) => desired.adopt },
  { field: "spec.iam.policyName", read: (desired) => desired.policy.name },
  { field: "spec.iam.roleName", read: (desired) => desired.role.name },
  { field: "spec.iam.instanceProfileName", read: (desired) => desired.instanceProfile.name },
];

/**
 * Compares one manifest's two compiled versions (either may be absent): the access gained and lost, from the
 * compiled policy documents, and the fields that changed. For an added manifest every term is gained and every
 * field goes from null to its value; for a removed one, the reverse. YAML layout, key order, comments and
 * written-out defaults compile to the same and are no change.
 */
export function diffDesired(
  name: string,
  base: DesiredAccess | undefined,
  head: DesiredAccess | undefined,
): ManifestChange {
  const baseGrants = base === undefined ? [] : expandPolicy(base.policy.document).grants;
  const headGrants = head === undefined ? [] : expandPolicy(head.policy.document).grants;
  const access = diffAccess(baseGrants, headGrants);
  const fields: FieldChange[] = [];
  for (const { field, read } of comparedFields) {
    const before = base === undefined ? null : read(base);
    const after = head === undefined ? null : read(head);
    if (stableStringify(before) !== stableStringify(after)) fields.push({ field, base: before, head: after });
  }
  const change: ChangeKind =
    base === undefined
      ? "added"
      : head === undefined
        ? "removed"
        : changesAccess(access) || fields.length > 0
          ? "changed"
          : "unchanged";
  return { manifest: name, change, access, fields };
}

function sortedTags(tags: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
