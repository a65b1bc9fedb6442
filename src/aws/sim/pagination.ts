/**
 * Key-set pagination, as AWS's opaque markers behave: a token remembers the last key returned, so items created
 * or deleted between pages neither repeat nor shift the rest. Items must come sorted by key.
 */
export interface Page<T> {
  readonly items: T[];
  /** The token for the next page; undefined on the last page. */
  readonly next: string | undefined;
}

const tokenPrefix = "sim1:";

function encodeToken(key: string): string {
  return Buffer.from(`${tokenPrefix}${key}`, "utf8").toString("base64url");
}

/** The key a token continues after, or undefined when the token is not one this simulator issued. */
function decodeToken(token: string): string | undefined {
  const text = Buffer.from(token, "base64url").toString("utf8");
  return text.startsWith(tokenPrefix) ? text.slice(tokenPrefix.length) : undefined;
}

export function paginate<T>(
  sorted: readonly T[],
  keyOf: (item: T) => string,
  limit: number,
  token: string | undefined,
  invalidToken: () => Error,
): Page<T> {
  let start = 0;
  if (token !== undefined) {
    const after = decodeToken(token);
    if (after === undefined) throw invalidToken();
    start = sorted.findIndex((item) => keyOf(item) > after);
    if (start < 0) start = sorted.length;
  }
  const items = sorted.slice(start, start + limit);
  const last = items.at(-1);
  const more = start + limit < sorted.length;
  return { items, next: more && last !== undefined ? encodeToken(keyOf(last)) : undefined };
}

/** Compares strings by code unit, the order the tokens continue in. */
export function byKey<T>(keyOf: (item: T) => string): (a: T, b: T) => number {
  return (a, b) => {
    const ka = keyOf(a);
    const kb = keyOf(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  };
}

/** A sortable key for a sequence number (launch or creation order). */
export function sequenceKey(sequence: number): string {
  return sequence.toString().padStart(12, "0");
}
