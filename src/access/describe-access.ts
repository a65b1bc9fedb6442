import type { AccessLine } from "./access-lines.js";
import type { CanonicalCondition } from "./condition.js";
import type { Scope } from "./policy-grants.js";

/** How literal values (actions, ARNs, condition values) are set in a sentence: as they are, or as `code`. */
export type Literal = (value: string) => string;

/**
 * Text as it can be shown on a terminal or in a review: control characters (a newline, an escape sequence that
 * would drive the terminal) and the invisible bidirectional-formatting marks that can make text read in another
 * order than it is (CVE-2021-42574, "Trojan Source") are written as `\uXXXX`. A live document edited by hand, a
 * tag value or a file name may hold them.
 */
export function visible(text: string): string {
  return text.replace(
    /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

const plain: Literal = visible;

/**
 * One line in words, without the +/- a report puts before it:
 * `s3:GetObject, s3:PutObject on arn:aws:s3:::b/in/*`,
 * `s3:ListBucket on arn:aws:s3:::b when s3:prefix StringLike "in/" or "in/*"`,
 * `Deny every action except s3:GetObject on arn:aws:s3:::b/*`.
 */
export function describeLine(line: AccessLine, literal: Literal = plain): string {
  const parts = [
    line.effect === "Deny" ? "Deny " : "",
    line.exceptActions ? `every action except ${list(line.actions, literal)}` : list(line.actions, literal),
  ];
  if (line.resource !== null) parts.push(` on ${describeScope(line.resource, "resource", literal)}`);
  if (line.principal !== null) parts.push(` for ${describeScope(line.principal, "principal", literal)}`);
  if (line.condition !== null) parts.push(` when ${describeCondition(line.condition, literal)}`);
  return parts.join("");
}

/** `arn:aws:s3:::b/*`, or `every resource except arn:aws:s3:::b/secret/*`. */
export function describeScope(
  scope: Scope,
  noun: "resource" | "principal",
  literal: Literal = plain,
): string {
  return "only" in scope ? literal(scope.only) : `every ${noun} except ${list(scope.except, literal)}`;
}

/** `s3:prefix StringLike "in/" or "in/*"`, conditions joined with "and" (IAM requires all of them). */
export function describeCondition(condition: CanonicalCondition, literal: Literal = plain): string {
  const clauses: string[] = [];
  for (const [operator, keys] of Object.entries(condition)) {
    for (const [key, values] of Object.entries(keys)) {
      // Quoted, so an empty value, a space or a comma inside one stays visible.
      const shown =
        values.length === 0 ? "(no value)" : values.map((value) => literal(quote(value))).join(" or ");
      clauses.push(`${literal(key)} ${literal(operator)} ${shown}`);
    }
    if (Object.keys(keys).length === 0) clauses.push(`${literal(operator)} (no keys)`);
  }
  return clauses.join(" and ");
}

function list(values: readonly string[], literal: Literal): string {
  return values.map(literal).join(", ");
}

/** A value in double quotes (JSON's string syntax: a quote, backslash or control character inside is escaped). */
function quote(value: string): string {
  return JSON.stringify(value);
}
