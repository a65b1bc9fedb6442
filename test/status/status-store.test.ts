import { describe, expect, it } from "vitest";
import type { Issue, ManifestPlan } from "../../src/plan/manifest-plan.js";
import { emptyManifestPlan } from "../../src/plan/manifest-plan.js";
import type { ManifestResult, ManifestStatus } from "../../src/engine/engine.js";
import type { ManifestError } from "../../src/manifest/manifest-error.js";
import type { Condition, ConditionType } from "../../src/status/conditions.js";
import { setConditions } from "../../src/status/conditions.js";
import {
  StatusStore,
  type ManifestEntry,
  type ManifestStatusView,
  type ReconcileRecord,
} from "../../src/status/status-store.js";

/** A clock the test moves by hand. */
function manualClock(start = Date.parse("2030-01-01T00:00:00Z")) {
  let now = start;
  return {
    now: () => new Date(now),
    advance: (ms = 1000) => {
      now += ms;
      return new Date(now).toISOString();
    },
    iso: () => new Date(now).toISOString(),
  };
}

const entry = (name: string, generation = "gen-1", extra: Partial<ManifestEntry> = {}): ManifestEntry => ({
  name,
  file: `manifests/${name}.yaml`,
  generation,
  mode: "enforce",
  ...extra,
});

function result(
  name: string,
  status: ManifestStatus,
  plan: Partial<ManifestPlan> = {},
  errors: string[] = [],
): ManifestResult {
  const full = { ...emptyManifestPlan(name, plan.mode ?? "enforce"), ...plan };
  return {
    manifest: name,
    mode: full.mode,
    status,
    retryable: false,
    errors,
    warnings: [],
    plan: full,
    outcomes: [],
  };
}

let reconciles = 0;
function record(
  at: string,
  status: ManifestStatus = "converged",
  error: string | null = null,
): ReconcileRecord {
  reconciles += 1;
  return {
    at,
    reconcileId: `r${reconciles}`,
    result: status,
    durationMs: 5,
    actions: [{ description: "create role rolecall-a", status: "done" }],
    error,
  };
}

function condition(view: ManifestStatusView | undefined, type: ConditionType): Condition | undefined {
  return view?.conditions.find((candidate) => candidate.type === type);
}

function conditionSummary(view: ManifestStatusView | undefined): Record<string, string> {
  return Object.fromEntries(
    (view?.conditions ?? []).map((candidate) => [candidate.type, `${candidate.status}/${candidate.reason}`]),
  );
}

const drift = [
  { resource: "role/rolecall-a", field: "attachedPolicies", desired: "rolecall-a", actual: "(none)" },
];

