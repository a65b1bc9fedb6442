// Which manifests can select one instance, known offline: by IDs listed in both, or by tag sets that agree.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { overlapReason, overlappingPairs, selectorsOverlap } from "../../src/access/selector-overlap.js";
import { selects, type InstanceSelection } from "../../src/desired/desired-access.js";

const tags = (matchTags: Record<string, string>): InstanceSelection => ({ instanceIds: [], matchTags });
const ids = (...instanceIds: string[]): InstanceSelection => ({ instanceIds, matchTags: {} });

describe("selector overlap rules", () => {
  it("two tag selectors overlap unless they require different values for one key", () => {
    expect(overlapReason(tags({ Team: "a" }), tags({ Team: "a", Env: "prod" }))).toBe(
      "an instance tagged Env=prod, Team=a is selected by both",
    );
    expect(selectorsOverlap(tags({ Team: "a" }), tags({ Env: "prod" }))).toBe(true);
    expect(selectorsOverlap(tags({ Team: "a", Env: "prod" }), tags({ Team: "b", Env: "prod" }))).toBe(false);
  });

  it("an ID list overlaps what lists the same ID, and nothing else", () => {
    expect(overlapReason(ids("i-1", "i-2"), ids("i-2", "i-3"))).toBe("both list i-2");
    expect(selectorsOverlap(ids("i-1"), ids("i-2"))).toBe(false);
    // By ID against by tags cannot be known offline (the instance's tags are not): not an overlap here.
    expect(selectorsOverlap(ids("i-1"), tags({ Team: "a" }))).toBe(false);
  });

  it("a tag key that is also an Object.prototype name is an ordinary key", () => {
    expect(selectorsOverlap(tags({ constructor: "x" }), tags({ toString: "y" }))).toBe(true);
    expect(selectorsOverlap(tags({ constructor: "x" }), tags({ constructor: "y" }))).toBe(false);
  });

  it("pairs are in name order, each once; with `touching`, only pairs of a touched manifest", () => {
    const selectors = [
      { name: "c", selector: tags({ Team: "a" }) },
      { name: "a", selector: tags({ Env: "prod" }) },
      { name: "b", selector: tags({ Team: "b" }) },
    ];
    expect(overlappingPairs(selectors)).toEqual([
      ["a", "b"],
      ["a", "c"],
    ]);
    expect(overlappingPairs(selectors, new Set(["c"]))).toEqual([["a", "c"]]);
  });
});

describe("selector overlap, checked against the selector's own matching (property)", () => {
  const key = fc.constantFrom("Team", "Env", "Role");
  const value = fc.constantFrom("a", "b");
  const tagSet = fc.dictionary(key, value, { minKeys: 0, maxKeys: 3 });
  const idList = fc.uniqueArray(fc.constantFrom<string>("i-1", "i-2", "i-3"), { maxLength: 2 });
  const selector = fc
    .record({ instanceIds: idList, matchTags: tagSet })
    .filter((candidate) => candidate.instanceIds.length > 0 || Object.keys(candidate.matchTags).length > 0);
  const instance = fc.record({ id: fc.constantFrom("i-1", "i-2", "i-3", "i-4"), tags: tagSet });

  it("an instance selected by both through IDs or through tags alone means the selectors overlap", () => {
    fc.assert(
      fc.property(selector, selector, fc.array(instance, { maxLength: 8 }), (a, b, instances) => {
        for (const { id, tags: instanceTags } of instances) {
          const byIds = a.instanceIds.includes(id) && b.instanceIds.includes(id);
          const byTags =
            selects({ instanceIds: [], matchTags: a.matchTags }, id, instanceTags) &&
            selects({ instanceIds: [], matchTags: b.matchTags }, id, instanceTags);
          if (byIds || byTags) expect(selectorsOverlap(a, b)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("an overlap has a witness: the shared ID, or an instance carrying both tag sets, selected by both", () => {
    fc.assert(
      fc.property(selector, selector, (a, b) => {
        expect(selectorsOverlap(a, b)).toBe(selectorsOverlap(b, a));
        if (!selectorsOverlap(a, b)) return;
        const shared = a.instanceIds.find((id) => b.instanceIds.includes(id));
        const witness = {
          id: shared ?? "i-none",
          tags: shared === undefined ? { ...a.matchTags, ...b.matchTags } : {},
        };
        expect(selects(a, witness.id, witness.tags) && selects(b, witness.id, witness.tags)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
