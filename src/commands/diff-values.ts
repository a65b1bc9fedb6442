import { visible } from "../access/describe-access.js";
import type { FieldChange } from "../access/manifest-change.js";
import { describeWitness } from "../access/selector-overlap.js";
import type { Overlap } from "./diff-report.js";

/** How a piece of a value is set: as it is (text) or as `code` (Markdown). */
export type Literal = (value: string) => string;

/**
 * A field's value in words: instance IDs as a list, tags as `KEY=VALUE` pairs, anything else as it is; "(none)"
 * for an empty list, empty tags or a side where the manifest is absent. A key or value that would read
 * ambiguously in such a list (empty, with a comma, an equals sign, a quote or surrounding spaces) is quoted.
 */
export function fieldValueText(value: unknown, literal: Literal = visible): string {
  if (value === null || value === undefined) return "(none)";
  if (Array.isArray(value))
    return value.length === 0 ? "(none)" : value.map((item) => literal(scalarText(item))).join(", ");
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return "(none)";
    return entries
      .map(([key, item]) => literal(`${unambiguous(key)}=${unambiguous(scalarText(item))}`))
      .join(", ");
  }
  return literal(scalarText(value));
}

/** A string, number or boolean as text; anything else (never met in a field) as its JSON. */
export function scalarText(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** `a and b: an instance tagged Team=x is selected by both`, or for a pair that no longer overlaps, the names. */
export function overlapText(overlap: Overlap, literal: Literal = visible, withReason = true): string {
  const [first, second] = overlap.pair;
  const why =
    withReason && overlap.witness !== undefined ? `: ${describeWitness(overlap.witness, literal)}` : "";
  return `${literal(first)} and ${literal(second)}${why}`;
}

/**
 * An added or removed manifest's settings in three lines (JSON has them field by field):
 * `selects instances tagged Team=a`, `mode enforce, onConflict skip, …`, `IAM names: policy …, role …, …`.
 */
export function settingsLines(
  fields: readonly FieldChange[],
  side: "base" | "head",
  literal?: Literal,
): string[] {
  const value = (field: string) => fields.find((candidate) => candidate.field === field)?.[side];
  const shown = (field: string) => fieldValueText(value(field), literal);
  const ids = value("spec.instanceSelector.instanceIds");
  const tags = value("spec.instanceSelector.matchTags");
  const selects = [
    ...(Array.isArray(ids) && ids.length > 0
      ? [`instances ${shown("spec.instanceSelector.instanceIds")}`]
      : []),
    ...(tags !== null && typeof tags === "object" && Object.keys(tags).length > 0
      ? [`instances tagged ${shown("spec.instanceSelector.matchTags")}`]
      : []),
  ];
  const settings = ["mode", "onConflict", "deletionPolicy", "adopt"].map(
    (name) => `${name} ${shown(`spec.${name}`)}`,
  );
  const names = [
    ["policy", "policyName"],
    ["role", "roleName"],
    ["instance profile", "instanceProfileName"],
  ].map(([what = "", field = ""]) => `${what} ${shown(`spec.iam.${field}`)}`);
  return [`selects ${selects.join(" or ")}`, settings.join(", "), `IAM names: ${names.join(", ")}`];
}

function unambiguous(text: string): string {
  return text === "" || /[,="]/u.test(text) || text.trim() !== text || visible(text) !== text
    ? JSON.stringify(text)
    : text;
}
