import { s3Actions } from "../desired/s3-policy.js";
import { groupGrants } from "./access-lines.js";
import { describeLine, visible } from "./describe-access.js";
import type { AccessGrant } from "./policy-grants.js";

const lower = (actions: readonly string[]) => actions.map((action) => action.toLowerCase());
/** The object actions of each level, as the compiler grants them (README: Access levels). */
const levels = [
  ["read", lower(s3Actions.readObjects)],
  ["write", lower(s3Actions.writeObjects)],
  ["delete", lower(s3Actions.deleteObjects)],
] as const;
/** Bucket actions a level brings with it; they say nothing a reviewer must read apart from the level. */
const supportingBucketActions = new Set(
  lower([...s3Actions.readBucket, ...s3Actions.locateBucket, ...s3Actions.writeBucket]),
);
const writeBucketActions = new Set(lower(s3Actions.writeBucket));
const listAllAction = "s3:listallmybuckets";
const locateAction = "s3:getbucketlocation";

interface Sorted {
  /** "bucket" or "bucket/prefix" → the object actions granted there (lower case) and their terms. */
  readonly objects: Map<string, Map<string, AccessGrant>>;
  /** Bucket-level supporting actions, by bucket. */
  readonly bucketTerms: Map<string, AccessGrant[]>;
  readonly consoleTerms: { listAll: AccessGrant[]; locateAll: AccessGrant[] };
  readonly other: AccessGrant[];
}

/**
 * Access in the words of a manifest, for one-line summaries such as
 * `i-0abc gains read on my-bucket/in/ (via dev-read)`: `read on my-bucket/in/`, `read-write on logs`,
 * `list all buckets`. Built from compiled terms, not from the manifest: a level is named only where every
 * object action of that level is granted, and anything the levels do not account for (another action, a Deny, a
 * condition on objects) is listed as it is, so a summary never hides a term.
 */
export function summariseAccess(grants: readonly AccessGrant[]): string[] {
  const sorted = sortTerms(grants);
  const byLevel = new Map<string, string[]>();
  const bucketLevels = new Map<string, Set<string>>();
  const leftover: AccessGrant[] = [...sorted.other];
  for (const [scope, actions] of [...sorted.objects].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const named = levels.filter(([, wanted]) => wanted.every((action) => actions.has(action)));
    const covered = new Set<string>(named.flatMap(([, wanted]) => wanted));
    for (const [action, grant] of actions) if (!covered.has(action)) leftover.push(grant);
    if (named.length === 0) continue;
    const level = levelName(named.map(([name]) => name));
    byLevel.set(level, [...(byLevel.get(level) ?? []), scope]);
    const bucket = scope.split("/")[0] ?? scope;
    bucketLevels.set(bucket, new Set([...(bucketLevels.get(bucket) ?? []), ...named.map(([name]) => name)]));
  }
  for (const [bucket, terms] of sorted.bucketTerms)
    for (const term of terms) if (!supports(term, bucketLevels.get(bucket))) leftover.push(term);
  const summary = [...byLevel].map(([level, scopes]) => `${level} on ${scopes.map(visible).join(", ")}`);
  const { listAll, locateAll } = sorted.consoleTerms;
  if (listAll.length > 0) summary.push("list all buckets");
  else leftover.push(...locateAll);
  return [...summary, ...groupGrants(leftover).map((line) => describeLine(line))];
}

/** A bucket action is part of a level only on a bucket where that level is granted on some keys. */
function supports(term: AccessGrant, granted: ReadonlySet<string> | undefined): boolean {
  const action = "only" in term.action ? term.action.only.toLowerCase() : "";
  const needs = writeBucketActions.has(action) ? "write" : "read";
  return granted?.has(needs) ?? false;
}

function levelName(names: readonly string[]): string {
  return names.length === 3 ? "read-write" : names.join(" and ");
}

function sortTerms(grants: readonly AccessGrant[]): Sorted {
  const sorted: Sorted = {
    objects: new Map(),
    bucketTerms: new Map(),
    consoleTerms: { listAll: [], locateAll: [] },
    other: [],
  };
  for (const grant of grants) {
    const plain =
      grant.effect === "Allow" &&
      grant.principal === null &&
      "only" in grant.action &&
      grant.resource !== null;
    const resource = grant.resource !== null && "only" in grant.resource ? grant.resource.only : undefined;
    const action = "only" in grant.action ? grant.action.only.toLowerCase() : "";
    const target = plain && resource !== undefined ? s3Target(resource) : undefined;
    if (target === undefined) sorted.other.push(grant);
    else if (action === listAllAction && (target.kind === "everything" || target.kind === "allBuckets"))
      sorted.consoleTerms.listAll.push(grant);
    else if (action === locateAction && target.kind === "allBuckets")
      sorted.consoleTerms.locateAll.push(grant);
    else if (target.kind === "objects" && grant.condition === null && isObjectAction(action))
      push(sorted.objects, target.scope, action, grant);
    else if (target.kind === "bucket" && supportingBucketActions.has(action))
      sorted.bucketTerms.set(target.bucket, [...(sorted.bucketTerms.get(target.bucket) ?? []), grant]);
    else sorted.other.push(grant);
  }
  return sorted;
}

type S3Target =
  | { readonly kind: "everything" }
  | { readonly kind: "allBuckets" }
  | { readonly kind: "bucket"; readonly bucket: string }
  | { readonly kind: "objects"; readonly scope: string };

/** `*`; `arn:P:s3:::*`; `arn:P:s3:::bucket`; `arn:P:s3:::bucket/prefix*` (scope `bucket/prefix`, or `bucket`). */
function s3Target(resource: string): S3Target | undefined {
  if (resource === "*") return { kind: "everything" };
  const match = /^arn:[a-z-]+:s3:::(.+)$/.exec(resource);
  const rest = match?.[1];
  if (rest === undefined) return undefined;
  if (rest === "*") return { kind: "allBuckets" };
  const slash = rest.indexOf("/");
  if (slash === -1) return /[*?]/.test(rest) ? undefined : { kind: "bucket", bucket: rest };
  const bucket = rest.slice(0, slash);
  const key = rest.slice(slash + 1);
  // Only "prefix*": a wildcard elsewhere is not a prefix and is shown as the pattern it is.
  if (/[*?]/.test(bucket) || !key.endsWith("*") || /[*?]/.test(key.slice(0, -1))) return undefined;
  const prefix = key.slice(0, -1);
  return { kind: "objects", scope: prefix === "" ? bucket : `${bucket}/${prefix}` };
}

function isObjectAction(action: string): boolean {
  return levels.some(([, actions]) => (actions as readonly string[]).includes(action));
}

function push(map: Map<string, Map<string, AccessGrant>>, scope: string, action: string, grant: AccessGrant) {
  const actions = map.get(scope) ?? new Map<string, AccessGrant>();
  actions.set(action, grant);
  map.set(scope, actions);
}
