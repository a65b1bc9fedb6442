// A small model of IAM's evaluation of identity-based policies and a permissions boundary within one account:
// enough to prove what rolecall's own policies allow, and nothing it has not been taught. Every policy shape it
// does not model (an unknown operator, a policy variable, a Principal, a set operator) throws instead of being
// evaluated wrongly in silence. Not modelled at all: resource-based policies, session policies, SCPs and RCPs.

type OneOrMany = string | readonly string[];

/** A statement as written in a policy document (only the fields identity-based policies may carry). */
export interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action?: OneOrMany;
  readonly NotAction?: OneOrMany;
  readonly Resource?: OneOrMany;
  readonly NotResource?: OneOrMany;
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, OneOrMany>>>>;
}

export interface Policy {
  readonly Version?: string;
  readonly Statement: Statement | readonly Statement[];
}

/** One request: an action on one resource, with the condition keys it carries (key names ignore case). */
export interface Request {
  readonly action: string;
  readonly resource: string;
  readonly context?: Readonly<Record<string, string>>;
}

/** What a principal holds: its identity-based policies and, when it has one, its permissions boundary. */
export interface Principal {
  readonly identity: readonly Policy[];
  readonly boundary?: Policy;
}

export type Decision = "Allow" | "ExplicitDeny" | "ImplicitDeny";

/**
 * IAM's answer within one account: an explicit Deny anywhere wins; otherwise the request is allowed only if an
 * identity-based policy allows it and, when there is a boundary, the boundary allows it too (the intersection).
 */
export function decide(principal: Principal, request: Request): Decision {
  const prepared = new Prepared(request);
  const identity = verdict(principal.identity, prepared);
  const boundary = principal.boundary === undefined ? "Allow" : verdict([principal.boundary], prepared);
  if (identity === "ExplicitDeny" || boundary === "ExplicitDeny") return "ExplicitDeny";
  return identity === "Allow" && boundary === "Allow" ? "Allow" : "ImplicitDeny";
}

export const isAllowed = (principal: Principal, request: Request): boolean =>
  decide(principal, request) === "Allow";

// ---- wildcards ----

const patterns = new Map<string, RegExp>();

/** IAM's wildcard match as a regular expression: `*` any run of characters, `?` any one; the rest literal. */
function globRegex(pattern: string, ignoreCase: boolean): RegExp {
  const cacheKey = `${ignoreCase ? "i" : "s"}${pattern}`;
  let regex = patterns.get(cacheKey);
  if (regex === undefined) {
    const source = pattern.replace(/[.*+?^${}()|[\]\\]/g, (character) =>
      character === "*" ? "[\\s\\S]*" : character === "?" ? "[\\s\\S]" : `\\${character}`,
    );
    regex = new RegExp(`^${source}$`, ignoreCase ? "iu" : "u");
    patterns.set(cacheKey, regex);
  }
  return regex;
}

export const globMatches = (pattern: string, value: string, ignoreCase = false): boolean =>
  globRegex(pattern, ignoreCase).test(value);

/** The six colon-separated parts of an ARN; the last (the resource) may itself hold colons. */
function arnParts(arn: string): string[] | undefined {
  const parts = arn.split(":");
  if (parts.length < 6 || parts[0] !== "arn") return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(":")];
}

/** One wildcard pattern, compiled: a plain string compare when it holds no wildcard. */
function partMatcher(pattern: string): (value: string) => boolean {
  if (!/[*?]/.test(pattern)) return (value) => value === pattern;
  const regex = globRegex(pattern, false);
  return (value) => regex.test(value);
}

/**
 * An ARN pattern as Resource, ArnLike and ArnEquals (which IAM treats alike) match it: each of the six parts on
 * its own, so a `*` never crosses a colon. Takes the request's ARN already split (undefined: not an ARN).
 */
function arnMatcher(pattern: string): (parts: readonly string[] | undefined) => boolean {
  const wanted = arnParts(pattern);
  if (wanted === undefined) throw new Error(`not modelled: the ARN pattern ${pattern}`);
  const matchers = wanted.map(partMatcher);
  return (parts) => parts !== undefined && matchers.every((matches, index) => matches(parts[index] ?? ""));
}

// ---- statements, compiled once ----

/** A request as the matchers read it: the action lower-cased, the resource split only when a matcher asks. */
class Prepared {
  readonly action: string;
  readonly context: ReadonlyMap<string, string>;
  #resourceParts: readonly string[] | undefined | null = null;

  constructor(private readonly request: Request) {
    this.action = request.action.toLowerCase();
    const context = new Map<string, string>();
    for (const [key, value] of Object.entries(request.context ?? {})) context.set(key.toLowerCase(), value);
    this.context = context;
  }

