import { describe, expect, it } from "vitest";
import type { DesiredAccess } from "../../src/desired/desired-access.js";
import { ownershipTagKeys, ownershipTags, policyDescription } from "../../src/desired/ownership.js";
import type { DiffContext } from "../../src/plan/manifest-plan.js";
import { diffIamChain, maxPolicyVersions } from "../../src/plan/iam-chain-diff.js";
import type { Snapshot } from "../../src/observed/snapshot.js";
import type { Action } from "../../src/plan/action.js";
import { desiredFor, iamPath, policyArn } from "../support/desired-fixtures.js";
import { chainOf, snapshotOf } from "../support/snapshot-fixtures.js";

const dev = desiredFor("dev");

const contextOf = (desired: DesiredAccess[], protectedNames: string[] = []): DiffContext => ({
  desired: new Map(desired.map((item) => [item.manifest, item])),
  protectedNames: new Set(protectedNames),
});
const diff = (snapshot: Snapshot, desired = dev, context = contextOf([desired])) =>
  diffIamChain(desired, snapshot, context);
const kinds = (actions: readonly Action[]) => actions.map((action) => action.kind);

describe("diffIamChain: creating and converged", () => {
  it("from nothing: the whole chain in dependency order, every create tagged", () => {
    const result = diff(snapshotOf({}));
    expect(kinds(result.actions)).toEqual([
      "createPolicy",
      "createRole",
      "attachRolePolicy",
      "createInstanceProfile",
      "addRoleToInstanceProfile",
    ]);
    for (const action of result.actions) {
      if (
        action.kind === "createPolicy" ||
        action.kind === "createRole" ||
        action.kind === "createInstanceProfile"
      )
        expect(action.tags).toEqual(dev.tags);
    }
    expect(result.issues).toEqual([]);
    expect(result.blocked).toBe(false);
  });

  it("converged: nothing to do, no drift", () => {
    const chain = chainOf(dev);
    const result = diff(
      snapshotOf({ policies: [chain.policy], roles: [chain.role], profiles: [chain.profile] }),
    );
    expect(result.actions).toEqual([]);
    expect(result.drift).toEqual([]);
    expect(result.resources).toEqual({
      policyArn: chain.policy.arn,
      roleArn: chain.role.arn,
      instanceProfileArn: chain.profile.arn,
    });
  });

  it("IAM names match whatever their case", () => {
    const chain = chainOf(dev);
    const upper = {
      policy: { ...chain.policy, name: chain.policy.name.toUpperCase() },
      role: { ...chain.role, name: chain.role.name.toUpperCase() },
      profile: {
        ...chain.profile,
        name: chain.profile.name.toUpperCase(),
        roleNames: [chain.role.name.toUpperCase()],
      },
    };
    const result = diff(
      snapshotOf({ policies: [upper.policy], roles: [upper.role], profiles: [upper.profile] }),
    );
    expect(result.actions).toEqual([]);
  });
});

describe("diffIamChain: the policy document, compared by meaning", () => {
  const stored = (document: unknown) => {
    const chain = chainOf(dev, { policy: { document } });
    return snapshotOf({ policies: [chain.policy], roles: [chain.role], profiles: [chain.profile] });
  };

  it("the same document in another shape (order, string vs list, no Sid, action case) needs no action", () => {
    const statements = dev.policy.document.Statement.map(({ Sid: _sid, ...statement }) => ({
      ...statement,
      Action:
        Array.isArray(statement.Action) && statement.Action.length === 1
          ? String(statement.Action[0]).toUpperCase()
          : statement.Action,
    })).reverse();
    expect(diff(stored({ Version: "2012-10-17", Statement: statements })).actions).toEqual([]);
  });

  it("a changed document under the version limit: one new default version, no deletion", () => {
    const result = diff(stored({ Version: "2012-10-17", Statement: [] }));
    expect(kinds(result.actions)).toEqual(["createPolicyVersion"]);
    expect(result.actions[0]).toMatchObject({
      policyArn: policyArn(dev.policy.name),
      document: dev.policy.document,
    });
    expect(result.drift.map((reason) => reason.field)).toEqual(["document"]);
  });

  it("an unreadable document is replaced", () => {
    expect(kinds(diff(stored(undefined)).actions)).toEqual(["createPolicyVersion"]);
  });

  it(`a changed document at ${maxPolicyVersions} versions: delete the oldest non-default version, then create`, () => {
    const chain = chainOf(dev, {
      policy: {
        document: { Version: "2012-10-17", Statement: [] },
        defaultVersionId: "v1",
        versions: [
          { id: "v1", isDefault: true, createdAt: 100 }, // oldest, but the default
          { id: "v2", isDefault: false, createdAt: 500 },
          { id: "v3", isDefault: false, createdAt: 200 }, // oldest non-default
          { id: "v4", isDefault: false, createdAt: 300 },
          { id: "v5", isDefault: false, createdAt: 400 },
        ],
      },
    });
    const result = diff(
      snapshotOf({ policies: [chain.policy], roles: [chain.role], profiles: [chain.profile] }),
    );
    expect(kinds(result.actions)).toEqual(["deletePolicyVersion", "createPolicyVersion"]);
    expect(result.actions[0]).toMatchObject({ versionId: "v3", policyArn: chain.policy.arn });
  });

  it("a policy known only by its description marker: version changes carry expectOwner (tags read first)", () => {
    const chain = chainOf(dev, {
      policy: {
        tags: undefined,
        description: policyDescription("dev"),
        document: { Version: "2012-10-17", Statement: [] },
      },
    });
    const result = diff(
      snapshotOf({ policies: [chain.policy], roles: [chain.role], profiles: [chain.profile] }),
    );
    expect(kinds(result.actions)).toEqual(["createPolicyVersion"]);
    expect(result.actions[0]).toMatchObject({ expectOwner: { manifest: "dev" } });
  });
});

