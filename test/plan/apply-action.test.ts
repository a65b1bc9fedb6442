import { describe, expect, it } from "vitest";
import type { Action } from "../../src/plan/action.js";
import { applyAction, withEdits } from "../../src/plan/apply-action.js";
import { desiredFor, policyArn, profileArn } from "../support/desired-fixtures.js";
import { associationOf, chainOf, snapshotOf } from "../support/snapshot-fixtures.js";

const dev = desiredFor("dev");
const reason = { resource: "x", field: "y", desired: "", actual: "" };
const chain = chainOf(dev);
const converged = snapshotOf({ policies: [chain.policy], roles: [chain.role], profiles: [chain.profile] });
const after = (action: Action, response: Parameters<typeof applyAction>[2], base = converged) =>
  withEdits(base, applyAction(base, action, response));

describe("applyAction: what an action that succeeded did to live state", () => {
  it("a created policy carries what the action wrote and the ARN and version AWS answered", () => {
    const state = after(
      {
        kind: "createPolicy",
        manifest: "dev",
        reason,
        policyName: "p",
        path: "/rolecall/",
        description: "d",
        document: dev.policy.document,
        tags: dev.tags,
      },
      { kind: "created", arn: policyArn("p"), versionId: "v1", createdAt: 5 },
      snapshotOf({}),
    );
    expect(state.policies.get("p")).toMatchObject({
      arn: policyArn("p"),
      defaultVersionId: "v1",
      versions: [{ id: "v1", isDefault: true, createdAt: 5 }],
      tags: dev.tags,
    });
  });

  it("a create that found its resource already there takes what was found", () => {
    const found = { ...chain.role, description: "found" };
    const state = after(
      {
        kind: "createRole",
        manifest: "dev",
        reason,
        roleName: chain.role.name,
        path: "/rolecall/",
        description: "wanted",
        trustPolicy: dev.role.trustPolicy,
        tags: dev.tags,
      },
      { kind: "found", resource: found },
      snapshotOf({}),
    );
    expect(state.roles.get(chain.role.name)).toBe(found);
  });

  it("a new default version makes every other version non-default", () => {
    const state = after(
      {
        kind: "createPolicyVersion",
        manifest: "dev",
        reason,
        policyName: chain.policy.name,
        policyArn: chain.policy.arn,
        document: dev.policy.document,
      },
      { kind: "versioned", versionId: "v2", createdAt: 9 },
    );
    expect(state.policies.get(chain.policy.name)?.versions).toEqual([
      { id: "v1", isDefault: false, createdAt: 1000 },
      { id: "v2", isDefault: true, createdAt: 9 },
    ]);
  });

  it("an action on a policy found absent drops it from the state", () => {
    const state = after(
      { kind: "tagPolicy", manifest: "dev", reason, policyArn: chain.policy.arn, tags: { a: "b" } },
      { kind: "absent" },
    );
    expect(state.policies.has(chain.policy.name)).toBe(false);
  });

  it("tags and boundaries, attachments and roles in profiles, associations", () => {
    const boundary = "arn:aws:iam::123456789012:policy/b/boundary";
    let state = after(
      {
        kind: "putRolePermissionsBoundary",
        manifest: "dev",
        reason,
        roleName: chain.role.name,
        boundaryArn: boundary,
      },
      { kind: "done" },
    );
    expect(state.roles.get(chain.role.name)?.permissionsBoundary).toBe(boundary);
    state = after(
      {
        kind: "detachRolePolicy",
        manifest: "dev",
        reason,
        roleName: chain.role.name,
        policyArn: chain.policy.arn,
      },
      { kind: "done" },
      state,
    );
    expect(state.roles.get(chain.role.name)?.attachedPolicyArns).toEqual([]);
    state = after(
      {
        kind: "removeRoleFromInstanceProfile",
        manifest: "dev",
        reason,
        profileName: chain.profile.name,
        roleName: chain.role.name,
      },
      { kind: "done" },
      state,
    );
    expect(state.instanceProfiles.get(chain.profile.name)?.roleNames).toEqual([]);
    const association = { ...associationOf("i-1", chain.profile.name), state: "associating" as const };
    state = after(
      {
        kind: "associateInstanceProfile",
        manifest: "dev",
        reason,
        instanceId: "i-1",
        profileName: chain.profile.name,
      },
      { kind: "associated", association },
      state,
    );
    expect(state.associations.get("i-1")).toEqual(association);
    expect(association.profileArn).toBe(profileArn(chain.profile.name));
    state = after(
      {
        kind: "disassociateInstanceProfile",
        manifest: "dev",
        reason,
        instanceId: "i-1",
        associationId: association.associationId,
      },
      { kind: "done" },
      state,
    );
    expect(state.associations.has("i-1")).toBe(false);
  });

  it("leaves the snapshot it was given unchanged (it returns edits)", () => {
    const edits = applyAction(
      converged,
      { kind: "deleteRole", manifest: "dev", reason, roleName: chain.role.name },
      { kind: "done" },
    );
    expect(edits).toEqual([{ in: "roles", key: chain.role.name, value: undefined }]);
    expect(converged.roles.has(chain.role.name)).toBe(true);
  });
});
