// counts() feeds the rolecall_manifests gauge after every reconcile, so it is kept incrementally; this checks the
// running tally against a recount from scratch after every kind of change, in random orders.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { emptyManifestPlan, type Issue } from "../../src/plan/manifest-plan.js";
import type { ManifestStatus } from "../../src/engine/engine.js";
import { StatusStore } from "../../src/status/status-store.js";

const names = ["a", "b", "c", "d", "e"];

type Operation =
  | { kind: "set"; present: { name: string; invalid: boolean; observe: boolean; generation: string }[] }
  | { kind: "reconcile"; name: string; status: ManifestStatus; drift: boolean; conflict: boolean }
  | { kind: "trackRemoved"; name: string }
  | { kind: "forget"; name: string };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({
    kind: fc.constant("set" as const),
    present: fc.uniqueArray(
      fc.record({
        name: fc.constantFrom(...names),
        invalid: fc.boolean(),
        observe: fc.boolean(),
        generation: fc.constantFrom("g1", "g2"),
      }),
      { selector: (entry) => entry.name, maxLength: names.length },
    ),
  }),
  fc.record({
    kind: fc.constant("reconcile" as const),
    name: fc.constantFrom(...names),
    status: fc.constantFrom<ManifestStatus>("converged", "pending", "drifted", "failed"),
    drift: fc.boolean(),
    conflict: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("trackRemoved" as const), name: fc.constantFrom(...names, "z") }),
  fc.record({ kind: fc.constant("forget" as const), name: fc.constantFrom(...names, "z") }),
);

/** What counts() must say, computed from the views the HTTP API serves. */
function recount(store: StatusStore): ReturnType<StatusStore["counts"]> {
  const present = store.document().manifests;
  const has = (type: string, status = "True") =>
    present.filter((view) =>
      view.conditions.some((condition) => condition.type === type && condition.status === status),
    ).length;
  return {
    valid: has("Valid"),
    invalid: has("Valid", "False"),
    ready: has("Ready"),
    drifted: has("Drifted"),
    conflict: has("Conflict"),
  };
}

function apply(store: StatusStore, op: Operation): void {
  switch (op.kind) {
    case "set":
      store.setManifests(
        op.present.map((entry) => ({
          name: entry.name,
          file: `m/${entry.name}.yaml`,
          generation: entry.generation,
          mode: entry.observe ? "observe" : "enforce",
          ...(entry.invalid ? { invalid: { message: "bad", inForceGeneration: "g1" } } : {}),
        })),
        [],
      );
      return;
    case "reconcile": {
      const issues: Issue[] = op.conflict
        ? [{ code: "OwnedByOtherManifest", severity: "error", message: "owned by someone else" }]
        : [];
      const drift = op.drift ? [{ resource: "role/x", field: "tags", desired: "a", actual: "b" }] : [];
      store.recordReconcile(
        {
          manifest: op.name,
          mode: "enforce",
          status: op.status,
          retryable: false,
          errors: op.status === "failed" ? ["it failed"] : [],
          warnings: [],
          plan: { ...emptyManifestPlan(op.name, "enforce"), issues, drift },
          outcomes: [],
        },
        {
          at: "2030-01-01T00:00:00.000Z",
          reconcileId: "r",
          result: op.status,
          durationMs: 1,
          actions: [],
          error: null,
        },
      );
      return;
    }
    case "trackRemoved":
      store.trackRemoved(op.name, "enforce");
      return;
    case "forget":
      store.forget(op.name);
  }
}

describe("StatusStore.counts", () => {
  it("always equals a recount of the manifests present, whatever happened before", () => {
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 40 }), (operations) => {
        const store = new StatusStore(() => new Date("2030-01-01T00:00:00Z"));
        for (const op of operations) {
          apply(store, op);
          expect(store.counts(), JSON.stringify(op)).toEqual(recount(store));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("is not a live view: a caller cannot change the tally", () => {
    const store = new StatusStore();
    store.setManifests([{ name: "a", file: "a.yaml", generation: "g", mode: "enforce" }], []);
    const counts = store.counts();
    counts.valid = 99;
    expect(store.counts().valid).toBe(1);
  });
});
