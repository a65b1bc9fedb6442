import { describe, expect, it } from "vitest";
import { compileFilters, type FieldReader } from "../../../src/aws/sim/ec2-filters.js";

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
