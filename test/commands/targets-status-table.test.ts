import { describe, expect, it } from "vitest";
import {
  allTargetsReady,
  renderTargetsStatusTable,
  targetsStatusJson,
} from "../../src/commands/targets-status-table.js";
import type { TargetReach } from "../../src/status/targets-status.js";
import { strayFile, twoTargets } from "../support/targets-fixture.js";

const now = new Date("2030-01-01T00:00:00Z");

function document(devReach: TargetReach, outside = false) {
  return twoTargets(now, devReach, outside ? [{ ...strayFile, file: "/m/x.yaml" }] : []).document();
}

const unavailable: TargetReach = {
  state: "unavailable",
  code: "AccountMismatch",
  message: "the credentials belong to account 444444444444",
  attempts: 2,
  retryAt: "2030-01-01T00:00:04.000Z",
};

describe("rolecall status of a daemon run with --targets", () => {
  it("prints a table per target, and why a target is unavailable", () => {
    expect(renderTargetsStatusTable(document(unavailable, true), now).split("\n")).toEqual([
      "invalid: /m/x.yaml:1:1: in no target",
      "",
      "target prod (account 111111111111; us-east-1, eu-west-1)",
      "  NAME   MODE      READY     DRIFT   INSTANCES   LAST RECONCILE",
      "  web    enforce   Unknown   0       0           never",
      "  0 of 1 ready, 0 drifted, 0 invalid file(s)",
      "",
      "target dev (account 222222222222; us-east-1)",
      "  unavailable: AccountMismatch: the credentials belong to account 444444444444",
      "",
      // One lease for every target: said once, after them.
      "leadership: no lease configured (this process makes changes alone)",
    ]);
  });

  it("is not all ready while a target is unavailable; the JSON keeps the sections", () => {
    expect(allTargetsReady(document(unavailable))).toBe(false);
    const json = targetsStatusJson(document(unavailable));
    expect(json.targets.map((target) => [target.name, target.reachable, target.manifests.length])).toEqual([
      ["prod", true, 1],
      ["dev", false, 0],
    ]);
    expect(json.targets[1]).toMatchObject({ error: { code: "AccountMismatch", attempts: 2 } });
    expect(json.leadership).toBeNull();
  });
});
