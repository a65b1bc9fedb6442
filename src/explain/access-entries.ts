import { expandPolicy, type AccessGrant } from "../access/index.js";
import type { AccessLevel } from "../manifest/instance-access.js";

/** One line of an instance's access: a level on a bucket (or a prefix of it), and where it comes from. */
export interface AccessEntry {
  readonly bucket: string;
  /** Null for the whole bucket. */
  readonly prefix: string | null;
  readonly access: AccessLevel;
  readonly manifests: readonly string[];
  /** The S3 actions behind it, exactly (a hand-edited policy may grant more or other than a level). */
  readonly actions: readonly string[];
}

/** A policy an instance's access comes from, and the manifest it belongs to (if it is one of rolecall's). */
export interface SourcePolicy {
  readonly name: string;
  readonly document: unknown;
  readonly manifest: string | undefined;
}

export interface PolicyAccessView {
  readonly entries: AccessEntry[];
  /** What the policies grant that access levels cannot say: Deny, NotAction, non-S3 actions, unreadable statements. */
  readonly notes: string[];
}

const objectLevels: readonly (readonly [string, "read" | "write" | "delete"])[] = [
  ["s3:GetObject", "read"],
  ["s3:PutObject", "write"],
  ["s3:DeleteObject", "delete"],
];

/**
 * What a set of policies lets its holder do in S3, as access levels per bucket and prefix: read where objects can
 * be got, write where they can be put, read-write where both and deletion. Computed from the documents alone, so
 * the same function states what manifests declare (their compiled policies) and what a role holds (its live ones).
 */
export function accessOf(policies: readonly SourcePolicy[]): PolicyAccessView {
  const scopes = new Map<
    string,
    { bucket: string; prefix: string | null; actions: Set<string>; manifests: Set<string> }
  >();
  const notes: string[] = [];
  for (const policy of policies) {
    const access = expandPolicy(policy.document);
    for (const problem of access.problems) notes.push(`${policy.name}: ${problem}`);
    for (const grant of access.grants) {
      const target = objectTarget(grant);
      if (target === undefined) {
        const note = unusual(grant);
        if (note !== undefined) notes.push(`${policy.name}: ${note}`);
        continue;
      }
      const key = `${target.bucket}\u0000${target.prefix ?? ""}`;
      const scope = scopes.get(key) ?? {
        ...target,
        actions: new Set<string>(),
        manifests: new Set<string>(),
      };
      scope.actions.add(target.action);
      if (policy.manifest !== undefined) scope.manifests.add(policy.manifest);
      scopes.set(key, scope);
    }
  }
  const entries = [...scopes.values()].flatMap((scope) =>
    levelsOf(scope.actions).map((access) => ({
      bucket: scope.bucket,
      prefix: scope.prefix,
      access,
      manifests: [...scope.manifests].sort(),
      actions: [...scope.actions].sort(),
    })),
  );
  return { entries: sortEntries(entries), notes: [...new Set(notes)] };
}

/** The levels a set of object actions amounts to: one level, or (an odd hand-made mix) read and write apart. */
function levelsOf(actions: ReadonlySet<string>): AccessLevel[] {
  const has = (level: "read" | "write" | "delete") =>
    objectLevels.some(
      ([action, of]) => of === level && [...actions].some((granted) => actionMatches(granted, action)),
    );
  const read = has("read");
  const write = has("write");
  if (read && write && has("delete")) return ["read-write"];
  return [...(read ? ["read" as const] : []), ...(write ? ["write" as const] : [])];
}

/** An Allow of one action on objects of a bucket: `arn:aws:s3:::BUCKET/PREFIX*`. */
function objectTarget(
  grant: AccessGrant,
): { bucket: string; prefix: string | null; action: string } | undefined {
  if (
    grant.effect !== "Allow" ||
    !("only" in grant.action) ||
    grant.resource === null ||
    !("only" in grant.resource)
  )
    return undefined;
  const action = grant.action.only;
  if (!/^s3:/i.test(action) && action !== "*") return undefined;
  const resource = grant.resource.only;
  if (resource === "*") return { bucket: "*", prefix: null, action };
  const match = /^arn:[\w-]+:s3:::([^/]+)\/(.*)$/.exec(resource);
  if (match === null) return undefined;
  const [, bucket = "", rest = ""] = match;
  const prefix = rest === "*" ? null : rest.endsWith("*") ? rest.slice(0, -1) : rest;
  return { bucket, prefix, action };
}

function unusual(grant: AccessGrant): string | undefined {
  if (grant.effect === "Deny") return "denies some access (not shown as levels)";
  if ("except" in grant.action) return `grants every action except ${grant.action.except.join(", ")}`;
  if (grant.resource !== null && "except" in grant.resource) return "grants on every resource except some";
  const action = grant.action.only;
  if (!/^s3:/i.test(action) && action !== "*") return `grants ${action}, which is not S3`;
  return undefined;
}

/** IAM's wildcard match of an action name, without case. */
function actionMatches(pattern: string, action: string): boolean {
  const source = pattern
    .split("")
    .map((character) =>
      character === "*" ? ".*" : character === "?" ? "." : character.replace(/[.+^${}()|[\]\\]/g, "\\$&"),
    )
    .join("");
  return new RegExp(`^${source}$`, "i").test(action);
}

export function sortEntries(entries: AccessEntry[]): AccessEntry[] {
  return entries.sort(
    (a, b) =>
      a.bucket.localeCompare(b.bucket) ||
      (a.prefix ?? "").localeCompare(b.prefix ?? "") ||
      a.access.localeCompare(b.access),
  );
}