describe("diffIamChain: role and profile drift", () => {
  it("policy detached, trust policy edited, hand-attached and inline policies: restored", () => {
    const foreign = "arn:aws:iam::123456789012:policy/HandMade";
    const chain = chainOf(dev, {
      role: {
        attachedPolicyArns: [foreign],
        inlinePolicyNames: ["sneaky"],
        trustPolicy: {
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
          ],
        },
      },
    });
    const result = diff(
      snapshotOf({ policies: [chain.policy], roles: [chain.role], profiles: [chain.profile] }),
    );
    expect(kinds(result.actions)).toEqual([
      "updateAssumeRolePolicy",
      "deleteRolePolicy",
      "detachRolePolicy",
      "attachRolePolicy",
    ]);
    expect(result.actions.find((action) => action.kind === "detachRolePolicy")).toMatchObject({
      policyArn: foreign,
    });
    expect(result.actions.find((action) => action.kind === "attachRolePolicy")).toMatchObject({
      policyArn: chain.policy.arn,
    });
  });

  it("role removed from the profile: added back; a stranger role in it: removed first", () => {
    const chain = chainOf(dev, { profile: { roleNames: ["stranger"] } });
    const result = diff(
      snapshotOf({ policies: [chain.policy], roles: [chain.role], profiles: [chain.profile] }),
    );
    expect(kinds(result.actions)).toEqual(["removeRoleFromInstanceProfile", "addRoleToInstanceProfile"]);
    expect(result.actions[0]).toMatchObject({ roleName: "stranger" });
  });

  it("a tag edited on an owned role is rewritten; an orphaned mark is removed", () => {
    const chain = chainOf(dev, {
      role: {
        tags: {
          ...dev.tags,
          [ownershipTagKeys.deletionPolicy]: "retain",
          [ownershipTagKeys.orphaned]: "true",
        },
      },
    });
    const result = diff(
      snapshotOf({ policies: [chain.policy], roles: [chain.role], profiles: [chain.profile] }),
    );
    expect(kinds(result.actions)).toContain("tagRole");
    expect(kinds(result.actions)).toContain("untagRole");
    expect(result.actions.find((action) => action.kind === "untagRole")).toMatchObject({
      keys: [ownershipTagKeys.orphaned],
    });
  });
});

