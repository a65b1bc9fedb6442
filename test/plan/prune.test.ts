import { describe, expect, it } from "vitest";
import type { DesiredAccess } from "../../src/desired/desired-access.js";
import { ownershipTagKeys, ownershipTags } from "../../src/desired/ownership.js";
import type { DiffContext } from "../../src/plan/manifest-plan.js";
import { planPrune, type PruneOptions } from "../../src/plan/prune.js";
import type { DeletionPolicy } from "../../src/manifest/instance-access.js";
import type { Snapshot } from "../../src/observed/snapshot.js";
import { isDestructive, type Action } from "../../src/plan/action.js";
import { desiredFor } from "../support/desired-fixtures.js";
import {
  associationOf,
  chainOf,
  instance,
  snapshotOf,
  type SnapshotParts,
} from "../support/snapshot-fixtures.js";

const web = desiredFor("web");
const api = desiredFor("api");

const contextOf = (desired: DesiredAccess[], protectedNames: string[] = []): DiffContext => ({
  desired: new Map(desired.map((item) => [item.manifest, item])),
  protectedNames: new Set(protectedNames),
});
const defaults: PruneOptions = {
  unnamedInvalid: false,
  allowMassPrune: false,
  reassignedInstances: new Set(),
  untouchableInstances: new Set(),
  actingManifests: new Set(["web", "api"]),
};
const kinds = (actions: readonly Action[]) => actions.map((action) => action.kind);

/** A removed manifest's chain as rolecall left it: two policy versions, role in profile, one instance associated. */
function leftBehind(name: string, deletionPolicy: DeletionPolicy, extraTags: Record<string, string> = {}) {
  const gone = desiredFor(name, { deletionPolicy });
  const tags = { ...ownershipTags(name, deletionPolicy), ...extraTags };
  const chain = chainOf(gone, {
    policy: {
      tags,
      defaultVersionId: "v2",
      versions: [
        { id: "v1", isDefault: false, createdAt: 1 },
        { id: "v2", isDefault: true, createdAt: 2 },
      ],
    },
    role: { tags },
    profile: { tags },
  });
  return {
    ...chain,
    instance: instance(`i-${name}`, { app: name }),
    association: associationOf(`i-${name}`, chain.profile.name),
  };
}

function snapshotWith(
  inForce: DesiredAccess[],
  removed: ReturnType<typeof leftBehind>[],
  extra: SnapshotParts = {},
): Snapshot {
  const chains = [...inForce.map((desired) => chainOf(desired)), ...removed];
  return snapshotOf({
    policies: [...chains.map((chain) => chain.policy), ...(extra.policies ?? [])],
    roles: [...chains.map((chain) => chain.role), ...(extra.roles ?? [])],
    profiles: [...chains.map((chain) => chain.profile), ...(extra.profiles ?? [])],
    instances: [...removed.map((chain) => chain.instance), ...(extra.instances ?? [])],
    associations: [...removed.map((chain) => chain.association), ...(extra.associations ?? [])],
  });
}

