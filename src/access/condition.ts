/**
 * A Condition block in canonical form: operator → condition key → the distinct values, sorted. Condition keys are
 * case-insensitive in IAM and are lower-cased here; operators and values are kept as written (values are
 * case-sensitive, and an operator IAM does not know is a different condition, not a spelling of a known one).
 * Two blocks that mean the same have the same canonical form, so a canonical condition can be compared with
 * `stableStringify`, as src/plan/policy-equality.ts compares whole documents.
 */
export type CanonicalCondition = Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;

/** The canonical form of a statement's Condition; null when there is none (absent, null or `{}`). */
export function canonicalCondition(condition: unknown): CanonicalCondition | null {
  if (condition === undefined || condition === null) return null;
  if (!isRecord(condition)) throw new TypeError("Condition is not an object");
  const operators = Object.keys(condition).sort();
  if (operators.length === 0) return null;
  const canonical: Record<string, Record<string, string[]>> = {};
  for (const operator of operators) canonical[operator] = canonicalBlock(operator, condition[operator]);
  return canonical;
}

function canonicalBlock(operator: string, block: unknown): Record<string, string[]> {
  if (!isRecord(block)) throw new TypeError(`the ${operator} condition is not an object of keys`);
  const keys: Record<string, string[]> = {};
  // Sorted by the lower-cased key, so "aws:SourceIp" and "aws:sourceip" land in one place, in a stable order.
  const entries = Object.entries(block).map(([key, value]) => [key.toLowerCase(), value] as const);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [key, value] of entries) {
    const values = (Array.isArray(value) ? value : [value]).map((item) => String(item));
    keys[key] = [...new Set([...(keys[key] ?? []), ...values])].sort();
  }
  return keys;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
