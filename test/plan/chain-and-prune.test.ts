import { describe, expect, it } from "vitest";
import { compileDesired, type DesiredAccess } from "../../src/desired/desired-access.js";
import { ownershipTagKeys, ownershipTags, policyDescription } from "../../src/desired/ownership.js";
import type { DeletionPolicy } from "../../src/manifest/instance-access.js";
import type {
  ObservedInstanceProfile,
  ObservedPolicy,
  ObservedRole,
  Snapshot,
} from "../../src/observed/snapshot.js";
import { planPass } from "../../src/plan/plan-pass.js";

const account = "123456789012";

function desiredFor(name: string, deletionPolicy: DeletionPolicy, roleName?: string): DesiredAccess {
  return compileDesired(
    {
      apiVersion: "rolecall.dev/v1alpha1",
      kind: "InstanceAccess",
      metadata: { name },
      spec: {
        instanceSelector: { instanceIds: ["i-0123456789abcdef0"] },
        grants: [{ bucket: `${name}-bucket`, access: "read" }],
        deletionPolicy,
        ...(roleName === undefined ? {} : { iam: { roleName } }),
      },
    },
    { iamPath: "/rolecall/", partition: "aws", defaultMode: "enforce" },
  );
}

/** The chain a manifest left in AWS, as a whole-account read sees it (policy tags not read). */
function liveChain(
  desired: DesiredAccess,
  roleName: string,
  extraTags: Record<string, string> = {},
): Snapshot {
  const tags = { ...ownershipTags(desired.manifest, desired.deletionPolicy), ...extraTags };
  const policyArn = `arn:aws:iam::${account}:policy/rolecall/${desired.policy.name}`;
  const policy: ObservedPolicy = {
    name: desired.policy.name,
    arn: policyArn,
    path: "/rolecall/",
    description: policyDescription(desired.manifest),
    document: desired.policy.document,
    defaultVersionId: "v1",
    versions: [{ id: "v1", isDefault: true, createdAt: 1 }],
    tags: undefined,
  };
  const role: ObservedRole = {
    name: roleName,
    arn: `arn:aws:iam::${account}:role/rolecall/${roleName}`,
    path: "/rolecall/",
    trustPolicy: desired.role.trustPolicy,
    attachedPolicyArns: [policyArn],
    inlinePolicyNames: [],
    tags,
  };
  const profile: ObservedInstanceProfile = {
    name: desired.instanceProfile.name,
    arn: `arn:aws:iam::${account}:instance-profile/rolecall/${desired.instanceProfile.name}`,
    path: "/rolecall/",
    roleNames: [roleName],
    tags,
  };
  return {
    policies: new Map([[policy.name.toLowerCase(), policy]]),
    roles: new Map([[role.name.toLowerCase(), role]]),
    instanceProfiles: new Map([[profile.name.toLowerCase(), profile]]),
    instances: new Map(),
    associations: new Map(),
  };
}

const plan = (snapshot: Snapshot, desired: DesiredAccess) =>
  planPass(snapshot, {
    inForce: [desired],
    protectedNames: new Set(),
    unnamedInvalid: false,
    allowMassPrune: false,
    defaultMode: "enforce",
  }).manifests.get(desired.manifest);

describe("a manifest that renames its role", () => {
  it("takes the old role out of its profile once, in its converging actions, not again while pruning", () => {
    const before = desiredFor("renamer", "delete", "old-role");
    const after = desiredFor("renamer", "delete", "new-role");
    const result = plan(liveChain(before, "old-role"), after);
    const removals = [...(result?.actions ?? []), ...(result?.pruneActions ?? [])].filter(
      (action) => action.kind === "removeRoleFromInstanceProfile",
    );
    expect(removals).toHaveLength(1);
    expect(result?.actions.map((action) => action.kind)).toContain("removeRoleFromInstanceProfile");
    expect(result?.pruneActions.map((action) => action.kind)).toEqual(["detachRolePolicy", "deleteRole"]);
  });
});

describe("a retained manifest that comes back", () => {
  it("takes the orphaned mark off the policy too, although the policy's tags were not read", () => {
    const desired = desiredFor("retained", "retain");
    const result = plan(
      liveChain(desired, desired.role.name, { [ownershipTagKeys.orphaned]: "true" }),
      desired,
    );
    expect(
      result?.actions.map((action) => [action.kind, "keys" in action ? action.keys : undefined]),
    ).toEqual([
      ["untagPolicy", [ownershipTagKeys.orphaned]],
      ["untagRole", [ownershipTagKeys.orphaned]],
      ["untagInstanceProfile", [ownershipTagKeys.orphaned]],
    ]);
  });

  it("leaves a policy alone when its role's tags are as wanted", () => {
    const desired = desiredFor("settled", "delete");
    expect(plan(liveChain(desired, desired.role.name), desired)?.actions).toEqual([]);
  });
});

describe("a document change at the 5-version limit", () => {
  it("deletes the oldest non-default version, by number when creation times tie (AWS keeps whole seconds)", () => {
    const desired = desiredFor("rotating", "delete");
    const snapshot = liveChain(desired, desired.role.name);
    const policy = [...snapshot.policies.values()][0]!;
    const edited: ObservedPolicy = {
      ...policy,
      document: { Version: "2012-10-17", Statement: [] },
      defaultVersionId: "v5",
      // Listed newest first, all made within one second.
      versions: ["v5", "v4", "v3", "v2", "v1"].map((id) => ({ id, isDefault: id === "v5", createdAt: 1000 })),
    };
    const result = plan({ ...snapshot, policies: new Map([[policy.name.toLowerCase(), edited]]) }, desired);
    expect(
      result?.actions.map((action) => [action.kind, "versionId" in action ? action.versionId : undefined]),
    ).toEqual([
      ["deletePolicyVersion", "v1"],
      ["createPolicyVersion", undefined],
    ]);
  });
});
