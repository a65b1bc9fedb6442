import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { byKey, paginate, sequenceKey } from "../../../src/aws/sim/pagination.js";

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
