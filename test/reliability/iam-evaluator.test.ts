// The shared IAM evaluator (test/support/iam-evaluator.ts) against the rules of IAM's policy evaluation it claims
// to model, each next to a near miss, and against the shapes it must refuse rather than evaluate wrongly.
import { describe, expect, it } from "vitest";
import { decide, isAllowed, type Policy, type Statement } from "../support/iam-evaluator.js";

const policy = (...statements: Statement[]): Policy => ({ Version: "2012-10-17", Statement: statements });
const allow = (extra: Omit<Statement, "Effect">): Statement => ({ Effect: "Allow", ...extra });
const deny = (extra: Omit<Statement, "Effect">): Statement => ({ Effect: "Deny", ...extra });
const only = (...statements: Statement[]) => ({ identity: [policy(...statements)] });

describe("the IAM evaluator", () => {
  it("matches actions ignoring case, with * and ? wildcards", () => {
    const principal = only(allow({ Action: ["s3:Get*", "iam:?etRole"], Resource: "*" }));
    expect(isAllowed(principal, { action: "s3:GetObject", resource: "arn:aws:s3:::b/k" })).toBe(true);
    expect(isAllowed(principal, { action: "S3:getobject", resource: "arn:aws:s3:::b/k" })).toBe(true);
    expect(isAllowed(principal, { action: "iam:GetRole", resource: "arn:aws:iam::1:role/r" })).toBe(true);
    expect(isAllowed(principal, { action: "s3:PutObject", resource: "arn:aws:s3:::b/k" })).toBe(false);
    expect(isAllowed(principal, { action: "iam:GettRole", resource: "arn:aws:iam::1:role/r" })).toBe(false);
    expect(
      isAllowed(only(allow({ Action: "*", Resource: "*" })), { action: "kms:Decrypt", resource: "*" }),
    ).toBe(true);
  });

  it("matches resources with case, part by part, so a * never crosses an ARN's colons", () => {
    const principal = only(allow({ Action: "iam:GetRole", Resource: "arn:aws:iam::*:role/rolecall/*" }));
    const get = (resource: string) => isAllowed(principal, { action: "iam:GetRole", resource });
    expect(get("arn:aws:iam::123456789012:role/rolecall/a/b")).toBe(true);
    expect(get("arn:aws:iam::123456789012:role/Rolecall/a")).toBe(false);
    expect(get("arn:aws:iam::123456789012:role/rolecall-other/a")).toBe(false);
    expect(get("arn:aws:iam::123:456:role/rolecall/a"), "the account part holds no colon").toBe(false);
    expect(get("arn:aws-cn:iam::123456789012:role/rolecall/a")).toBe(false);
    expect(get("*"), "a request on * is not an ARN").toBe(false);
    // The last part, the resource, may hold colons of its own (S3 keys do).
    const objects = only(allow({ Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" }));
    expect(isAllowed(objects, { action: "s3:GetObject", resource: "arn:aws:s3:::b/a:b" })).toBe(true);
  });

  it("reads NotAction and NotResource as everything but what they name", () => {
    const principal = only(allow({ NotAction: "iam:*", NotResource: "arn:aws:s3:::secret/*" }));
    expect(isAllowed(principal, { action: "s3:GetObject", resource: "arn:aws:s3:::open/k" })).toBe(true);
    expect(isAllowed(principal, { action: "s3:GetObject", resource: "arn:aws:s3:::secret/k" })).toBe(false);
    expect(isAllowed(principal, { action: "iam:CreateUser", resource: "arn:aws:iam::1:user/u" })).toBe(false);
  });

  it("lets an explicit Deny win over any Allow, in identity policies and in the boundary", () => {
    const all = allow({ Action: "*", Resource: "*" });
    const noDelete = deny({ Action: "s3:DeleteObject", Resource: "*" });
    const request = { action: "s3:DeleteObject", resource: "arn:aws:s3:::b/k" };
    expect(decide(only(all), request)).toBe("Allow");
    expect(decide({ identity: [policy(all), policy(noDelete)] }, request)).toBe("ExplicitDeny");
    expect(decide({ identity: [policy(all)], boundary: policy(all, noDelete) }, request)).toBe(
      "ExplicitDeny",
    );
    expect(decide({ identity: [] }, request), "nothing allows it").toBe("ImplicitDeny");
  });

  it("allows under a boundary only what both the identity policies and the boundary allow", () => {
    const s3 = policy(allow({ Action: "s3:*", Resource: "*" }));
    const iam = policy(allow({ Action: "iam:*", Resource: "*" }));
    const getObject = { action: "s3:GetObject", resource: "arn:aws:s3:::b/k" };
    expect(decide({ identity: [s3], boundary: s3 }, getObject)).toBe("Allow");
    expect(decide({ identity: [s3], boundary: iam }, getObject), "outside the boundary").toBe("ImplicitDeny");
    expect(decide({ identity: [iam], boundary: s3 }, getObject), "the boundary grants nothing").toBe(
      "ImplicitDeny",
    );
  });

  it("evaluates StringEquals, StringLike, ArnEquals and ArnLike, and their IfExists forms", () => {
    const principal = only(
      allow({
        Action: "iam:CreateRole",
        Resource: "*",
        Condition: {
          StringEquals: { "aws:RequestTag/team": ["red", "blue"] },
          StringLike: { "aws:RequestTag/env": "prod-*" },
          ArnLike: { "iam:PermissionsBoundary": "arn:aws:iam::*:policy/b/*" },
          ArnEqualsIfExists: { "iam:PolicyARN": "arn:aws:iam::1:policy/p" },
        },
      }),
    );
    const base = {
      "aws:requesttag/TEAM": "blue",
      "aws:RequestTag/env": "prod-eu",
      "iam:PermissionsBoundary": "arn:aws:iam::123:policy/b/cap",
    };
    const create = (context: Record<string, string>) =>
      isAllowed(principal, { action: "iam:CreateRole", resource: "arn:aws:iam::1:role/r", context });
    expect(create(base), "key names ignore case; values are ORed").toBe(true);
    expect(create({ ...base, "aws:requesttag/TEAM": "Blue" }), "values keep their case").toBe(false);
    expect(create({ ...base, "aws:RequestTag/env": "dev-eu" })).toBe(false);
    expect(create({ ...base, "iam:PermissionsBoundary": "arn:aws:iam::123:policy/c/cap" })).toBe(false);
    expect(create({ ...base, "iam:PermissionsBoundary": "not-an-arn" })).toBe(false);
    const { "aws:RequestTag/env": _env, ...withoutEnv } = base;
    expect(create(withoutEnv), "a missing key fails its test").toBe(false);
    expect(
      create({ ...base, "iam:PolicyARN": "arn:aws:iam::1:policy/p" }),
      "IfExists, present and equal",
    ).toBe(true);
    expect(create({ ...base, "iam:PolicyARN": "arn:aws:iam::1:policy/q" }), "IfExists, present and not").toBe(
      false,
    );
  });

  it("refuses what it does not model instead of evaluating it", () => {
    const request = { action: "s3:GetObject", resource: "arn:aws:s3:::b/k" };
    const refused =
      (...statements: Statement[]) =>
      () =>
        isAllowed(only(...statements), request);
    const base = { Action: "s3:GetObject", Resource: "*" };
    expect(refused({ ...allow(base), Principal: "*" } as Statement)).toThrow(/Principal/);
    expect(refused(allow({ ...base, Condition: { NumericLessThan: { "s3:max-keys": "10" } } }))).toThrow(
      /Numeric/,
    );
    expect(
      refused(allow({ ...base, Condition: { "ForAnyValue:StringLike": { "aws:TagKeys": "a" } } })),
    ).toThrow();
    expect(
      refused(allow({ ...base, Condition: { StringNotEquals: { "aws:RequestTag/a": "b" } } })),
    ).toThrow();
    expect(refused(allow({ ...base, Resource: "arn:aws:s3:::${aws:username}/*" }))).toThrow(/variable/);
    expect(refused(allow({ Action: "s3:GetObject" }))).toThrow(/Resource/);
    expect(refused(allow({ ...base, NotAction: "iam:*" }))).toThrow(/Action/);
    expect(refused(allow({ ...base, Action: "s3 GetObject" }))).toThrow(/action/);
    expect(refused(allow({ ...base, Resource: "my-bucket" }))).toThrow(/resource/);
    expect(refused({ Effect: "Audit", ...base })).toThrow(/effect/);
    expect(() =>
      isAllowed({ identity: [{ Version: "2008-10-17", Statement: allow(base) }] }, request),
    ).toThrow(/version/);
  });
});
