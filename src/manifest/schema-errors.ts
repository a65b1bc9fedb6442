import type { ErrorObject } from "ajv";
import type { InstanceAccess } from "./generated/instance-access.js";
import validateInstanceAccess from "./generated/instance-access-validate.js";
import { closestMatch } from "../util/closest-match.js";

/** A schema violation in terms a manifest author understands, located by JSON pointer. */
export interface SchemaProblem {
  /** Pointer segments to the node the problem is about (for location). */
  readonly path: readonly string[];
  /** Pointer segments shown to the user (may name a missing or unknown field under `path`). */
  readonly displayPath: readonly string[];
  readonly prefer: "key" | "value";
  readonly message: string;
}

/** A validator that explains its failures as SchemaProblems, for any of rolecall's schemas. */
export type SchemaCheck<T> = (
  value: unknown,
) => { ok: true; value: T } | { ok: false; problems: SchemaProblem[] };

/** A schema's validator as ajv generates it (scripts/generate-manifest-types.mjs): true, or false and its errors. */
export type GeneratedValidator = ((value: unknown) => boolean) & { errors?: ErrorObject[] | null };

/** A generated validator whose failures come back as SchemaProblems; InstanceAccess and Targets share this. */
export function schemaChecker<T>(validate: GeneratedValidator): SchemaCheck<T> {
  return (value) => {
    if (validate(value)) return { ok: true, value: value as T };
    const problems = (validate.errors ?? []).flatMap((error) => {
      const problem = describe(error);
      return problem === undefined ? [] : [problem];
    });
    return { ok: false, problems: dedupe(problems) };
  };
}

const checkInstanceAccess = schemaChecker<InstanceAccess>(validateInstanceAccess as GeneratedValidator);

/** Validates one document against the InstanceAccess schema. */
export function checkSchema(
  value: unknown,
): { ok: true; manifest: InstanceAccess } | { ok: false; problems: SchemaProblem[] } {
  const checked = checkInstanceAccess(value);
  return checked.ok ? { ok: true, manifest: checked.value } : checked;
}

export function splitPointer(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((segment) => segment.replace(/~1/g, "/").replace(/~0/g, "~"));
}

export function joinPointer(segments: readonly string[]): string {
  return segments.map((segment) => "/" + segment.replace(/~/g, "~0").replace(/\//g, "~1")).join("");
}

function describe(error: ErrorObject): SchemaProblem | undefined {
  const path = splitPointer(error.instancePath);
  const parent = error.parentSchema as Record<string, unknown> | undefined;
  const params = error.params as Record<string, unknown>;
  const at = (message: string): SchemaProblem => ({ path, displayPath: path, prefer: "value", message });
  const underKey = (name: string, message: string): SchemaProblem => ({
    path: [...path, name],
    displayPath: [...path, name],
    prefer: "key",
    message,
  });

  if (error.propertyName !== undefined) {
    // An error about a key of a map (propertyNames): name the key itself.
    const reason =
      error.keyword === "pattern" && typeof parent?.patternErrorMessage === "string"
        ? parent.patternErrorMessage
        : describeValueError(error, parent, params);
    return underKey(error.propertyName, `key "${error.propertyName}" is not allowed: ${reason}`);
  }
  switch (error.keyword) {
    case "propertyNames":
      return undefined; // reported through the inner error, which names the key
    case "required": {
      const missing = String(params.missingProperty);
      return {
        path,
        displayPath: [...path, missing],
        prefer: "key",
        message: `missing required field "${missing}"`,
      };
    }
    case "additionalProperties": {
      const unknown = String(params.additionalProperty);
      const known = Object.keys((parent?.properties as Record<string, unknown> | undefined) ?? {});
      const suggestion = closestMatch(unknown, known);
      const hint =
        suggestion === undefined ? ` (allowed: ${known.join(", ")})` : ` (did you mean "${suggestion}"?)`;
      return underKey(unknown, `unknown field "${unknown}"${hint}`);
    }
    case "uniqueItems": {
      // Ajv names the pair in either order; the repeat is the later item, so point there.
      const [first, repeat] = [Number(params.i), Number(params.j)].sort((a, b) => a - b);
      const index = String(repeat);
      return {
        path: [...path, index],
        displayPath: [...path, index],
        prefer: "value",
        message: `duplicate item: same as item ${String(first)}`,
      };
    }
    default:
      return at(describeValueError(error, parent, params));
  }
}

function describeValueError(
  error: ErrorObject,
  parent: Record<string, unknown> | undefined,
  params: Record<string, unknown>,
): string {
  const custom = parent?.errorMessage;
  switch (error.keyword) {
    case "enum": {
      const allowed = (params.allowedValues as unknown[]).map(String);
      const suggestion = typeof error.data === "string" ? closestMatch(error.data, allowed) : undefined;
      const hint = suggestion === undefined ? "" : ` (did you mean "${suggestion}"?)`;
      return `must be one of ${allowed.join(", ")}; got ${JSON.stringify(error.data)}${hint}`;
    }
    case "const":
      return `must be ${JSON.stringify(params.allowedValue)}; got ${JSON.stringify(error.data)}`;
    case "type":
      return `must be ${article(String(params.type))}; got ${describeType(error.data)}`;
    case "pattern":
      return typeof parent?.patternErrorMessage === "string"
        ? parent.patternErrorMessage
        : `must match ${String(params.pattern)}`;
    case "minLength":
      return Number(params.limit) === 1
        ? "must not be empty"
        : `must be at least ${String(params.limit)} characters long`;
    case "maxLength":
      return `must be at most ${String(params.limit)} characters long; got ${String((error.data as string).length)}`;
    case "minItems":
      return Number(params.limit) === 1
        ? "must list at least one item"
        : `must list at least ${String(params.limit)} items`;
    case "maxItems":
      return `must list at most ${String(params.limit)} items`;
    case "minProperties":
      return typeof custom === "string" ? custom : "must not be empty";
    case "maxProperties":
      return `must have at most ${String(params.limit)} entries`;
    default:
      return error.message ?? `failed the ${error.keyword} check`;
  }
}

function article(type: string): string {
  const name = type === "object" ? "mapping" : type === "array" ? "list" : type;
  return `${/^[aeiou]/.test(name) ? "an" : "a"} ${name}`;
}

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${JSON.stringify(value)}`;
}

function dedupe(problems: SchemaProblem[]): SchemaProblem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = `${problem.displayPath.join("/")}\u0000${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
