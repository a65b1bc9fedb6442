import { stableStringify } from "../util/stable-json.js";
import { actionKey, displayAction } from "./action-names.js";
import { canonicalCondition, isRecord, type CanonicalCondition } from "./condition.js";

export type Effect = "Allow" | "Deny";

/**
 * What one element of a statement names: one value (an action, resource or principal pattern, wildcards kept as
 * written), or, for NotAction / NotResource / NotPrincipal, every value except these.
 */
export type Scope = { readonly only: string } | { readonly except: readonly string[] };

/**
 * One access term of a policy: an effect, one action, on one resource, for one principal, under one condition.
 * A statement is the union of its terms: IAM matches a request when any listed action and any listed resource
 * match, so `Action: [a, b], Resource: [r, s]` is the four terms (a, r), (a, s), (b, r), (b, s). A Not… element
 * cannot be split that way (NotAction [a, b] is one exclusion, not two), so it stays one term; a Condition is a
 * conjunction and stays whole, in canonical form.
 */
export interface AccessGrant {
  readonly effect: Effect;
  readonly action: Scope;
  /** Null when the statement has no Resource element (a resource-based policy such as a trust policy). */
  readonly resource: Scope | null;
  /** Null in identity policies, which name no principal; `Service:ec2.amazonaws.com` in a trust policy. */
  readonly principal: Scope | null;
  readonly condition: CanonicalCondition | null;
}

/** A policy document as access terms. */
export interface PolicyAccess {
  /** The document's Version, or null when it has none (IAM then reads it as 2008-10-17). */
  readonly version: string | null;
  /** Distinct terms, in a stable order. */
  readonly grants: readonly AccessGrant[];
  /** Statements that could not be read as terms, said in words ("statement 2 (Sid X): no Action"). */
  readonly problems: readonly string[];
}

/**
 * Expands a policy document, as rolecall compiles it or as IAM returns it after someone edited it by hand, into
 * its access terms. Action and Resource may be a string or a list; action names are compared without case;
 * wildcards stay as written; Deny, NotAction and NotResource statements become terms saying so. Whatever is not
 * a statement is reported in `problems` rather than dropped silently. A document that is not an object at all
 * (unreadable, or undefined) has no terms and one problem.
 */
export function expandPolicy(document: unknown): PolicyAccess {
  if (!isRecord(document))
    return { version: null, grants: [], problems: ["the document could not be read as a policy"] };
  const version = typeof document.Version === "string" ? document.Version : null;
  const grants = new Map<string, AccessGrant>();
  const problems: string[] = [];
  asList(document.Statement).forEach((statement, index) => {
    const expanded = expandStatement(statement);
    if (typeof expanded === "string") problems.push(`statement ${index + 1}${sidOf(statement)}: ${expanded}`);
    else for (const grant of expanded) if (!grants.has(grantKey(grant))) grants.set(grantKey(grant), grant);
  });
  if (document.Statement === undefined) problems.push("the document has no Statement");
  return { version, grants: sortGrants([...grants.values()]), problems };
}

/** A key equal for two terms exactly when they grant (or deny) the same: for sets, maps and diffs of terms. */
export function grantKey(grant: AccessGrant): string {
  return [
    grant.effect,
    scopeKey(grant.action, actionKey),
    grant.resource === null ? "" : scopeKey(grant.resource, same),
    grant.principal === null ? "" : scopeKey(grant.principal, same),
    grant.condition === null ? "" : stableStringify(grant.condition),
  ].join("\u0000");
}

/** Terms in the order reports show them: by resource, then principal, condition, effect and action. */
export function sortGrants(grants: AccessGrant[]): AccessGrant[] {
  // Named values before exclusions ("every resource except …"), each alphabetically.
  const order = (scope: Scope | null) =>
    scope === null ? "" : "only" in scope ? `0${scope.only}` : `1${scope.except.join("\u0001")}`;
  const sortKey = (grant: AccessGrant) =>
    [
      order(grant.resource),
      order(grant.principal),
      grant.condition === null ? "" : stableStringify(grant.condition),
      grant.effect,
      scopeKey(grant.action, actionKey),
    ].join("\u0000");
  const keyed = grants.map((grant) => [sortKey(grant), grant] as const);
  keyed.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return keyed.map(([, grant]) => grant);
}

