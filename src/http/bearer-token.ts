import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Compares a request's Authorization header with the expected bearer token in constant time: both sides are
 * hashed first, so neither the content nor the length of the token leaks through timing.
 */
export function bearerTokenMatches(header: string | undefined, expected: string): boolean {
  const presented = /^Bearer\s+(.+)$/i.exec(header ?? "")?.[1] ?? "";
  const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();
  return timingSafeEqual(digest(presented), digest(expected)) && presented.length > 0;
}
