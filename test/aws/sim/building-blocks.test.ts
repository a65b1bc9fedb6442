import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileFilters, type FieldReader } from "../../../src/aws/sim/ec2-filters.js";
import { IdFactory } from "../../../src/aws/sim/ids.js";
import { byKey, paginate, sequenceKey } from "../../../src/aws/sim/pagination.js";
import { documentSize, encodeDocument, validateDocument } from "../../../src/aws/sim/policy-document.js";

/** The simulator's shared building blocks, tested without the SDK. */

describe("pagination", () => {
  const invalid = () => new Error("invalid token");
  const identity = (value: string) => value;

  function drain(items: string[], limit: number): string[][] {
    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const page = paginate(items, identity, limit, token, invalid);
      pages.push(page.items);
      token = page.next;
    } while (token !== undefined);
    return pages;
  }

  describe("paginate", () => {
    it("returns every item exactly once, in order, in pages of at most the limit", () => {
      fc.assert(
        fc.property(
          fc.uniqueArray(fc.string(), { maxLength: 40 }),
          fc.integer({ min: 1, max: 12 }),
          (raw, limit) => {
            const items = [...raw].sort(byKey(identity));
            const pages = drain(items, limit);
            expect(pages.flat()).toEqual(items);
            expect(pages.every((page) => page.length <= limit)).toBe(true);
            expect(pages.length).toBe(Math.max(1, Math.ceil(items.length / limit)));
          },
        ),
        { numRuns: 200 },
      );
    });

    it("gives no token on the last page, even when it is exactly full", () => {
      expect(paginate(["a", "b"], identity, 2, undefined, invalid).next).toBeUndefined();
      expect(paginate(["a", "b", "c"], identity, 2, undefined, invalid).next).toBeDefined();
    });

    it("continues after the last key returned, so deletions and insertions between pages shift nothing", () => {
      const first = paginate(["a", "b", "c", "d"], identity, 2, undefined, invalid);
      const changed = ["a", "aa", "c", "d", "e"]; // "b" deleted, "aa" inserted before the cut, "e" appended
      const second = paginate(changed, identity, 2, first.next, invalid);
      expect(second.items).toEqual(["c", "d"]);
      expect(paginate(changed, identity, 2, second.next, invalid).items).toEqual(["e"]);
    });

    it("refuses a token it did not issue", () => {
      expect(() => paginate(["a"], identity, 1, "garbage", invalid)).toThrow("invalid token");
    });

    it("orders sequence keys numerically", () => {
      const keys = [10, 9, 100, 1].map(sequenceKey).sort();
      expect(keys).toEqual([1, 9, 10, 100].map(sequenceKey));
    });
  });
});

describe("identifiers", () => {
  describe("IdFactory", () => {
    it("makes unique IDs in AWS's formats", () => {
      const ids = new IdFactory();
      const made = new Set<string>();
      for (let index = 0; index < 3000; index += 1) {
        const instance = ids.hex17("i-");
        const role = ids.iam("AROA");
        expect(instance).toMatch(/^i-[0-9a-f]{17}$/);
        expect(role).toMatch(/^AROA[A-Z0-9]{17}$/);
        made.add(instance).add(role);
      }
      expect(made.size).toBe(6000);
    });

    it("repeats the same sequence in a new factory", () => {
      const [a, b] = [new IdFactory(), new IdFactory()];
      const sequence = (ids: IdFactory) => [ids.hex17("iip-assoc-"), ids.iam("ANPA"), ids.iam("AIPA")];
      expect(sequence(a)).toEqual(sequence(b));
      expect(sequence(a)[0]).toMatch(/^iip-assoc-[0-9a-f]{17}$/);
    });
  });
});

describe("EC2 filters", () => {
  interface Item {
    readonly name: string;
    readonly tags: Readonly<Record<string, string>>;
  }

  const fields: FieldReader<Item> = (name) => {
    if (name === "name") return (item) => [item.name];
    if (name.startsWith("tag:"))
      return (item) => (item.tags[name.slice(4)] === undefined ? [] : [item.tags[name.slice(4)]!]);
    return undefined;
  };

  const matches = (filters: Parameters<typeof compileFilters>[0], item: Item) =>
    compileFilters(filters, fields)(item);
  const item = (name: string, tags: Record<string, string> = {}): Item => ({ name, tags });

  describe("compileFilters", () => {
    it("matches everything without filters", () => {
      expect(matches(undefined, item("x"))).toBe(true);
      expect(matches([], item("x"))).toBe(true);
    });

    it("treats regular-expression characters in values literally", () => {
      expect(matches([{ Name: "name", Values: ["a.b"] }], item("a.b"))).toBe(true);
      expect(matches([{ Name: "name", Values: ["a.b"] }], item("axb"))).toBe(false);
      expect(matches([{ Name: "name", Values: ["(x)+[y]"] }], item("(x)+[y]"))).toBe(true);
    });

    it("supports * and ? and their escapes", () => {
      expect(matches([{ Name: "name", Values: ["web-*"] }], item("web-"))).toBe(true);
      expect(matches([{ Name: "name", Values: ["web-?"] }], item("web-12"))).toBe(false);
      expect(matches([{ Name: "name", Values: ["a\\*"] }], item("a*"))).toBe(true);
      expect(matches([{ Name: "name", Values: ["a\\*"] }], item("ab"))).toBe(false);
      expect(matches([{ Name: "name", Values: ["a\\?"] }], item("a?"))).toBe(true);
    });

    it("matches the whole value, case-sensitively", () => {
      expect(matches([{ Name: "name", Values: ["prod"] }], item("production"))).toBe(false);
      expect(matches([{ Name: "name", Values: ["prod"] }], item("Prod"))).toBe(false);
    });

    it("requires an item to have a field that a value-less filter names", () => {
      expect(matches([{ Name: "tag:Team", Values: [] }], item("x", { Team: "" }))).toBe(true);
      expect(matches([{ Name: "tag:Team" }], item("x"))).toBe(false);
    });

    it("refuses a filter without a name or with an unknown one", () => {
      expect(() => compileFilters([{ Values: ["x"] }], fields)).toThrow(/'null' is invalid/);
      expect(() => compileFilters([{ Name: "size", Values: ["x"] }], fields)).toThrow(/'size' is invalid/);
    });

    it("counts values across filters against the limit of 200", () => {
      const hundred = Array.from({ length: 100 }, (_, index) => `v${index}`);
      expect(() =>
        compileFilters(
          [
            { Name: "name", Values: hundred },
            { Name: "tag:a", Values: hundred },
          ],
          fields,
        ),
      ).not.toThrow();
      expect(() =>
        compileFilters(
          [
            { Name: "name", Values: hundred },
            { Name: "tag:a", Values: [...hundred, "one more"] },
          ],
          fields,
        ),
      ).toThrow(expect.objectContaining({ Code: "FilterLimitExceeded" }) as Error);
    });
  });
});

describe("policy documents", () => {
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
      expect(() => validateDocument(JSON.stringify({ Statement: ["x"] }), "managed")).toThrow(
        /Syntax errors/,
      );
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
});
