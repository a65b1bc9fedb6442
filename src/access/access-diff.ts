import { expandPolicy, grantKey, sortGrants, type AccessGrant } from "./policy-grants.js";

/** What changes from one set of access terms to another. */
export interface AccessDiff {
  /** Terms HEAD has and BASE has not. */
  readonly added: readonly AccessGrant[];
  /** Terms BASE has and HEAD has not. */
  readonly removed: readonly AccessGrant[];
}

/** A change of policy document in access terms, with what could not be read on either side. */
export interface PolicyDiff extends AccessDiff {
  /** The documents' Version elements, when they differ (a policy variable means something else in 2008-10-17). */
  readonly version: { readonly base: string | null; readonly head: string | null } | null;
  readonly problems: { readonly base: readonly string[]; readonly head: readonly string[] };
}

/**
 * The terms gained and lost between two sets of terms. Exact by construction: removing `removed` from BASE and
 * adding `added` gives HEAD (see `applyAccessDiff`); a term on both sides, however it is spelled, is in neither.
 */
export function diffAccess(base: readonly AccessGrant[], head: readonly AccessGrant[]): AccessDiff {
  const baseKeys = new Set(base.map(grantKey));
  const headKeys = new Set(head.map(grantKey));
  return {
    added: sortGrants(head.filter((grant) => !baseKeys.has(grantKey(grant)))),
    removed: sortGrants(base.filter((grant) => !headKeys.has(grantKey(grant)))),
  };
}

/** BASE with a diff applied: its terms less `removed`, plus `added`, each once. */
export function applyAccessDiff(base: readonly AccessGrant[], diff: AccessDiff): AccessGrant[] {
  const removed = new Set(diff.removed.map(grantKey));
  const result = new Map<string, AccessGrant>();
  for (const grant of base) if (!removed.has(grantKey(grant))) result.set(grantKey(grant), grant);
  for (const grant of diff.added) result.set(grantKey(grant), grant);
  return sortGrants([...result.values()]);
}

/** Whether a diff changes anything. */
export function changesAccess(diff: AccessDiff): boolean {
  return diff.added.length > 0 || diff.removed.length > 0;
}

/**
 * Two policy documents compared in access terms: the live default version and the compiled one (plan), or two
 * compiled ones (diff). Either may be undefined or unreadable; it then has no terms and says so in `problems`.
 */
export function diffPolicies(base: unknown, head: unknown): PolicyDiff {
  const before = expandPolicy(base);
  const after = expandPolicy(head);
  const { added, removed } = diffAccess(before.grants, after.grants);
  return {
    added,
    removed,
    version:
      before.version === after.version || base === undefined
        ? null
        : { base: before.version, head: after.version },
    problems: { base: before.problems, head: after.problems },
  };
}
