import { describe, expect, it } from "vitest";
import type { DesiredAccess } from "../../src/desired/desired-access.js";
import { compileComposite } from "../../src/desired/composite.js";
import { ownershipTags } from "../../src/desired/ownership.js";
import type { DiffContext } from "../../src/plan/manifest-plan.js";
import { compositeNeeds } from "../../src/plan/composite-planning.js";
import { assignInstances as assignAll } from "../../src/plan/instance-assignment.js";
import { selectInstances } from "../../src/plan/instance-selection.js";
import type { Snapshot } from "../../src/observed/snapshot.js";
import { desiredFor } from "../support/desired-fixtures.js";
import {
  associationOf,
  chainOf,
  instance,
  snapshotOf,
  type SnapshotParts,
} from "../support/snapshot-fixtures.js";

const web = desiredFor("web");
const webReplace = desiredFor("web", { onConflict: "replace" });
const db = desiredFor("db");

/** The assignment as planPass runs it: selections, the composites they need, then every instance decided. */
function assignInstances(
  snapshot: Snapshot,
  context: DiffContext,
  blocked: ReadonlySet<string>,
  maxPoliciesPerRole = 10,
) {
  const selections = selectInstances(snapshot, context);
  const needs = compositeNeeds(selections, snapshot, context, blocked, maxPoliciesPerRole);
  return assignAll({
    selections,
    snapshot,
    context,
    blocked,
    compositeFor: needs.compositeFor,
    blockedComposites: needs.blocked,
    neededComposites: new Set(needs.needed.keys()),
    maxPoliciesPerRole,
  });
}

const contextOf = (desired: DesiredAccess[], protectedNames: string[] = []): DiffContext => ({
  desired: new Map(desired.map((item) => [item.manifest, item])),
  protectedNames: new Set(protectedNames),
});

/** The snapshot with every manifest's chain in place, plus the given instances and associations. */
function withChains(desired: DesiredAccess[], parts: SnapshotParts): Snapshot {
  const chains = desired.map((item) => chainOf(item));
  return snapshotOf({
    policies: chains.map((chain) => chain.policy),
    roles: chains.map((chain) => chain.role),
    ...parts,
    profiles: [...chains.map((chain) => chain.profile), ...(parts.profiles ?? [])],
  });
}

const foreignProfile = {
  name: "HandMadeProfile",
  arn: "arn:aws:iam::123456789012:instance-profile/HandMadeProfile",
  path: "/",
  roleNames: ["x"],
  tags: {},
};

function assign(
  desired: DesiredAccess[],
  parts: SnapshotParts,
  options: { blocked?: string[]; protectedNames?: string[] } = {},
) {
  return assignInstances(
    withChains(desired, parts),
    contextOf(desired, options.protectedNames),
    new Set(options.blocked ?? []),
  );
}