describe("planPrune: a removed manifest", () => {
  it("with deletion-policy delete: everything removed, in the order IAM allows", () => {
    const old = leftBehind("old", "delete");
    const result = planPrune(snapshotWith([web, api], [old]), contextOf([web, api]), defaults);
    expect(result.suspended).toBeUndefined();
    const group = result.groups.get("old")!;
    expect(group.removed).toBe(true);
    expect(kinds(group.actions)).toEqual([
      "disassociateInstanceProfile",
      "removeRoleFromInstanceProfile",
      "deleteInstanceProfile",
      "detachRolePolicy",
      "deleteRole",
      "deletePolicyVersion",
      "deletePolicy",
    ]);
    expect(group.actions[0]).toMatchObject({ instanceId: "i-old", associationId: "iip-assoc-i-old" });
    expect(group.actions[5]).toMatchObject({ versionId: "v1" });
    expect(group.issues).toEqual([]);
    // Manifests in force keep everything.
    expect(result.groups.has("web")).toBe(false);
    expect(result.groups.has("api")).toBe(false);
  });

  it("with deletion-policy retain: tagged orphaned, nothing destroyed", () => {
    const old = leftBehind("old", "retain");
    const group = planPrune(snapshotWith([web, api], [old]), contextOf([web, api]), defaults).groups.get(
      "old",
    )!;
    expect(kinds(group.actions).sort()).toEqual(["tagInstanceProfile", "tagPolicy", "tagRole"]);
    expect(group.actions.some(isDestructive)).toBe(false);
    for (const action of group.actions)
      expect(action).toMatchObject({ tags: { [ownershipTagKeys.orphaned]: "true" } });
  });

  it("retain tags orphaned once: an already orphaned resource needs nothing", () => {
    const old = leftBehind("old", "retain", { [ownershipTagKeys.orphaned]: "true" });
    const result = planPrune(snapshotWith([web, api], [old]), contextOf([web, api]), defaults);
    expect(result.groups.get("old")?.actions ?? []).toEqual([]);
  });

  it("a tag edited to an unknown deletion policy is treated as retain", () => {
    const old = leftBehind("old", "delete", { [ownershipTagKeys.deletionPolicy]: "Delete!" });
    const group = planPrune(snapshotWith([web, api], [old]), contextOf([web, api]), defaults).groups.get(
      "old",
    )!;
    expect(group.actions.some(isDestructive)).toBe(false);
  });

  it("a protected manifest (invalid file never seen valid) keeps its resources untouched", () => {
    const old = leftBehind("old", "delete");
    const result = planPrune(snapshotWith([web, api], [old]), contextOf([web, api], ["old"]), defaults);
    expect(result.groups.has("old")).toBe(false);
  });

  it("an invalid file that hid its name: no destructive action, PruneSuspended", () => {
    const old = leftBehind("old", "delete");
    const result = planPrune(snapshotWith([web, api], [old]), contextOf([web, api]), {
      ...defaults,
      unnamedInvalid: true,
    });
    expect(result.suspended?.code).toBe("PruneSuspended");
    expect(result.groups.get("old")!.actions.some(isDestructive)).toBe(false);
    expect(result.groups.get("old")!.issues.map((issue) => issue.code)).toContain("PruneSuspended");
  });

  it("an instance another manifest is taking over is not disassociated by the prune (it is replaced)", () => {
    const old = leftBehind("old", "delete");
    const result = planPrune(snapshotWith([web, api], [old]), contextOf([web, api]), {
      ...defaults,
      reassignedInstances: new Set(["i-old"]),
    });
    expect(kinds(result.groups.get("old")!.actions)).not.toContain("disassociateInstanceProfile");
  });

  it("a policy still attached to a role rolecall does not own is left in place, with NotOwned", () => {
    const old = leftBehind("old", "delete");
    const stranger = {
      ...chainOf(desiredFor("stranger")).role,
      name: "StrangerRole",
      tags: {},
      attachedPolicyArns: [old.policy.arn],
    };
    const result = planPrune(
      snapshotWith([web, api], [old], { roles: [stranger] }),
      contextOf([web, api]),
      defaults,
    );
    const group = result.groups.get("old")!;
    expect(kinds(group.actions)).not.toContain("deletePolicy");
    expect(group.issues).toEqual([
      expect.objectContaining({ code: "NotOwned", resource: `policy/${old.policy.name}` }),
    ]);
  });

  it("a resource wanted again by a manifest in force is not pruned (it is handed over)", () => {
    const old = leftBehind("old", "delete");
    const taker = desiredFor("taker", { iam: { roleName: old.role.name } });
    const result = planPrune(snapshotWith([web, api], [old]), contextOf([web, api, taker]), defaults);
    const group = result.groups.get("old")!;
    expect(kinds(group.actions)).not.toContain("deleteRole");
    expect(kinds(group.actions)).toContain("deleteInstanceProfile");
  });
});