describe("StatusStore conditions", () => {
  it("a new manifest is Valid, not yet Synced, Ready Unknown; a converged reconcile makes it Ready", () => {
    const clock = manualClock();
    const store = new StatusStore(clock.now);
    store.setManifests([entry("a")], []);
    expect(conditionSummary(store.manifest("a"))).toEqual({
      Valid: "True/ManifestValid",
      Synced: "Unknown/Pending",
      Ready: "Unknown/Pending",
    });

    const at = clock.advance();
    store.recordReconcile(result("a", "converged"), record(at));
    const view = store.manifest("a");
    expect(conditionSummary(view)).toEqual({
      Valid: "True/ManifestValid",
      Synced: "True/Converged",
      Ready: "True/Converged",
    });
    for (const item of view?.conditions ?? []) expect(item.observedGeneration).toBe("gen-1");
  });

  it("every condition has the metav1.Condition shape with a CamelCase reason", () => {
    const clock = manualClock();
    const store = new StatusStore(clock.now);
    const conflict: Issue = { code: "NotOwned", severity: "error", message: "role/x is not rolecall's" };
    store.setManifests(
      [entry("a"), entry("b", "g", { mode: "observe" }), entry("c"), entry("d"), entry("e")],
      [],
    );
    store.setManifests(
      [
        entry("a"),
        entry("b", "g", { mode: "observe" }),
        entry("c"),
        entry("d", "g2", { invalid: { message: "d.yaml:2:1: bad", inForceGeneration: "g" } }),
        entry("e"),
      ],
      [],
    );
    store.recordReconcile(result("a", "converged"), record(clock.iso()));
    store.recordReconcile(result("b", "drifted", { mode: "observe", drift }), record(clock.iso(), "drifted"));
    store.recordReconcile(
      result("c", "failed", { issues: [conflict] }, [conflict.message]),
      record(clock.iso(), "failed", conflict.message),
    );
    store.recordReconcile(result("e", "pending"), record(clock.iso(), "pending"));
    const all = store.document().manifests.flatMap((view) => view.conditions);
    expect(all.length).toBeGreaterThan(10);
    for (const item of all) {
      expect(Object.keys(item).sort()).toEqual(
        ["lastTransitionTime", "message", "observedGeneration", "reason", "status", "type"].sort(),
      );
      expect(["Valid", "Synced", "Ready", "Drifted", "Conflict"]).toContain(item.type);
      expect(["True", "False", "Unknown"]).toContain(item.status);
      expect(item.reason).toMatch(/^[A-Z][A-Za-z0-9]*$/);
      expect(item.message.length).toBeGreaterThan(0);
      expect(new Date(item.lastTransitionTime).toISOString()).toBe(item.lastTransitionTime);
    }
  });

  it("lastTransitionTime changes only when a condition's status flips", () => {
    const clock = manualClock();
    const store = new StatusStore(clock.now);
    const t0 = clock.iso();
    store.setManifests([entry("a")], []);
    const t1 = clock.advance();
    store.recordReconcile(result("a", "converged"), record(t1));
    expect(condition(store.manifest("a"), "Valid")?.lastTransitionTime).toBe(t0);
    expect(condition(store.manifest("a"), "Ready")?.lastTransitionTime).toBe(t1);

    // Same status again, later, with another reason-free refresh: times stay.
    clock.advance();
    store.recordReconcile(result("a", "converged"), record(clock.iso()));
    store.setManifests([entry("a")], []);
    expect(condition(store.manifest("a"), "Valid")?.lastTransitionTime).toBe(t0);
    expect(condition(store.manifest("a"), "Synced")?.lastTransitionTime).toBe(t1);
    expect(condition(store.manifest("a"), "Ready")?.lastTransitionTime).toBe(t1);

    // A failure flips Synced and Ready, not Valid.
    const t3 = clock.advance();
    store.recordReconcile(result("a", "failed", {}, ["AccessDenied"]), record(t3, "failed", "AccessDenied"));
    expect(condition(store.manifest("a"), "Valid")?.lastTransitionTime).toBe(t0);
    expect(condition(store.manifest("a"), "Synced")).toMatchObject({
      status: "False",
      reason: "ReconcileFailed",
      message: "AccessDenied",
      lastTransitionTime: t3,
    });
    expect(condition(store.manifest("a"), "Ready")?.lastTransitionTime).toBe(t3);

    // A different failure reason with the same status keeps the time but updates the reason and message.
    clock.advance();
    const conflict: Issue = { code: "OwnedByOtherManifest", severity: "error", message: "role owned by b" };
    store.recordReconcile(result("a", "failed", { issues: [conflict] }), record(clock.iso(), "failed"));
    expect(condition(store.manifest("a"), "Synced")).toMatchObject({
      status: "False",
      reason: "OwnedByOtherManifest",
      message: "role owned by b",
      lastTransitionTime: t3,
    });
  });

  it("setConditions keeps the time of an unchanged status and stamps new or flipped ones", () => {
    const before = setConditions(
      [],
      [
        { type: "Valid", status: "True", reason: "ManifestValid", message: "ok", observedGeneration: "1" },
        { type: "Ready", status: "False", reason: "Pending", message: "wait", observedGeneration: "1" },
      ],
      "T1",
    );
    const after = setConditions(
      before,
      [
        { type: "Valid", status: "True", reason: "ManifestValid", message: "ok", observedGeneration: "2" },
        { type: "Ready", status: "True", reason: "Converged", message: "ok", observedGeneration: "2" },
        { type: "Drifted", status: "False", reason: "NoDrift", message: "ok", observedGeneration: "2" },
      ],
      "T2",
    );
    expect(after.map((item) => [item.type, item.lastTransitionTime, item.observedGeneration])).toEqual([
      ["Valid", "T1", "2"],
      ["Ready", "T2", "2"],
      ["Drifted", "T2", "2"],
    ]);
  });

  it("observe mode: Drifted is True with the drifted fields while AWS differs, False when it matches", () => {
    const clock = manualClock();
    const store = new StatusStore(clock.now);
    store.setManifests([entry("o", "g", { mode: "observe" })], []);
    store.recordReconcile(result("o", "drifted", { mode: "observe", drift }), record(clock.iso(), "drifted"));
    const view = store.manifest("o");
    expect(conditionSummary(view)).toEqual({
      Valid: "True/ManifestValid",
      Synced: "False/ObserveOnly",
      Drifted: "True/DriftDetected",
      Ready: "False/ObserveOnly",
    });
    expect(condition(view, "Drifted")?.message).toContain("role/rolecall-a attachedPolicies");
    expect(view?.drift).toEqual(drift);
    expect(store.document().summary).toMatchObject({ manifests: 1, ready: 0, drifted: 1 });

    clock.advance();
    store.recordReconcile(result("o", "converged", { mode: "observe" }), record(clock.iso()));
    expect(conditionSummary(store.manifest("o"))).toMatchObject({
      Drifted: "False/NoDrift",
      Ready: "True/Converged",
    });
    expect(store.document().summary).toMatchObject({ ready: 1, drifted: 0 });
  });

  it("enforce mode: drift repaired by the reconcile is history, not outstanding drift", () => {
    const store = new StatusStore(manualClock().now);
    store.setManifests([entry("a")], []);
    store.recordReconcile(result("a", "converged", { drift }), record("2030-01-01T00:00:01.000Z"));
    const view = store.manifest("a");
    expect(view?.drift).toEqual([]);
    expect(condition(view, "Drifted")).toBeUndefined();
    expect(condition(view, "Ready")?.status).toBe("True");
  });

  it("a conflict gives a Conflict condition with the issue's code, and counts in the summary", () => {
    const store = new StatusStore(manualClock().now);
    store.setManifests([entry("a"), entry("b")], []);
    const issue: Issue = {
      code: "ForeignInstanceProfile",
      severity: "error",
      message: "i-0123 holds instance profile other, which rolecall does not own",
      resource: "instance/i-0123",
    };
    store.recordReconcile(
      result(
        "a",
        "failed",
        { issues: [issue], instances: [{ id: "i-0123", state: "running", association: "conflict" }] },
        [issue.message],
      ),
      record("2030-01-01T00:00:01.000Z", "failed", issue.message),
    );
    store.recordReconcile(result("b", "converged"), record("2030-01-01T00:00:01.000Z"));
    const view = store.manifest("a");
    expect(condition(view, "Conflict")).toMatchObject({
      status: "True",
      reason: "ForeignInstanceProfile",
      message: issue.message,
    });
    expect(condition(view, "Ready")).toMatchObject({ status: "False", reason: "ForeignInstanceProfile" });
    expect(view?.instances).toEqual([{ id: "i-0123", state: "running", association: "conflict" }]);
    expect(store.document().summary).toMatchObject({ manifests: 2, ready: 1, conflicts: 1 });
    expect(store.counts()).toEqual({ valid: 2, invalid: 0, ready: 1, drifted: 0, conflict: 1 });
  });

  it("a warning alone does not keep a manifest from Ready", () => {
    const store = new StatusStore(manualClock().now);
    store.setManifests([entry("a")], []);
    const warning: Issue = {
      code: "InstanceNotFound",
      severity: "warning",
      message: "i-0abc does not exist",
    };
    const converged = { ...result("a", "converged", { issues: [warning] }), warnings: [warning.message] };
    store.recordReconcile(converged, record("2030-01-01T00:00:01.000Z"));
    expect(condition(store.manifest("a"), "Ready")?.status).toBe("True");
    expect(store.manifest("a")?.warnings).toEqual([warning.message]);
  });
});

