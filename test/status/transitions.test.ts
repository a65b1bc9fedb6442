import { describe, expect, it } from "vitest";
import type { Condition } from "../../src/status/conditions.js";
import { eventText, stampEvent } from "../../src/status/status-event.js";
import {
  conditionTransitions,
  reconcileTransitions,
  unwatched,
  type ReconcileFacts,
  type Watch,
} from "../../src/status/transitions.js";

const item = { resource: "role/r", field: "attachedPolicies", desired: "[p]", actual: "[]" };
const facts = (overrides: Partial<ReconcileFacts>): ReconcileFacts => ({
  mode: "enforce",
  status: "converged",
  generation: "g1",
  removed: false,
  drift: [],
  errors: [],
  done: [],
  associated: [],
  ...overrides,
});

/** Runs reconciles in order from nothing known; returns the event types each produced. */
function run(sequence: readonly Partial<ReconcileFacts>[]): string[][] {
  let watch: Watch = unwatched;
  return sequence.map((overrides) => {
    const next = reconcileTransitions(watch, facts(overrides));
    watch = next.watch;
    return next.events.map((event) => event.type);
  });
}

describe("reconcileTransitions", () => {
  it("creating or editing a manifest is not drift; a difference from a converged generation is", () => {
    expect(
      run([
        { status: "pending", drift: [item] }, // cold create, waiting for propagation
        { status: "converged" },
        { status: "converged", generation: "g2", drift: [item] }, // an edit applied
        { status: "converged", generation: "g2", drift: [item], done: ["attach"] }, // by hand since
        { status: "converged", generation: "g2" },
      ]),
    ).toEqual([[], [], [], ["DriftDetected", "DriftRepaired"], []]);
  });

  it("drift a failed repair leaves stays one event until repaired", () => {
    expect(
      run([
        { status: "converged" },
        { status: "failed", drift: [item], errors: ["AccessDenied: no"] },
        { status: "failed", drift: [item], errors: ["AccessDenied: no"] },
        { status: "converged", drift: [item], done: ["attach"] },
      ]),
    ).toEqual([[], ["DriftDetected", "ReconcileFailed"], [], ["DriftRepaired", "ReconcileRecovered"]]);
  });

  it("observe mode: drift once, repaired when AWS matches again (by hand)", () => {
    expect(
      run([
        { mode: "observe", status: "drifted", drift: [item] },
        { mode: "observe", status: "drifted", drift: [item] },
        { mode: "observe", status: "converged" },
      ]),
    ).toEqual([["DriftDetected"], [], ["DriftRepaired"]]);
  });

  it("a removed manifest's clean-up is not drift", () => {
    expect(
      run([{ status: "converged" }, { removed: true, generation: null, status: "converged", drift: [item] }]),
    ).toEqual([[], []]);
  });

  it("an instance arriving is given access without a drift event; one that held it and lost it has drifted", () => {
    const lost = { resource: "instance/i-1", field: "association", desired: "p", actual: "(none)" };
    const arrived = { ...lost, resource: "instance/i-2" };
    expect(
      run([
        { status: "converged", associated: ["i-1"] },
        { status: "converged", drift: [arrived], done: ["associate i-2"], associated: ["i-1", "i-2"] },
        { status: "converged", drift: [lost], done: ["associate i-1"], associated: ["i-1", "i-2"] },
        // an instance that left (terminated, untagged) and comes back is arriving again
        { status: "converged", associated: ["i-2"] },
        { status: "converged", drift: [lost], done: ["associate i-1"], associated: ["i-1", "i-2"] },
      ]),
    ).toEqual([[], [], ["DriftDetected", "DriftRepaired"], [], []]);
  });

  it("a drift event names only the instances that drifted, not those arriving with them", () => {
    const lost = { resource: "instance/i-1", field: "association", desired: "p", actual: "(none)" };
    const arrived = { ...lost, resource: "instance/i-2" };
    const found = reconcileTransitions(
      { ...unwatched, convergedGeneration: "g1", associated: new Set(["i-1"]) },
      facts({ status: "pending", drift: [lost, arrived, item] }),
    ).events;
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ message: "instance/i-1 association; role/r attachedPolicies" });
  });

  it("observe mode reports an unassociated instance as drift even the first time it is seen", () => {
    const missing = { resource: "instance/i-3", field: "association", desired: "p", actual: "(none)" };
    expect(run([{ mode: "observe", status: "drifted", drift: [missing] }])).toEqual([["DriftDetected"]]);
  });

  it("says what drifted and what was done", () => {
    const found = reconcileTransitions(
      { ...unwatched, convergedGeneration: "g1" },
      facts({ drift: [item], done: ["attach policy p to role r"] }),
    ).events;
    expect(found[0]).toMatchObject({
      type: "DriftDetected",
      message: "role/r attachedPolicies",
      details: { mode: "enforce", count: 1, drift: [item] },
    });
    expect(found[1]).toMatchObject({
      type: "DriftRepaired",
      message: "1 change(s) made",
      details: { actions: ["attach policy p to role r"] },
    });
  });
});

const condition = (type: Condition["type"], status: Condition["status"], reason: string): Condition => ({
  type,
  status,
  reason,
  message: `${type} ${reason}`,
  lastTransitionTime: "2026-01-01T00:00:00.000Z",
  observedGeneration: "g1",
});

describe("conditionTransitions", () => {
  it("ManifestInvalid when Valid turns False for that reason (not for a removal), once", () => {
    const valid = [condition("Valid", "True", "ManifestValid")];
    const invalid = [condition("Valid", "False", "ManifestInvalid")];
    expect(conditionTransitions(valid, invalid).map((event) => event.type)).toEqual(["ManifestInvalid"]);
    expect(conditionTransitions([], invalid).map((event) => event.type)).toEqual(["ManifestInvalid"]);
    expect(conditionTransitions(invalid, invalid)).toEqual([]);
    expect(conditionTransitions(valid, [condition("Valid", "False", "ManifestRemoved")])).toEqual([]);
  });

  it("ConflictDetected when a Conflict condition appears, with its reason", () => {
    const conflict = [condition("Conflict", "True", "NotOwned")];
    expect(conditionTransitions([], conflict)).toEqual([
      { type: "ConflictDetected", message: "Conflict NotOwned", details: { reason: "NotOwned" } },
    ]);
    expect(conditionTransitions(conflict, conflict)).toEqual([]);
  });
});

describe("the event body", () => {
  it("has exactly the contract's fields, and one line of text", () => {
    const event = stampEvent(
      { type: "DriftDetected", message: "role/r\nattachedPolicies", details: { count: 1 } },
      "alpha",
      "0123456789abcdef0123456789abcdef01234567",
      new Date("2026-03-01T10:00:00Z"),
    );
    expect(Object.keys(event)).toEqual([
      "type",
      "manifest",
      "target",
      "message",
      "revision",
      "time",
      "details",
      "text",
    ]);
    expect(event).toMatchObject({ target: null, time: "2026-03-01T10:00:00.000Z" });
    expect(event.text).toBe("rolecall: drift detected on alpha (at 0123456): role/r attachedPolicies");
  });

  it("cuts long text to 300 characters", () => {
    const text = eventText("ReconcileFailed", "alpha", "x".repeat(1000), null);
    expect(text).toHaveLength(300);
    expect(text.endsWith("…")).toBe(true);
  });
});