describe("assignInstances", () => {
  it("a selected instance without a profile is associated", () => {
    const result = assign([web], { instances: [instance("i-1", { app: "web" })] });
    const plan = result.get("web")!;
    expect(plan.actions).toEqual([
      expect.objectContaining({
        kind: "associateInstanceProfile",
        instanceId: "i-1",
        profileName: web.instanceProfile.name,
      }),
    ]);
    expect(plan.instances).toEqual([
      { id: "i-1", state: "running", association: "pending", profile: web.instanceProfile.name },
    ]);
  });

  it("an instance already holding the profile needs nothing (associating counts as pending)", () => {
    const result = assign([web], {
      instances: [instance("i-1", { app: "web" }), instance("i-2", { app: "web" })],
      associations: [
        associationOf("i-1", web.instanceProfile.name),
        associationOf("i-2", web.instanceProfile.name, "associating"),
      ],
    });
    const plan = result.get("web")!;
    expect(plan.actions).toEqual([]);
    expect(plan.drift).toEqual([]);
    expect(plan.instances).toEqual([
      { id: "i-1", state: "running", association: "associated", profile: web.instanceProfile.name },
      { id: "i-2", state: "running", association: "pending", profile: web.instanceProfile.name },
    ]);
  });

  it("onConflict skip: a foreign profile is left, with a warning and conflict status", () => {
    const result = assign([web], {
      instances: [instance("i-1", { app: "web" })],
      profiles: [foreignProfile],
      associations: [associationOf("i-1", foreignProfile.name, "associated", "/")],
    });
    const plan = result.get("web")!;
    expect(plan.actions).toEqual([]);
    expect(plan.issues).toEqual([
      expect.objectContaining({
        code: "ForeignInstanceProfile",
        severity: "warning",
        resource: "instance/i-1",
      }),
    ]);
    expect(plan.instances).toEqual([
      { id: "i-1", state: "running", association: "conflict", profile: web.instanceProfile.name },
    ]);
  });

  it("onConflict replace on a running (or pending) instance: one ReplaceIamInstanceProfileAssociation", () => {
    for (const state of ["running", "pending"] as const) {
      const result = assign([webReplace], {
        instances: [instance("i-1", { app: "web" }, state)],
        profiles: [foreignProfile],
        associations: [associationOf("i-1", foreignProfile.name, "associated", "/")],
      });
      expect(result.get("web")!.actions).toEqual([
        expect.objectContaining({
          kind: "replaceInstanceProfileAssociation",
          instanceId: "i-1",
          associationId: "iip-assoc-i-1",
          profileName: web.instanceProfile.name,
        }),
      ]);
    }
  });

  it("onConflict replace on a stopped instance: disassociate, then associate", () => {
    const result = assign([webReplace], {
      instances: [instance("i-1", { app: "web" }, "stopped")],
      profiles: [foreignProfile],
      associations: [associationOf("i-1", foreignProfile.name, "associated", "/")],
    });
    expect(result.get("web")!.actions).toEqual([
      expect.objectContaining({
        kind: "disassociateInstanceProfile",
        instanceId: "i-1",
        associationId: "iip-assoc-i-1",
      }),
      expect.objectContaining({
        kind: "associateInstanceProfile",
        instanceId: "i-1",
        profileName: web.instanceProfile.name,
      }),
    ]);
  });

  it("two manifests selecting one instance: it moves to their composite in one replace, reported on both", () => {
    const both = desiredFor("db", { instanceSelector: { instanceIds: ["i-1"] } });
    const result = assign([web, both], {
      instances: [instance("i-1", { app: "web" })],
      associations: [associationOf("i-1", web.instanceProfile.name)],
    });
    const composite = compileComposite([web, both]);
    expect(result.get(composite.name)!.actions).toEqual([
      expect.objectContaining({
        kind: "replaceInstanceProfileAssociation",
        instanceId: "i-1",
        profileName: composite.name,
      }),
    ]);
    for (const [name, other] of [
      ["web", "db"],
      ["db", "web"],
    ] as const) {
      const plan = result.get(name)!;
      expect(plan.actions).toEqual([]);
      expect(plan.issues).toEqual([]);
      expect(plan.instances).toEqual([
        { id: "i-1", state: "running", association: "pending", profile: composite.name, sharedWith: [other] },
      ]);
    }
  });

  it("above the quota of policies per role, the instance is a conflict on every member and is left as it is", () => {
    const members = ["a", "b", "c"].map((name) =>
      desiredFor(name, { instanceSelector: { instanceIds: ["i-1"] } }),
    );
    const snapshot = withChains(members, { instances: [instance("i-1")] });
    const result = assignInstances(snapshot, contextOf(members), new Set(), 2);
    for (const name of ["a", "b", "c"]) {
      const plan = result.get(name)!;
      expect(plan.actions).toEqual([]);
      expect(plan.issues).toEqual([
        expect.objectContaining({
          code: "InstanceNeedsTooManyPolicies",
          severity: "error",
          resource: "instance/i-1",
        }),
      ]);
      expect(plan.issues[0]?.message).toContain("at most 2 managed policies");
      expect(plan.instances.map((status) => status.association)).toEqual(["conflict"]);
    }
    expect([...result.keys()].some((unit) => unit.startsWith("rolecall+"))).toBe(false);
  });

  it("an instance holding our profile that the manifest no longer selects is disassociated", () => {
    const result = assign([web], {
      instances: [instance("i-1", { app: "other" })],
      associations: [associationOf("i-1", web.instanceProfile.name)],
    });
    const plan = result.get("web")!;
    expect(plan.actions).toEqual([
      expect.objectContaining({
        kind: "disassociateInstanceProfile",
        instanceId: "i-1",
        associationId: "iip-assoc-i-1",
      }),
    ]);
    expect(plan.instances).toEqual([
      { id: "i-1", state: "running", association: "excluded", profile: web.instanceProfile.name },
    ]);
  });

  it("an unselected instance holding a foreign profile is none of our business", () => {
    const result = assign([web], {
      instances: [instance("i-1", { app: "other" })],
      profiles: [foreignProfile],
      associations: [associationOf("i-1", foreignProfile.name, "associated", "/")],
    });
    expect(result.get("web")?.actions ?? []).toEqual([]);
  });

  it("moving an instance between manifests is one replace, even with onConflict skip", () => {
    const result = assign([web, db], {
      instances: [instance("i-1", { app: "db" })],
      associations: [associationOf("i-1", web.instanceProfile.name)],
    });
    expect(result.get("db")!.actions.map((action) => action.kind)).toEqual([
      "replaceInstanceProfileAssociation",
    ]);
    expect(result.get("web")?.actions ?? []).toEqual([]);
  });

  it("terminated and shutting-down instances are ignored; a listed ID that is missing is a warning", () => {
    const listed = desiredFor("web", {
      instanceSelector: { instanceIds: ["i-9", "i-8"], matchTags: { app: "web" } },
    });
    const result = assign([listed], {
      instances: [
        instance("i-1", { app: "web" }, "terminated"),
        instance("i-2", { app: "web" }, "shutting-down"),
        instance("i-8", {}, "terminated"),
      ],
    });
    const plan = result.get("web")!;
    expect(plan.actions).toEqual([]);
    expect(plan.issues.map((issue) => [issue.code, issue.resource])).toEqual([
      ["InstanceNotFound", "instance/i-8"],
      ["InstanceNotFound", "instance/i-9"],
    ]);
  });

  it("a blocked manifest (its IAM chain is not its own) touches no instance", () => {
    const result = assign([web], { instances: [instance("i-1", { app: "web" })] }, { blocked: ["web"] });
    expect(result.get("web")!.actions).toEqual([]);
    expect(result.get("web")!.instances).toEqual([
      { id: "i-1", state: "running", association: "pending", profile: web.instanceProfile.name },
    ]);
  });

  it("an instance holding the profile of a manifest whose file is invalid is left alone", () => {
    const brokenProfile = {
      ...chainOf(desiredFor("broken")).profile,
      tags: ownershipTags("broken", "delete"),
    };
    const result = assign(
      [webReplace],
      {
        instances: [instance("i-1", { app: "web" })],
        profiles: [brokenProfile],
        associations: [associationOf("i-1", brokenProfile.name)],
      },
      { protectedNames: ["broken"] },
    );
    const plan = result.get("web")!;
    expect(plan.actions).toEqual([]);
    expect(plan.issues.map((issue) => issue.code)).toEqual(["InstanceClaimedByInvalidManifest"]);
  });

  it("an instance still on a deleted profile of the right name is moved to the re-created one", () => {
    // The profile was deleted by hand and re-created (new ID); EC2 keeps the instance on the dead one.
    const chain = chainOf(web);
    const snapshot = snapshotOf({
      policies: [chain.policy],
      roles: [chain.role],
      profiles: [{ ...chain.profile, id: "AIPANEW" }],
      instances: [instance("i-1", { app: "web" }), instance("i-2", { app: "web" }, "stopped")],
      associations: [
        { ...associationOf("i-1", chain.profile.name), profileId: "AIPAOLD" },
        { ...associationOf("i-2", chain.profile.name), profileId: "AIPAOLD" },
      ],
    });
    const plan = assignInstances(snapshot, contextOf([web]), new Set()).get("web")!;
    expect(
      plan.actions.map((action) => `${action.kind} ${"instanceId" in action ? action.instanceId : ""}`),
    ).toEqual([
      "replaceInstanceProfileAssociation i-1",
      "disassociateInstanceProfile i-2",
      "associateInstanceProfile i-2",
    ]);
    expect(plan.drift[0]?.actual).toContain("AIPAOLD");
  });

  it("an association to the profile's current ID (or without IDs to compare) stays as it is", () => {
    const chain = chainOf(web);
    const snapshot = snapshotOf({
      policies: [chain.policy],
      roles: [chain.role],
      profiles: [{ ...chain.profile, id: "AIPA1" }],
      instances: [instance("i-1", { app: "web" }), instance("i-2", { app: "web" })],
      associations: [
        { ...associationOf("i-1", chain.profile.name), profileId: "AIPA1" },
        associationOf("i-2", chain.profile.name),
      ],
    });
    const plan = assignInstances(snapshot, contextOf([web]), new Set()).get("web")!;
    expect(plan.actions).toEqual([]);
    expect(plan.instances.map((status) => status.association)).toEqual(["associated", "associated"]);
  });

  it("an instance on a profile of the right name that no longer exists at all is moved once it is re-created", () => {
    const chain = chainOf(web);
    const snapshot = snapshotOf({
      policies: [chain.policy],
      roles: [chain.role],
      profiles: [],
      instances: [instance("i-1", { app: "web" })],
      associations: [associationOf("i-1", chain.profile.name)],
    });
    const plan = assignInstances(snapshot, contextOf([web]), new Set()).get("web")!;
    expect(plan.actions.map((action) => action.kind)).toEqual(["replaceInstanceProfileAssociation"]);
  });
});
