/**
 * Access terms: policy documents as the (effect, action, resource, condition) terms they grant, diffs of two sets
 * of terms, and their rendering as lines a reviewer reads. Pure (no I/O), below manifest-set in the layers, so
 * `diff`, `plan` and `explain` share one reading of a policy. See README "Access levels".
 */
export { diffAccess, applyAccessDiff, changesAccess, diffPolicies } from "./access-diff.js";
export type { AccessDiff, PolicyDiff } from "./access-diff.js";
export { groupGrants, grantsOfLine, accessLineJson } from "./access-lines.js";
export type { AccessLine, AccessLineJson } from "./access-lines.js";
export { summariseAccess } from "./access-summary.js";
export { actionKey, displayAction } from "./action-names.js";
export { canonicalCondition } from "./condition.js";
export type { CanonicalCondition } from "./condition.js";
export { describeLine, describeScope, describeCondition, visible } from "./describe-access.js";
export type { Literal } from "./describe-access.js";
export { diffDesired, comparedFields } from "./manifest-change.js";
export type { ChangeKind, FieldChange, ManifestChange } from "./manifest-change.js";
export { expandPolicy, grantKey, sortGrants } from "./policy-grants.js";
export type { AccessGrant, Effect, PolicyAccess, Scope } from "./policy-grants.js";
export {
  comparePairs,
  describeWitness,
  overlapReason,
  overlapWitness,
  overlappingPairs,
  selectorsOverlap,
} from "./selector-overlap.js";
export type { NamedSelector, OverlapWitness } from "./selector-overlap.js";