describe("planPrune: the mass-removal guard", () => {
  it("removing more than half of the managed manifests: no destructive action, PruneGuardTripped", () => {
    const gone = [leftBehind("old-a", "delete"), leftBehind("old-b", "delete")];
    const result = planPrune(snapshotWith([web], gone), contextOf([web]), defaults);
    expect(result.suspended?.code).toBe("PruneGuardTripped");
    for (const group of result.groups.values()) {
      expect(group.actions.some(isDestructive)).toBe(false);
      expect(group.issues.map((issue) => issue.code)).toContain("PruneGuardTripped");
    }
  });

  it("allowMassPrune lets it through", () => {
    const gone = [leftBehind("old-a", "delete"), leftBehind("old-b", "delete")];
    const result = planPrune(snapshotWith([web], gone), contextOf([web]), {
      ...defaults,
      allowMassPrune: true,
    });
    expect(result.suspended).toBeUndefined();
    expect(kinds(result.groups.get("old-a")!.actions)).toContain("deleteRole");
    expect(kinds(result.groups.get("old-b")!.actions)).toContain("deleteRole");
  });

  it("exactly half is not more than half", () => {
    const gone = [leftBehind("old-a", "delete")];
    const result = planPrune(snapshotWith([web], gone), contextOf([web]), defaults);
    expect(result.suspended).toBeUndefined();
    expect(kinds(result.groups.get("old-a")!.actions)).toContain("deleteRole");
  });

  it("a retained manifest being orphaned counts as removed, but one of three does not trip the guard", () => {
    const gone = [leftBehind("old-a", "retain")];
    const result = planPrune(snapshotWith([web, api], gone), contextOf([web, api]), defaults);
    expect(result.suspended).toBeUndefined();
    expect(kinds(result.groups.get("old-a")!.actions)).toContain("tagRole");
  });

  it("retained removals count toward the guard: most manifests removed holds back the deletable ones too", () => {
    // Three retained and two deletable manifests all removed at once: nothing may be deleted, nothing retagged.
    const gone = [
      leftBehind("keep-1", "retain"),
      leftBehind("keep-2", "retain"),
      leftBehind("keep-3", "retain"),
      leftBehind("drop-1", "delete"),
      leftBehind("drop-2", "delete"),
    ];
    const result = planPrune(snapshotWith([], gone), contextOf([]), defaults);
    expect(result.suspended?.code).toBe("PruneGuardTripped");
    for (const group of result.groups.values()) expect(group.actions).toEqual([]);
  });

  it("with every manifest removed, nothing is destroyed without allowMassPrune", () => {
    const result = planPrune(snapshotWith([], [leftBehind("old", "delete")]), contextOf([]), defaults);
    expect(result.suspended?.code).toBe("PruneGuardTripped");
    expect(result.groups.get("old")!.actions.some(isDestructive)).toBe(false);
  });

  it("stays inside its IAM path: another rolecall's resources (another path) are never removed", () => {
    const snapshot = snapshotWith([web, api], [leftBehind("theirs", "delete")]);
    const result = planPrune(snapshot, contextOf([web, api]), { ...defaults, iamPath: "/watcher/" });
    expect(result.groups.get("theirs")).toBeUndefined();
    // Under its own path the same resources are removable.
    const own = planPrune(snapshot, contextOf([web, api]), { ...defaults, iamPath: "/rolecall/" });
    expect(own.groups.get("theirs")!.actions.some(isDestructive)).toBe(true);
  });

  it("removes what it took over outside its path, as the rolecall.dev/iam-path tag records", () => {
    const adopted = leftBehind("adopted", "delete", { "rolecall.dev/iam-path": "/watcher/" });
    const result = planPrune(snapshotWith([web, api], [adopted]), contextOf([web, api]), {
      ...defaults,
      iamPath: "/watcher/",
    });
    expect(kinds(result.groups.get("adopted")!.actions)).toContain("deleteRole");
  });
});
