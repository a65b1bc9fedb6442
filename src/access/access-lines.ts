import { stableStringify } from "../util/stable-json.js";
import type { CanonicalCondition } from "./condition.js";
import { sortGrants, type AccessGrant, type Effect, type Scope } from "./policy-grants.js";

/**
 * Terms grouped the way a reviewer reads them: the actions of one effect on one resource, for one principal,
 * under one condition. `s3:GetObject` and `s3:PutObject` on `arn:aws:s3:::b/*` are one line. A NotAction term
 * is a line of its own, its `actions` being the ones it excludes.
 */
export interface AccessLine {
  readonly effect: Effect;
  readonly resource: Scope | null;
  readonly principal: Scope | null;
  readonly condition: CanonicalCondition | null;
  /** Action patterns, sorted without case; with `exceptActions`, the actions a NotAction term excludes. */
  readonly actions: readonly string[];
  readonly exceptActions: boolean;
}

/** Groups terms into lines, in a stable order (by resource, then condition, principal and effect). */
export function groupGrants(grants: readonly AccessGrant[]): AccessLine[] {
  const lines = new Map<string, { line: AccessLine; actions: string[] }>();
  for (const grant of sortGrants([...grants])) {
    const except = "except" in grant.action;
    const key = stableStringify([
      grant.effect,
      grant.resource,
      grant.principal,
      grant.condition,
      except ? grant.action.except : null,
    ]);
    const found = lines.get(key);
    const actions = "only" in grant.action ? [grant.action.only] : [...grant.action.except];
    if (found !== undefined) found.actions.push(...actions);
    else {
      const { effect, resource, principal, condition } = grant;
      const line = { effect, resource, principal, condition, actions: [], exceptActions: except };
      lines.set(key, { line, actions });
    }
  }
  return [...lines.values()].map(({ line, actions }) => ({ ...line, actions: sortActions(actions) }));
}

/** The terms a line stands for: the inverse of `groupGrants`. */
export function grantsOfLine(line: AccessLine): AccessGrant[] {
  const { effect, resource, principal, condition } = line;
  if (line.exceptActions)
    return [{ effect, resource, principal, condition, action: { except: line.actions } }];
  return line.actions.map((action) => ({ effect, resource, principal, condition, action: { only: action } }));
}

/** A line in JSON reports. */
export interface AccessLineJson {
  /** The resource pattern; null for a NotResource line (see notResource) or a statement without Resource. */
  readonly resource: string | null;
  readonly actions: readonly string[];
  readonly condition: CanonicalCondition | null;
  /** Present only for a Deny line; every other line allows. */
  readonly effect?: "Deny";
  /** Present (true) only for a NotAction line: `actions` are the actions it excludes. */
  readonly notAction?: true;
  /** Present only for a NotResource line: the resources it excludes. */
  readonly notResource?: readonly string[];
  /** Present only in resource-based policies (trust policies): `Service:ec2.amazonaws.com`, or `*`. */
  readonly principal?: string;
  readonly notPrincipal?: readonly string[];
}

/**
 * The JSON of a line. For what rolecall compiles (Allow, Action, Resource) it is exactly
 * `{resource, actions, condition}`; the other members appear only when a hand-edited document needs them.
 */
export function accessLineJson(line: AccessLine): AccessLineJson {
  const { resource, principal } = line;
  return {
    resource: resource !== null && "only" in resource ? resource.only : null,
    actions: line.actions,
    condition: line.condition,
    ...(line.effect === "Deny" ? { effect: "Deny" as const } : {}),
    ...(line.exceptActions ? { notAction: true as const } : {}),
    ...(resource !== null && "except" in resource ? { notResource: resource.except } : {}),
    ...(principal !== null && "only" in principal ? { principal: principal.only } : {}),
    ...(principal !== null && "except" in principal ? { notPrincipal: principal.except } : {}),
  };
}

function sortActions(actions: readonly string[]): string[] {
  const keyed = actions.map((action) => [action.toLowerCase(), action] as const);
  keyed.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return keyed.map(([, action]) => action);
}