  /** The resource's six ARN parts, or undefined when it is not an ARN (such as `*`). */
  get resourceParts(): readonly string[] | undefined {
    if (this.#resourceParts === null) this.#resourceParts = arnParts(this.request.resource);
    return this.#resourceParts;
  }
}

type Matcher = (request: Prepared) => boolean;

interface Compiled {
  readonly deny: boolean;
  readonly matchers: readonly Matcher[];
}

const compiledStatements = new WeakMap<Statement, Compiled>();

function verdict(policies: readonly Policy[], request: Prepared): Decision {
  let allowed = false;
  for (const policy of policies) {
    for (const statement of statementsOf(policy)) {
      const compiled = compile(statement);
      if (!compiled.matchers.every((matches) => matches(request))) continue;
      if (compiled.deny) return "ExplicitDeny";
      allowed = true;
    }
  }
  return allowed ? "Allow" : "ImplicitDeny";
}

/** Version 2012-10-17, or none (2008-10-17), which differs only in policy variables: refused either way. */
function statementsOf(policy: Policy): readonly Statement[] {
  if (policy.Version !== undefined && policy.Version !== "2012-10-17")
    throw new Error(`not modelled: policy version ${policy.Version}`);
  const statements = policy.Statement;
  return isStatementList(statements) ? statements : [statements];
}

const isStatementList = (value: Statement | readonly Statement[]): value is readonly Statement[] =>
  Array.isArray(value);

const list = (value: OneOrMany): readonly string[] => (typeof value === "string" ? [value] : value);

const knownFields = new Set(["Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"]);

function compile(statement: Statement): Compiled {
  const known = compiledStatements.get(statement);
  if (known !== undefined) return known;
  const refuse = (what: string): never => {
    throw new Error(`not modelled: ${what} in ${JSON.stringify(statement)}`);
  };
  for (const key of Object.keys(statement)) if (!knownFields.has(key)) refuse(`the field ${key}`);
  if (statement.Effect !== "Allow" && statement.Effect !== "Deny") refuse(`the effect ${statement.Effect}`);
  const conditions = Object.entries(statement.Condition ?? {}).flatMap(([operator, keys]) =>
    Object.entries(keys).map(([key, values]) => conditionOf(operator, key, list(values), refuse)),
  );
  const compiled: Compiled = {
    deny: statement.Effect === "Deny",
    matchers: [
      either(statement.Action, statement.NotAction, actionMatcher, "Action", refuse),
      either(statement.Resource, statement.NotResource, resourceMatcher, "Resource", refuse),
      ...conditions,
    ],
  };
  compiledStatements.set(statement, compiled);
  return compiled;
}

/** Exactly one of the element and its Not form; the Not form matches what none of its patterns match. */
function either(
  element: OneOrMany | undefined,
  notElement: OneOrMany | undefined,
  matcher: (pattern: string, refuse: (what: string) => never) => Matcher,
  name: string,
  refuse: (what: string) => never,
): Matcher {
  if ((element === undefined) === (notElement === undefined))
    refuse(`a statement without exactly one ${name}`);
  const chosen = list(element ?? notElement ?? []);
  if (chosen.length === 0) refuse(`an empty ${name}`);
  const matchers = chosen.map((pattern) => matcher(pattern, refuse));
  const any: Matcher = (request) => matchers.some((matches) => matches(request));
  return element === undefined ? (request) => !any(request) : any;
}

function actionMatcher(pattern: string, refuse: (what: string) => never): Matcher {
  if (pattern !== "*" && !/^[a-z0-9-]+:[A-Za-z0-9*?]+$/.test(pattern)) refuse(`the action ${pattern}`);
  // Action names ignore case: both sides lower-cased.
  const matches = partMatcher(pattern.toLowerCase());
  return (request) => matches(request.action);
}

/** `*` matches every resource and an ARN pattern ARNs, part by part (so a request on `*` matches only `*`). */
function resourceMatcher(pattern: string, refuse: (what: string) => never): Matcher {
  if (pattern.includes("${")) refuse(`the policy variable in ${pattern}`);
  if (pattern === "*") return () => true;
  if (arnParts(pattern) === undefined) refuse(`the resource ${pattern}`);
  const matches = arnMatcher(pattern);
  return (request) => matches(request.resourceParts);
}

// ---- conditions ----

/** Each operator compiles its policy value into a test of the request's value. */
const operators: Readonly<Record<string, (pattern: string) => (value: string) => boolean>> = {
  StringEquals: (pattern) => (value) => value === pattern,
  StringLike: partMatcher,
  ArnEquals: (pattern) => arnValueMatcher(pattern),
  ArnLike: (pattern) => arnValueMatcher(pattern),
};

function arnValueMatcher(pattern: string): (value: string) => boolean {
  const matches = arnMatcher(pattern);
  return (value) => matches(arnParts(value));
}

/**
 * One key of one operator. A key the request lacks fails the test, except with the IfExists form; a key given
 * several values passes when any of them matches (they are ORed), and keys and operators are ANDed by the caller.
 */
function conditionOf(
  operator: string,
  key: string,
  values: readonly string[],
  refuse: (what: string) => never,
): Matcher {
  const ifExists = operator.endsWith("IfExists");
  const compileTest = operators[ifExists ? operator.slice(0, -"IfExists".length) : operator];
  if (compileTest === undefined) return refuse(`the condition operator ${operator}`);
  if (values.length === 0) refuse(`the condition ${operator} on ${key} without values`);
  for (const value of values) if (value.includes("${")) refuse(`the policy variable in ${value}`);
  const tests = values.map(compileTest);
  const lowered = key.toLowerCase();
  return ({ context }) => {
    const actual = context.get(lowered);
    if (actual === undefined) return ifExists;
    return tests.some((test) => test(actual));
  };
}
