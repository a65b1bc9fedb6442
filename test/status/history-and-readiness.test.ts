import { describe, expect, it } from "vitest";
import type { ManifestResult } from "../../src/engine/engine.js";
import { emptyManifestPlan } from "../../src/plan/manifest-plan.js";
import type { ActionRecord, ReconcileRecord } from "../../src/status/status-store.js";
import { StatusStore } from "../../src/status/status-store.js";

const drift = [{ resource: "role/rolecall-obs", field: "attachedPolicies", desired: '["p"]', actual: "[]" }];

function observed(status: ManifestResult["status"] = "drifted"): ManifestResult {
  return {
    manifest: "obs",
    mode: "observe",
    status,
    retryable: false,
    errors: [],
    warnings: [],
    plan: { ...emptyManifestPlan("obs", "observe"), drift: status === "converged" ? [] : drift },
    outcomes: [],
  };
}

let count = 0;
function record(actions: ActionRecord[], result: ReconcileRecord["result"] = "drifted"): ReconcileRecord {
  count += 1;
  return {
    at: new Date(Date.UTC(2030, 0, 1, 0, 0, count)).toISOString(),
    reconcileId: `r${count}`,
    result,
    durationMs: count,
    actions,
    error: null,
  };
}

const attach: ActionRecord = { description: "attach policy p to role rolecall-obs", status: "planned" };
const detach: ActionRecord = { description: "detach policy q from role rolecall-obs", status: "planned" };

describe("history keeps transitions and changes, not repetitions", () => {
  it("an observe-mode manifest reporting the same drift at every resync adds one entry, not one per resync", () => {
    const store = new StatusStore();
    store.setManifests([{ name: "obs", file: "obs.yaml", generation: "g1", mode: "observe" }], []);
    const first = record([attach]);
    store.recordReconcile(observed(), first);
    for (let index = 0; index < 15; index += 1) store.recordReconcile(observed(), record([attach]));
    expect(store.manifest("obs")?.history.map((entry) => entry.reconcileId)).toEqual([first.reconcileId]);
    // lastReconcile still says when it last looked.
    expect(store.manifest("obs")?.lastReconcile?.reconcileId).toBe(`r${count}`);

    // Different drift is a change; the drift going away is a transition; its coming back is one too.
    const changed = record([attach, detach]);
    store.recordReconcile(observed(), changed);
    const gone = record([], "converged");
    store.recordReconcile(observed("converged"), gone);
    store.recordReconcile(observed("converged"), record([], "converged"));
    const back = record([attach]);
    store.recordReconcile(observed(), back);
    store.recordReconcile(observed(), record([attach]));
    expect(store.manifest("obs")?.history.map((entry) => entry.reconcileId)).toEqual([
      back.reconcileId,
      gone.reconcileId,
      changed.reconcileId,
      first.reconcileId,
    ]);
  });

  it("a repair is always history, even when it repeats the last one; the same failure twice is not", () => {
    const store = new StatusStore();
    store.setManifests([{ name: "obs", file: "obs.yaml", generation: "g1", mode: "enforce" }], []);
    const repaired: ActionRecord = { description: "attach policy p to role rolecall-obs", status: "done" };
    const repairs = [record([repaired], "converged"), record([repaired], "converged")];
    for (const repair of repairs) store.recordReconcile(observed("converged"), repair);
    const failure: ActionRecord = { ...repaired, status: "failed", errorCode: "AccessDenied", error: "no" };
    const failed = { ...record([failure], "failed"), error: "AccessDenied: no" };
    store.recordReconcile(observed("failed"), failed);
    store.recordReconcile(observed("failed"), { ...record([failure], "failed"), error: "AccessDenied: no" });
    expect(store.manifest("obs")?.history.map((entry) => entry.reconcileId)).toEqual([
      failed.reconcileId,
      repairs[1]!.reconcileId,
      repairs[0]!.reconcileId,
    ]);
  });
});

describe("Ready of a manifest that cannot become ready", () => {
  it("a manifest never valid is Ready=False with the reason, not Unknown", () => {
    const store = new StatusStore();
    store.setManifests(
      [
        {
          name: "never",
          file: "never.yaml",
          generation: "",
          mode: "enforce",
          invalid: { message: "never.yaml:3:5: unknown field", inForceGeneration: undefined },
        },
      ],
      [],
    );
    const ready = store.manifest("never")?.conditions.find((condition) => condition.type === "Ready");
    expect(ready).toMatchObject({ status: "False", reason: "ManifestInvalid" });
    expect(ready?.message).toContain("never.yaml:3:5: unknown field");
  });

  it("a valid manifest not reconciled yet is still Ready=Unknown (it is on its way)", () => {
    const store = new StatusStore();
    store.setManifests([{ name: "fresh", file: "fresh.yaml", generation: "g1", mode: "enforce" }], []);
    const ready = store.manifest("fresh")?.conditions.find((condition) => condition.type === "Ready");
    expect(ready).toMatchObject({ status: "Unknown", reason: "Pending" });
  });
});
