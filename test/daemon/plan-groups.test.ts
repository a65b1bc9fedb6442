import { describe, expect, it } from "vitest";
import { planGroups } from "../../src/daemon/plan-groups.js";
import { ownershipTags } from "../../src/desired/ownership.js";
import type { Action } from "../../src/plan/action.js";
import { emptyManifestPlan, type CompositePlan } from "../../src/plan/manifest-plan.js";
import type { PassPlan } from "../../src/plan/plan-pass.js";
import { associationOf, instance, snapshotOf } from "../support/snapshot-fixtures.js";
import { profileArn } from "../support/desired-fixtures.js";

const reason = { resource: "x", field: "y", desired: "", actual: "" };
const replace = (manifest: string, instanceId: string, profileName: string): Action => ({
  kind: "replaceInstanceProfileAssociation",
  manifest,
  reason,
  instanceId,
  associationId: `iip-assoc-${instanceId}`,
  profileName,
});

describe("planGroups: the units of a plan that must run together", () => {
  it("a composite runs with its members; a manifest moving an instance runs with the holder it moves it from", () => {
    const composite: CompositePlan = { ...emptyManifestPlan("rolecall+ab", "enforce"), members: ["a", "b"] };
    const plan: PassPlan = {
      manifests: new Map([
        ["a", emptyManifestPlan("a", "enforce")],
        ["b", emptyManifestPlan("b", "enforce")],
        ["c", { ...emptyManifestPlan("c", "enforce"), actions: [replace("c", "i-1", "rolecall-c")] }],
        ["d", emptyManifestPlan("d", "enforce")],
        ["e", emptyManifestPlan("e", "enforce")],
      ]),
      composites: new Map([["rolecall+ab", composite]]),
      pruneSuspended: undefined,
    };
    const snapshot = snapshotOf({
      profiles: [
        {
          name: "rolecall-d",
          arn: profileArn("rolecall-d"),
          path: "/rolecall/",
          roleNames: [],
          tags: ownershipTags("d", "delete"),
        },
      ],
      instances: [instance("i-1")],
      associations: [associationOf("i-1", "rolecall-d")],
    });
    const groups = planGroups(plan, snapshot);
    expect([...(groups.get("a") ?? [])].sort()).toEqual(["a", "b", "rolecall+ab"]);
    expect(groups.get("rolecall+ab")).toBe(groups.get("b"));
    expect([...(groups.get("c") ?? [])].sort()).toEqual(["c", "d"]);
    expect(groups.get("e")).toEqual(["e"]);
  });
});