describe("StatusStore generations", () => {
  it("observedGeneration follows the manifest's generation once it is reconciled", () => {
    const clock = manualClock();
    const store = new StatusStore(clock.now);
    store.setManifests([entry("a", "gen-1")], []);
    store.recordReconcile(result("a", "converged"), record(clock.iso()));
    store.setManifests([entry("a", "gen-2")], []);
    store.recordReconcile(result("a", "converged"), record(clock.advance()));
    const view = store.manifest("a");
    expect(view?.generation).toBe("gen-2");
    expect(view?.conditions.map((item) => item.observedGeneration)).toEqual(["gen-2", "gen-2", "gen-2"]);
  });

  it("an edited manifest is not reported Synced or Ready for its new generation before it is reconciled", () => {
    const clock = manualClock();
    const store = new StatusStore(clock.now);
    store.setManifests([entry("a", "gen-1")], []);
    store.recordReconcile(result("a", "converged"), record(clock.iso()));
    expect(condition(store.manifest("a"), "Ready")?.status).toBe("True");

    store.setManifests([entry("a", "gen-2")], []);
    const view = store.manifest("a");
    expect(condition(view, "Valid")).toMatchObject({ status: "True", observedGeneration: "gen-2" });
    // Either Synced is no longer True, or it says which (older) generation it was computed for.
    const synced = condition(view, "Synced");
    const ready = condition(view, "Ready");
    expect(synced?.status === "True" && synced.observedGeneration === "gen-2").toBe(false);
    expect(ready?.status === "True" && ready.observedGeneration === "gen-2").toBe(false);
    expect(store.document().summary.ready).toBe(0);
  });

  it("a reconcile of an older generation, recorded after an edit, does not make the new one Ready", () => {
    const clock = manualClock();
    const store = new StatusStore(clock.now);
    store.setManifests([entry("a", "gen-1")], []);
    store.setManifests([entry("a", "gen-2")], []);
    store.recordReconcile(result("a", "converged"), record(clock.iso()), "gen-1");
    expect(condition(store.manifest("a"), "Synced")).toMatchObject({ status: "Unknown", reason: "Pending" });
    expect(condition(store.manifest("a"), "Synced")?.message).toContain("gen-1");
    expect(condition(store.manifest("a"), "Ready")?.status).toBe("Unknown");
    store.recordReconcile(result("a", "converged"), record(clock.advance()), "gen-2");
    expect(condition(store.manifest("a"), "Ready")).toMatchObject({
      status: "True",
      observedGeneration: "gen-2",
    });
  });

  it("a reconcile of a removed manifest, recorded after it came back, does not make the new version Ready", () => {
    const clock = manualClock();
    const store = new StatusStore(clock.now);
    store.setManifests([entry("a", "gen-1")], []);
    store.recordReconcile(result("a", "converged"), record(clock.iso()), "gen-1");
    store.setManifests([], []);
    // Its removal's reconcile runs without a generation; a removed manifest is not "stale" for lack of one.
    store.recordReconcile(result("a", "converged"), record(clock.advance()), null);
    expect(store.document().removed.map((view) => view.name)).toEqual(["a"]);
    expect(condition(store.document().removed[0], "Synced")?.reason).toBe("Converged");

    store.setManifests([entry("a", "gen-2")], []);
    store.recordReconcile(result("a", "converged"), record(clock.advance()), null);
    expect(condition(store.manifest("a"), "Ready")?.status).toBe("Unknown");
    store.recordReconcile(result("a", "converged"), record(clock.advance()), "gen-2");
    expect(condition(store.manifest("a"), "Ready")).toMatchObject({
      status: "True",
      observedGeneration: "gen-2",
    });
  });

  it("an invalid edit keeps the last valid generation in force and says so in Valid's message", () => {
    const clock = manualClock();
    const store = new StatusStore(clock.now);
    store.setManifests([entry("a", "gen-1")], []);
    store.recordReconcile(result("a", "converged"), record(clock.iso()));
    const error: ManifestError = {
      file: "manifests/a.yaml",
      line: 12,
      column: 7,
      message: "spec.grants[0].access must be one of read, write, read-write",
      pointer: "/spec/grants/0/access",
      code: "SchemaViolation",
    };
    clock.advance();
    store.setManifests(
      [
        entry("a", "gen-1", {
          invalid: { message: `manifests/a.yaml:12:7: ${error.message}`, inForceGeneration: "gen-1" },
        }),
      ],
      [error],
    );
    const view = store.manifest("a");
    expect(condition(view, "Valid")).toMatchObject({ status: "False", reason: "ManifestInvalid" });
    expect(condition(view, "Valid")?.message).toContain("manifests/a.yaml:12:7");
    expect(condition(view, "Valid")?.message).toContain("gen-1");
    expect(condition(view, "Valid")?.message).toContain("stays in force");
    expect(condition(view, "Ready")).toMatchObject({ status: "False", reason: "ManifestInvalid" });
    // What is in force still converged.
    expect(condition(view, "Synced")?.status).toBe("True");
    const document = store.document();
    expect(document.errors).toEqual([
      {
        file: "manifests/a.yaml",
        line: 12,
        column: 7,
        message: error.message,
        pointer: "/spec/grants/0/access",
      },
    ]);
    expect(document.summary).toMatchObject({ manifests: 1, invalid: 1, ready: 0 });
    expect(store.counts()).toMatchObject({ valid: 0, invalid: 1 });
  });

  it("a manifest never valid says nothing of it is changed or removed", () => {
    const store = new StatusStore(manualClock().now);
    store.setManifests(
      [entry("n", "", { invalid: { message: "n.yaml:1:1: bad", inForceGeneration: undefined } })],
      [],
    );
    expect(condition(store.manifest("n"), "Valid")?.message).toContain("no valid version was ever seen");
  });
});