/** The terms of one statement, or why it has none. */
function expandStatement(statement: unknown): AccessGrant[] | string {
  if (!isRecord(statement)) return "not an object";
  const effect = statement.Effect;
  if (effect !== "Allow" && effect !== "Deny") return `Effect is ${describeValue(effect)}, not Allow or Deny`;
  const actions = scopes(statement, "Action", displayAction);
  if (typeof actions === "string") return actions;
  if (actions === null) return "no Action or NotAction";
  const resources = scopes(statement, "Resource", same);
  if (typeof resources === "string") return resources;
  const principals = principalScopes(statement);
  if (typeof principals === "string") return principals;
  let condition: CanonicalCondition | null;
  try {
    condition = canonicalCondition(statement.Condition);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  const grants: AccessGrant[] = [];
  for (const action of actions)
    for (const resource of resources ?? [null])
      for (const principal of principals ?? [null])
        grants.push({ effect, action, resource, principal, condition });
  return grants;
}

/**
 * The scopes of Action/NotAction or Resource/NotResource: one per listed value, or one exclusion. Null when the
 * statement has neither element; a string when it has both, or values that are not strings.
 */
function scopes(
  statement: Record<string, unknown>,
  element: "Action" | "Resource",
  display: (value: string) => string,
): Scope[] | null | string {
  const named = statement[element];
  const excluded = statement[`Not${element}`];
  if (named !== undefined && excluded !== undefined) return `both ${element} and Not${element}`;
  if (named === undefined && excluded === undefined) return null;
  const values = asList(named ?? excluded);
  const strings = values.filter((value): value is string => typeof value === "string");
  if (values.length === 0 || strings.length !== values.length)
    return `${named === undefined ? "Not" : ""}${element} must be a string or a list of strings`;
  const shown = strings.map(display);
  if (named !== undefined) return distinct(shown, element === "Action" ? actionKey : same).map(only);
  return [{ except: distinct(shown, element === "Action" ? actionKey : same).sort() }];
}

/** Principal `"*"`, or `{AWS: …, Service: …}` flattened to `AWS:…` and `Service:…` values; NotPrincipal alike. */
function principalScopes(statement: Record<string, unknown>): Scope[] | null | string {
  const named = statement.Principal;
  const excluded = statement.NotPrincipal;
  if (named !== undefined && excluded !== undefined) return "both Principal and NotPrincipal";
  const principal = named ?? excluded;
  if (principal === undefined) return null;
  let values: string[];
  if (principal === "*") values = ["*"];
  else if (isRecord(principal))
    values = Object.entries(principal).flatMap(([kind, ids]) =>
      asList(ids).map((id) => `${kind}:${String(id)}`),
    );
  else return 'Principal must be "*" or an object';
  if (values.length === 0) return "the Principal names nobody";
  const unique = distinct(values, same);
  return named !== undefined ? unique.map(only) : [{ except: unique.sort() }];
}

function scopeKey(scope: Scope, fold: (value: string) => string): string {
  return "only" in scope ? `=${fold(scope.only)}` : `!${scope.except.map(fold).sort().join("\u0001")}`;
}

function distinct(values: readonly string[], fold: (value: string) => string): string[] {
  const seen = new Map<string, string>();
  for (const value of values) if (!seen.has(fold(value))) seen.set(fold(value), value);
  return [...seen.values()];
}

function asList(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function sidOf(statement: unknown): string {
  return isRecord(statement) && typeof statement.Sid === "string" ? ` (Sid ${statement.Sid})` : "";
}

function describeValue(value: unknown): string {
  return value === undefined ? "missing" : typeof value === "string" ? `"${value}"` : typeof value;
}

const same = (value: string) => value;
const only = (value: string): Scope => ({ only: value });
