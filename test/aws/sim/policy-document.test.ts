import { describe, expect, it } from "vitest";
import { documentSize, encodeDocument, validateDocument } from "../../../src/aws/sim/policy-document.js";

const statement = { Effect: "Allow", Action: "s3:GetObject", Resource: "*" };

describe("policy documents", () => {
  it("keeps the text as sent and encodes it as a URI component", () => {
    const text = ` { "Statement" : ${JSON.stringify(statement)} } `;
    expect(validateDocument(text, "managed")).toBe(text);
    expect(encodeDocument('{"a": "b/c d"}')).toBe("%7B%22a%22%3A%20%22b%2Fc%20d%22%7D");
  });

  it("accepts a single statement object as well as a list", () => {
    expect(() => validateDocument(JSON.stringify({ Statement: statement }), "inline")).not.toThrow();
    expect(() =>
      validateDocument(
        JSON.stringify({ Statement: [statement, { ...statement, Effect: "Deny" }] }),
        "inline",
      ),
    ).not.toThrow();
  });

  it("refuses an empty statement list and a non-object statement", () => {
    expect(() => validateDocument(JSON.stringify({ Statement: [] }), "managed")).toThrow(/Syntax errors/);
    expect(() => validateDocument(JSON.stringify({ Statement: ["x"] }), "managed")).toThrow(/Syntax errors/);
  });

  it("accepts NotAction, NotResource and NotPrincipal in place of their positive forms", () => {
    expect(() =>
      validateDocument(
        JSON.stringify({ Statement: { Effect: "Deny", NotAction: "s3:*", NotResource: "*" } }),
        "managed",
      ),
    ).not.toThrow();
    const trust = { Statement: { Effect: "Deny", NotPrincipal: { AWS: "*" }, Action: "sts:AssumeRole" } };
    expect(() => validateDocument(JSON.stringify(trust), "trust")).not.toThrow();
  });

  it("counts size without white space, allowing exactly the quota", () => {
    expect(documentSize(' { "a" :\n\t1 } ')).toBe('{"a":1}'.length);
    const base = JSON.stringify({ Statement: { ...statement, Sid: "" } });
    const atQuota = base.replace('"Sid":""', `"Sid":"${"x".repeat(6144 - base.length)}"`);
    expect(documentSize(atQuota)).toBe(6144);
    expect(() => validateDocument(atQuota, "managed")).not.toThrow();
    const overQuota = atQuota.replace('"Sid":"', '"Sid":"x');
    expect(() => validateDocument(overQuota, "managed")).toThrow(/PolicySize: 6144/);
  });
});
