import { describe, expect, it } from "vitest";
import { IdFactory } from "../../../src/aws/sim/ids.js";

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
