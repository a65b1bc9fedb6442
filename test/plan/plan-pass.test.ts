import { describe, expect, it } from "vitest";
import type { DesiredAccess } from "../../src/desired/desired-access.js";
import { ownershipTags } from "../../src/desired/ownership.js";
import type { Snapshot } from "../../src/observed/snapshot.js";
import type { Action } from "../../src/plan/action.js";
import { planPass, type PassInput } from "../../src/plan/plan-pass.js";
import { desiredFor } from "../support/desired-fixtures.js";
import { associationOf, chainOf, instance, snapshotOf } from "../support/snapshot-fixtures.js";

const web = desiredFor("web");
const api = desiredFor("api");
const kinds = (actions: readonly Action[]) => actions.map((action) => action.kind);

const inputOf = (inForce: DesiredAccess[], extra: Partial<PassInput> = {}): PassInput => ({
  inForce,
  protectedNames: new Set(),
  unnamedInvalid: false,
  allowMassPrune: false,
  defaultMode: "enforce",
  ...extra,
});

function converged(desired: DesiredAccess[], instanceIds: Record<string, string> = {}): Snapshot {
  const chains = desired.map((item) => chainOf(item));
  return snapshotOf({
    policies: chains.map((chain) => chain.policy),
    roles: chains.map((chain) => chain.role),
    profiles: chains.map((chain) => chain.profile),
    instances: Object.entries(instanceIds).map(([id, app]) => instance(id, { app })),
    associations: Object.entries(instanceIds).map(([id, app]) => associationOf(id, `rolecall-${app}`)),
  });
}

describe("planPass", () => {
  it("from an empty account: the whole chain, then the instance", () => {
    const snapshot = snapshotOf({
      instances: [instance("i-1", { app: "web" }), instance("i-2", { app: "nobody" })],
    });
    const plan = planPass(snapshot, inputOf([web])).manifests.get("web")!;
    expect(kinds(plan.actions)).toEqual([
      "createPolicy",
      "createRole",
      "attachRolePolicy",
      "createInstanceProfile",
      "addRoleToInstanceProfile",
      "associateInstanceProfile",
    ]);
    expect(plan.pruneActions).toEqual([]);
    expect(plan.issues).toEqual([]);
    expect(plan.instances).toEqual([
      { id: "i-1", state: "running", association: "pending", profile: web.instanceProfile.name },
    ]);
    for (const action of plan.actions) expect(action.reason.resource).not.toBe("");
  });

  it("converged: no action, no drift, for every manifest", () => {
    const result = planPass(converged([web, api], { "i-1": "web", "i-2": "api" }), inputOf([web, api]));
    expect(result.pruneSuspended).toBeUndefined();
    expect([...result.manifests.keys()].sort()).toEqual(["api", "web"]);
    for (const plan of result.manifests.values()) {
      expect(plan.actions).toEqual([]);
      expect(plan.pruneActions).toEqual([]);
      expect(plan.drift).toEqual([]);
      expect(plan.issues).toEqual([]);
      expect(plan.instances.map((status) => status.association)).toEqual(["associated"]);
    }
  });

  it("a removed manifest gets its own plan, in the default mode, with prune actions only", () => {
    const old = desiredFor("old");
    const snapshot = converged([web, api, old], { "i-3": "old" });
    const result = planPass(snapshot, inputOf([web, api], { defaultMode: "observe" }));
    const plan = result.manifests.get("old")!;
    expect(plan.mode).toBe("observe");
    expect(plan.actions).toEqual([]);
    expect(kinds(plan.pruneActions)).toEqual([
      "disassociateInstanceProfile",
      "removeRoleFromInstanceProfile",
      "deleteInstanceProfile",
      "detachRolePolicy",
      "deleteRole",
      "deletePolicy",
    ]);
  });

  it("an instance moving from a removed manifest to one in force is replaced, not disassociated by the prune", () => {
    const old = desiredFor("old");
    const chains = [web, api, old].map((item) => chainOf(item));
    const snapshot = snapshotOf({
      policies: chains.map((chain) => chain.policy),
      roles: chains.map((chain) => chain.role),
      profiles: chains.map((chain) => chain.profile),
      instances: [instance("i-1", { app: "web" })],
      associations: [associationOf("i-1", old.instanceProfile.name)],
    });
    const result = planPass(snapshot, inputOf([web, api]));
    expect(kinds(result.manifests.get("web")!.actions)).toEqual(["replaceInstanceProfileAssociation"]);
    expect(kinds(result.manifests.get("old")!.pruneActions)).not.toContain("disassociateInstanceProfile");
    expect(kinds(result.manifests.get("old")!.pruneActions)).toContain("deleteInstanceProfile");
  });

  it("a manifest blocked by a resource it does not own touches neither IAM nor its instances", () => {
    const snapshot = snapshotOf({
      roles: [{ ...chainOf(web).role, tags: { team: "platform" } }],
      instances: [instance("i-1", { app: "web" })],
    });
    const plan = planPass(snapshot, inputOf([web])).manifests.get("web")!;
    expect(plan.actions).toEqual([]);
    expect(plan.issues.map((issue) => issue.code)).toEqual(["NotOwned"]);
  });

  it("when the guard trips, the pass says why and the removed manifests' plans carry no destructive action", () => {
    const snapshot = converged([web, desiredFor("old-a"), desiredFor("old-b")]);
    const result = planPass(snapshot, inputOf([web]));
    expect(result.pruneSuspended?.code).toBe("PruneGuardTripped");
    expect(result.manifests.get("old-a")!.pruneActions).toEqual([]);
    expect(result.manifests.get("old-a")!.issues.map((issue) => issue.code)).toEqual(["PruneGuardTripped"]);
  });

  it("prune actions of a manifest in force (a renamed resource) sit apart from its converging actions", () => {
    const renamed = desiredFor("web", { iam: { policyName: "web-policy-v2" } });
    const snapshot = converged([web]);
    const plan = planPass(snapshot, inputOf([renamed])).manifests.get("web")!;
    expect(kinds(plan.actions)).toEqual(["createPolicy", "detachRolePolicy", "attachRolePolicy"]);
    expect(kinds(plan.pruneActions)).toEqual(["deletePolicy"]);
  });

  it("a manifest's mode is carried into its plan", () => {
    const observed = desiredFor("web", { mode: "observe" });
    const plan = planPass(snapshotOf({}), inputOf([observed])).manifests.get("web")!;
    expect(plan.mode).toBe("observe");
    expect(plan.actions.length).toBeGreaterThan(0); // observe still reports what it would do
  });

  it("resources held by an invalid, never-valid manifest are neither pruned nor taken over", () => {
    const broken = desiredFor("broken");
    const snapshot = converged([web, broken]);
    const result = planPass(snapshot, inputOf([web], { protectedNames: new Set(["broken"]) }));
    expect(result.manifests.has("broken")).toBe(false);
    expect(ownershipTags("broken", "delete")).toEqual(broken.tags);
  });
});
