import { describe, expect, it } from "vitest";
import { decodePolicyDocument, policiesEqual } from "../../src/plan/policy-equality.js";
import { desiredFor } from "../support/desired-fixtures.js";

const compiled = desiredFor("dev", {
  grants: [
    { bucket: "dev-data", access: "read-write" },
    { bucket: "dev-logs", access: "read", prefixes: ["app/"] },
  ],
}).policy.document;

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource?: string | string[];
  Condition?: unknown;
}
interface Doc {
  Version?: string | undefined;
  Statement: Statement[];
}

/** A mutable deep copy of the compiled document. */
const copy = (): Doc => JSON.parse(JSON.stringify(compiled)) as Doc;
const asList = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** The same document as a human (or the console) might have written it. */
function rewritten(): Doc {
  const document = copy();
  return {
    Version: document.Version,
    Statement: [...document.Statement].reverse().map(({ Sid: _sid, ...statement }) => {
      const actions = asList(statement.Action)
        .reverse()
        .map((action) => action.toUpperCase());
      const resources = asList(statement.Resource).reverse();
      return {
        ...statement,
        Action: actions.length === 1 ? actions[0]! : actions,
        ...(statement.Resource === undefined
          ? {}
          : { Resource: resources.length === 1 ? resources[0]! : resources }),
      };
    }),
  };
}

describe("decodePolicyDocument", () => {
  const document = {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }],
  };

  it("parses URL-encoded (AWS) and plain JSON (emulators) documents alike", () => {
    expect(decodePolicyDocument(encodeURIComponent(JSON.stringify(document)))).toEqual(document);
    expect(decodePolicyDocument(JSON.stringify(document, null, 2))).toEqual(document);
    expect(decodePolicyDocument(`  ${JSON.stringify(document)}\n`)).toEqual(document);
  });

  it("is undefined for nothing or garbage", () => {
    expect(decodePolicyDocument(undefined)).toBeUndefined();
    expect(decodePolicyDocument("%E0%A4%A")).toBeUndefined();
    expect(decodePolicyDocument("{not json")).toBeUndefined();
  });
});

describe("policiesEqual compares by meaning", () => {
  it("statement order, action order and case, string versus one-element list, Sids: all equal", () => {
    const other = rewritten();
    expect(JSON.stringify(other)).not.toBe(JSON.stringify(compiled));
    expect(other.Statement.some((statement) => typeof statement.Action === "string")).toBe(true);
    expect(policiesEqual(compiled, other)).toBe(true);
  });

  it("a URL-encoded round trip is equal", () => {
    expect(policiesEqual(compiled, decodePolicyDocument(encodeURIComponent(JSON.stringify(compiled))))).toBe(
      true,
    );
  });

  it("repeated values and condition key case do not matter; condition values do", () => {
    const base = {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: "s3:ListBucket",
          Resource: "arn:aws:s3:::b",
          Condition: { StringLike: { "s3:prefix": ["a/", "a/*"] } },
        },
      ],
    };
    const same = {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: ["s3:listbucket", "s3:ListBucket"],
          Resource: ["arn:aws:s3:::b"],
          Condition: { StringLike: { "S3:Prefix": ["a/*", "a/"] } },
        },
      ],
    };
    expect(policiesEqual(base, same)).toBe(true);
    const otherValue = structuredClone(base);
    otherValue.Statement[0]!.Condition.StringLike["s3:prefix"] = ["A/", "A/*"];
    expect(policiesEqual(base, otherValue)).toBe(false);
  });

  it("a different resource, effect, action or an extra statement is a difference", () => {
    const resource = copy();
    resource.Statement[0]!.Resource = ["arn:aws:s3:::dev-data-other/*"];
    expect(policiesEqual(compiled, resource)).toBe(false);

    const effect = copy();
    effect.Statement[0]!.Effect = "Deny";
    expect(policiesEqual(compiled, effect)).toBe(false);

    const action = copy();
    action.Statement[0]!.Action = [...asList(action.Statement[0]!.Action), "s3:PutObjectAcl"];
    expect(policiesEqual(compiled, action)).toBe(false);

    const extra = {
      ...compiled,
      Statement: [...compiled.Statement, { Effect: "Allow", Action: "s3:*", Resource: "*" }],
    };
    expect(policiesEqual(compiled, extra)).toBe(false);
  });

  it("resource ARNs are case-sensitive", () => {
    const upper = copy();
    upper.Statement[0]!.Resource = asList(upper.Statement[0]!.Resource).map((arn) => arn.toUpperCase());
    expect(policiesEqual(compiled, upper)).toBe(false);
  });

  it("an unreadable document is never equal, not even to itself", () => {
    expect(policiesEqual(undefined, compiled)).toBe(false);
    expect(policiesEqual(compiled, undefined)).toBe(false);
    expect(policiesEqual(undefined, undefined)).toBe(false);
  });

  it("a missing Version means the 2008 language version, which differs from 2012", () => {
    const { Version: _version, ...noVersion } = compiled;
    expect(policiesEqual(compiled, noVersion)).toBe(false);
  });
});
