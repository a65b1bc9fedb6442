import { stableStringify } from "../util/stable-json.js";

/**
 * Parses a policy document as IAM returns it: some APIs return it URL-encoded (RFC 3986), some as plain JSON
 * (and emulators differ from AWS here). Undefined when it is neither.
 */
export function decodePolicyDocument(raw: string | undefined): unknown {
  if (raw === undefined) return undefined;
  const text = raw.trim();
  try {
    return JSON.parse(text.startsWith("{") ? text : decodeURIComponent(text)) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Two documents are equal when they mean the same: statement order, a single string versus a one-element list,
 * repeated values, Sids, white space and the case of action names do not matter.
 */
export function policiesEqual(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return false;
  return canonicalPolicy(a) === canonicalPolicy(b);
}

export function canonicalPolicy(document: unknown): string {
  if (document === null || typeof document !== "object") return stableStringify(document);
  const { Version, Statement } = document as { Version?: unknown; Statement?: unknown };
  const statements = asList(Statement)
    .map((statement) => stableStringify(canonicalStatement(statement)))
    .sort();
  return stableStringify({ Version: Version ?? "2008-10-17", Statement: statements });
}

function canonicalStatement(statement: unknown): unknown {
  if (statement === null || typeof statement !== "object") return statement;
  const canonical: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(statement)) {
    switch (key) {
      case "Sid":
        break;
      case "Action":
      case "NotAction":
        canonical[key] = sortedSet(asList(value).map((action) => String(action).toLowerCase()));
        break;
      case "Resource":
      case "NotResource":
        canonical[key] = sortedSet(asList(value).map(String));
        break;
      case "Principal":
      case "NotPrincipal":
        canonical[key] = canonicalPrincipal(value);
        break;
      case "Condition":
        canonical[key] = canonicalCondition(value);
        break;
      default:
        canonical[key] = value;
    }
  }
  return canonical;
}

function canonicalPrincipal(principal: unknown): unknown {
  if (principal === null || typeof principal !== "object") return principal;
  const canonical: Record<string, string[]> = {};
  for (const [kind, value] of Object.entries(principal))
    canonical[kind] = sortedSet(asList(value).map(String));
  return canonical;
}

function canonicalCondition(condition: unknown): unknown {
  if (condition === null || typeof condition !== "object") return condition;
  const canonical: Record<string, Record<string, string[]>> = {};
  for (const [operator, block] of Object.entries(condition as Record<string, unknown>)) {
    const keys: Record<string, string[]> = {};
    if (block !== null && typeof block === "object") {
      // Condition keys are case-insensitive; their values are not.
      for (const [key, value] of Object.entries(block as Record<string, unknown>))
        keys[key.toLowerCase()] = sortedSet(asList(value).map(String));
    }
    canonical[operator] = keys;
  }
  return canonical;
}

function asList(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function sortedSet(values: string[]): string[] {
  return [...new Set(values)].sort();
}