describe("StatusStore history, removal and summary", () => {
  it("history keeps what did or found something: quiet resyncs do not push a repair out of view", () => {
    const clock = manualClock();
    const store = new StatusStore(clock.now);
    store.setManifests([entry("a")], []);
    const repair = record(clock.advance());
    store.recordReconcile(result("a", "converged"), repair);
    let quiet: ReconcileRecord | undefined;
    for (let index = 0; index < 12; index += 1) {
      quiet = { ...record(clock.advance()), actions: [] };
      store.recordReconcile(result("a", "converged"), quiet);
    }
    const view = store.manifest("a");
    expect(view?.history.map((item) => item.reconcileId)).toEqual([repair.reconcileId]);
    expect(view?.lastReconcile).toEqual(quiet);
    // A change of result is history even without actions.
    const failed = { ...record(clock.advance(), "failed", "AccessDenied"), actions: [] };
    store.recordReconcile(result("a", "failed", {}, ["AccessDenied"]), failed);
    expect(store.manifest("a")?.history.map((item) => item.reconcileId)).toEqual([
      failed.reconcileId,
      repair.reconcileId,
    ]);
  });

  it("keeps the last 10 reconciles, newest first; lastReconcile is the newest", () => {
    const clock = manualClock();
    const store = new StatusStore(clock.now);
    store.setManifests([entry("a")], []);
    const times: string[] = [];
    for (let index = 0; index < 13; index += 1) {
      const at = clock.advance();
      times.push(at);
      store.recordReconcile(result("a", "converged"), record(at));
    }
    const view = store.manifest("a");
    expect(view?.history.map((item) => item.at)).toEqual(times.slice(-10).reverse());
    expect(view?.lastReconcile).toEqual(view?.history[0]);
    expect(view?.lastReconcile).toMatchObject({
      at: times[12],
      result: "converged",
      actions: [{ description: "create role rolecall-a", status: "done" }],
      error: null,
    });
  });

  it("a removed manifest moves to removed[] until forgotten; summary counts present manifests only", () => {
    const clock = manualClock();
    const store = new StatusStore(clock.now);
    store.setManifests([entry("a"), entry("b")], []);
    store.recordReconcile(result("a", "converged"), record(clock.iso()));
    store.recordReconcile(result("b", "converged"), record(clock.iso()));
    store.setManifests([entry("a")], []);
    const document = store.document();
    expect(document.manifests.map((view) => view.name)).toEqual(["a"]);
    expect(document.removed.map((view) => view.name)).toEqual(["b"]);
    expect(document.removed[0]?.file).toBeNull();
    expect(condition(document.removed[0], "Valid")?.reason).toBe("ManifestRemoved");
    expect(document.summary).toMatchObject({ manifests: 1, ready: 1 });

    // A present manifest is never forgotten; a removed one is.
    store.forget("a");
    store.forget("b");
    expect(store.names()).toEqual(["a"]);
  });

  it("trackRemoved shows a manifest known only from AWS tags, once", () => {
    const store = new StatusStore(manualClock().now);
    store.trackRemoved("ghost", "enforce");
    store.trackRemoved("ghost", "observe");
    const document = store.document();
    expect(document.manifests).toEqual([]);
    expect(document.removed.map((view) => [view.name, view.mode])).toEqual([["ghost", "enforce"]]);
  });

  it("summary: counts, invalid files, last resync; notices set and cleared; sorted by name", () => {
    const store = new StatusStore(manualClock().now);
    const errors: ManifestError[] = [
      { file: "x.yaml", line: 1, column: 1, message: "a", pointer: "", code: "YamlSyntax" },
      { file: "x.yaml", line: 4, column: 2, message: "b", pointer: "/spec", code: "SchemaViolation" },
      { file: "y.yaml", line: 2, column: 3, message: "c", pointer: "", code: "YamlSyntax" },
    ];
    store.setManifests([entry("zeta"), entry("alpha"), entry("mid")], errors);
    expect(store.document().summary).toEqual({
      manifests: 3,
      ready: 0,
      drifted: 0,
      invalid: 2,
      conflicts: 0,
      lastResyncAt: null,
    });
    expect(store.document().manifests.map((view) => view.name)).toEqual(["alpha", "mid", "zeta"]);
    store.markResync(new Date("2030-02-03T04:05:06.000Z"));
    expect(store.document().summary.lastResyncAt).toBe("2030-02-03T04:05:06.000Z");

    store.setNotice("ManifestsUnreadable", "cannot read manifests directory /m: ENOENT");
    store.setNotice("PruneSuspended", "held back");
    store.setNotice("PruneSuspended", undefined);
    expect(store.document().notices).toEqual([
      { reason: "ManifestsUnreadable", message: "cannot read manifests directory /m: ENOENT" },
    ]);
  });

  it("ignores a reconcile of a manifest it does not know", () => {
    const store = new StatusStore(manualClock().now);
    store.recordReconcile(result("unknown", "converged"), record("2030-01-01T00:00:00.000Z"));
    expect(store.names()).toEqual([]);
    expect(store.manifest("unknown")).toBeUndefined();
  });
});