describe("diffIamChain: claims on existing resources", () => {
  const foreignRole = () => chainOf(dev, { role: { tags: { team: "platform" }, path: "/legacy/" } });

  it("a role with the name but without rolecall tags: NotOwned, and nothing at all is done", () => {
    const chain = foreignRole();
    const result = diff(snapshotOf({ roles: [chain.role] }));
    expect(result.blocked).toBe(true);
    expect(result.actions).toEqual([]);
    expect(result.issues).toEqual([
      expect.objectContaining({ code: "NotOwned", severity: "error", resource: `role/${dev.role.name}` }),
    ]);
    expect(result.issues[0]!.message).toContain(`role/${dev.role.name}`);
  });

  it("adopt: true takes it over by tagging it, and keeps its path", () => {
    const adopter = desiredFor("dev", { adopt: true });
    const chain = foreignRole();
    const result = diff(
      snapshotOf({ policies: [chain.policy], roles: [chain.role], profiles: [chain.profile] }),
      adopter,
    );
    expect(result.issues).toEqual([]);
    expect(kinds(result.actions)).toEqual(["tagRole"]);
    expect(result.actions[0]).toMatchObject({ roleName: dev.role.name, tags: adopter.tags });
    expect(result.drift.some((reason) => reason.field === "path")).toBe(false);
  });

  it("owned by a removed manifest: handed over to the one that now wants it (retagged, not blocked)", () => {
    const chain = chainOf(dev, { profile: { tags: ownershipTags("old", "retain") } });
    const result = diff(
      snapshotOf({ policies: [chain.policy], roles: [chain.role], profiles: [chain.profile] }),
    );
    expect(result.issues).toEqual([]);
    expect(kinds(result.actions)).toEqual(["tagInstanceProfile"]);
    expect(result.actions[0]).toMatchObject({ tags: dev.tags });
  });

  it("owned by a manifest whose file is invalid: blocked with OwnedByInvalidManifest", () => {
    const chain = chainOf(dev, { policy: { tags: ownershipTags("broken", "delete") } });
    const result = diff(
      snapshotOf({ policies: [chain.policy], roles: [chain.role], profiles: [chain.profile] }),
      dev,
      contextOf([dev], ["broken"]),
    );
    expect(result.blocked).toBe(true);
    expect(result.actions).toEqual([]);
    expect(result.issues.map((issue) => issue.code)).toEqual(["OwnedByInvalidManifest"]);
  });

  it("a policy with neither tags nor marker: OwnershipUnknown, blocked", () => {
    const chain = chainOf(dev, { policy: { tags: undefined, description: "hand made" } });
    const result = diff(
      snapshotOf({ policies: [chain.policy], roles: [chain.role], profiles: [chain.profile] }),
    );
    expect(result.blocked).toBe(true);
    expect(result.issues.map((issue) => issue.code)).toEqual(["OwnershipUnknown"]);
  });

  it("every blocked resource is reported, not only the first", () => {
    const chain = chainOf(dev, { role: { tags: {} }, profile: { tags: {} } });
    const result = diff(
      snapshotOf({ policies: [chain.policy], roles: [chain.role], profiles: [chain.profile] }),
    );
    expect(result.issues.map((issue) => issue.resource)).toEqual([
      `role/${dev.role.name}`,
      `instance-profile/${dev.instanceProfile.name}`,
    ]);
  });

  it("a resource renamed away from by its own manifest (still in force) is handed over, not blocked", () => {
    const renamed = desiredFor("dev", { iam: { roleName: "dev-role-v2" } });
    const taker = desiredFor("taker", { iam: { roleName: dev.role.name } });
    const chain = chainOf(dev);
    const result = diffIamChain(taker, snapshotOf({ roles: [chain.role] }), contextOf([renamed, taker]));
    expect(result.issues).toEqual([]);
    expect(result.actions.find((action) => action.kind === "tagRole")).toMatchObject({ tags: taker.tags });
  });

  it("path is not drift", () => {
    const chain = chainOf(dev, {
      role: { path: "/elsewhere/" },
      policy: { path: "/" },
      profile: { path: "/" },
    });
    const result = diff(
      snapshotOf({ policies: [chain.policy], roles: [chain.role], profiles: [chain.profile] }),
    );
    expect(result.actions).toEqual([]);
    expect(iamPath).not.toBe("/elsewhere/");
  });
});

describe("diffIamChain: permissions boundary", () => {
  const boundary = "arn:aws:iam::123456789012:policy/boundaries/rolecall-boundary";
  const bounded = desiredFor("dev", {}, { permissionsBoundary: boundary });

  it("creates the role with the boundary", () => {
    const create = diff(snapshotOf({}), bounded).actions.find((action) => action.kind === "createRole");
    expect(create).toMatchObject({ permissionsBoundary: boundary });
  });

  it("a role missing its boundary gets it back first of all, as drift", () => {
    const chain = chainOf(bounded, { policy: { document: { Version: "2012-10-17", Statement: [] } } });
    const result = diff(
      snapshotOf({ policies: [chain.policy], roles: [chain.role], profiles: [chain.profile] }),
      bounded,
    );
    expect(kinds(result.actions)[0]).toBe("putRolePermissionsBoundary");
    expect(result.drift).toContainEqual(
      expect.objectContaining({ field: "permissionsBoundary", desired: boundary, actual: "(none)" }),
    );
  });

  it("without a configured boundary, one set by hand is left alone", () => {
    const chain = chainOf(dev, { role: { permissionsBoundary: boundary } });
    const result = diff(
      snapshotOf({ policies: [chain.policy], roles: [chain.role], profiles: [chain.profile] }),
    );
    expect(result.actions).toEqual([]);
  });
});
