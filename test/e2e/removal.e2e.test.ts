import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  CreatePolicyVersionCommand,
  GetInstanceProfileCommand,
  GetPolicyCommand,
  GetRoleCommand,
} from "@aws-sdk/client-iam";
import { describe, expect, it } from "vitest";
import { renderPlanText } from "../../src/commands/render.js";
import { compileS3Policy } from "../../src/desired/s3-policy.js";
import {
  applyAll,
  attachedPolicyNames,
  expectPlan,
  expectSettled,
  found,
  issueCodes,
  profileRoleNames,
  profilesByInstance,
  removeManifest,
  resultFor,
  tagMap,
  writeManifest,
  type ManifestSpec,
} from "../support/drift-kit.js";
import { launchInstances } from "../support/moto.js";
import { pass, runCliOnMoto } from "../support/moto-engine.js";
import { motoWorld } from "../support/moto-world.js";

const policyArn = (name: string) => `arn:aws:iam::123456789012:policy/rolecall/${name}`;

/** What happens in AWS when a manifest goes away: deletion in IAM's order, retention, and the guards. */
describe("removal of manifests against moto_server", () => {
  const world = motoWorld("removal");

  const exists = {
    policy: (name: string) =>
      found(() => world.iam.send(new GetPolicyCommand({ PolicyArn: policyArn(name) }))),
    role: (name: string) => found(() => world.iam.send(new GetRoleCommand({ RoleName: name }))),
    profile: (name: string) =>
      found(() => world.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: name }))),
  };
  const chainExists = async (name: string) => [
    await exists.policy(name),
    await exists.role(name),
    await exists.profile(name),
  ];

  /** Two manifests that stay, so that removing a third is not a mass removal. */
  async function keepers(): Promise<string[]> {
    const [tagged = ""] = await launchInstances(world.ec2, { Team: "keep" });
    const [listed = ""] = await launchInstances(world.ec2, { Name: "keep-two" });
    await writeManifest(world.directory, { name: "keep-one", matchTags: { Team: "keep" } });
    await writeManifest(world.directory, { name: "keep-two", instanceIds: [listed] });
    return [tagged, listed];
  }

  it("deletionPolicy delete: everything is removed, in the documented order", async () => {
    const [taggedBox = "", listedBox = ""] = await keepers();
    const [box = ""] = await launchInstances(world.ec2, { Name: "victim" });
    await writeManifest(world.directory, { name: "victim", instanceIds: [box], deletionPolicy: "delete" });
    await applyAll(world.engine, world.calls, world.directory);
    // A non-default version, as every document change leaves behind: it must go before the policy can.
    await world.iam.send(
      new CreatePolicyVersionCommand({
        PolicyArn: policyArn("rolecall-victim"),
        PolicyDocument: JSON.stringify(compileS3Policy([{ bucket: "older", access: "read" }], false, "aws")),
      }),
    );
    expect(await chainExists("rolecall-victim")).toEqual([true, true, true]);

    await removeManifest(world.directory, "victim");
    const profileReason = { resource: "instance-profile/rolecall-victim", field: "exists" };
    const roleReason = { resource: "role/rolecall-victim", field: "exists" };
    const policyReason = { resource: "policy/rolecall-victim", field: "exists" };
    const order = [
      { kind: "disassociateInstanceProfile", resource: `instance/${box}`, field: "association" },
      { kind: "removeRoleFromInstanceProfile", ...profileReason },
      { kind: "deleteInstanceProfile", ...profileReason },
      { kind: "detachRolePolicy", ...roleReason },
      { kind: "deleteRole", ...roleReason },
      { kind: "deletePolicyVersion", ...policyReason },
      { kind: "deletePolicy", ...policyReason },
    ];
    const planned = await expectPlan(world.engine, world.calls, world.directory, { victim: order });
    expect(resultFor(planned, "victim").status).toBe("pending");
    const text = renderPlanText(planned, []);
    expect(text).toContain("victim (enforce): 7 change(s)");
    expect(text).toContain("+ delete role rolecall-victim");
    expect(text).toContain('role/rolecall-victim exists: present → absent (manifest "victim" was removed)');

    const applied = await applyAll(world.engine, world.calls, world.directory);
    expect(resultFor(applied, "victim").outcomes.map((outcome) => outcome.action.kind)).toEqual(
      order.map((step) => step.kind),
    );
    expect(resultFor(applied, "victim").status).toBe("converged");
    expect(await chainExists("rolecall-victim")).toEqual([false, false, false]);
    expect(await profilesByInstance(world.ec2)).toEqual({
      [taggedBox]: "rolecall-keep-one",
      [listedBox]: "rolecall-keep-two",
    });
    expect(await chainExists("rolecall-keep-one")).toEqual([true, true, true]);
    await expectSettled(world.engine, world.calls, world.directory);
  });

  it("deletionPolicy retain: everything stays, tagged orphaned; restoring the manifest takes it back", async () => {
    await keepers();
    const [box = ""] = await launchInstances(world.ec2, { Name: "kept" });
    const retained: ManifestSpec = { name: "retained", instanceIds: [box], deletionPolicy: "retain" };
    // Created with delete, switched to retain: the deletion-policy tag follows on all three.
    await writeManifest(world.directory, { ...retained, deletionPolicy: "delete" });
    await applyAll(world.engine, world.calls, world.directory);
    await writeManifest(world.directory, retained);
    await expectPlan(world.engine, world.calls, world.directory, {
      retained: [
        { kind: "tagPolicy", resource: "policy/rolecall-retained", field: "tags" },
        { kind: "tagRole", resource: "role/rolecall-retained", field: "tags" },
        { kind: "tagInstanceProfile", resource: "instance-profile/rolecall-retained", field: "tags" },
      ],
    });
    await applyAll(world.engine, world.calls, world.directory);
    await expectSettled(world.engine, world.calls, world.directory);

    await removeManifest(world.directory, "retained");
    await expectPlan(world.engine, world.calls, world.directory, {
      retained: [
        { kind: "tagRole", resource: "role/rolecall-retained", field: "exists" },
        { kind: "tagInstanceProfile", resource: "instance-profile/rolecall-retained", field: "exists" },
        { kind: "tagPolicy", resource: "policy/rolecall-retained", field: "exists" },
      ],
    });
    await applyAll(world.engine, world.calls, world.directory);
    expect(world.calls.byOperation()).toMatchObject({
      "iam:TagRole": 1,
      "iam:TagInstanceProfile": 1,
      "iam:TagPolicy": 1,
    });
    const orphaned = {
      "rolecall.dev/managed-by": "rolecall",
      "rolecall.dev/manifest": "retained",
      "rolecall.dev/deletion-policy": "retain",
      "rolecall.dev/orphaned": "true",
    };
    const tagsNow = async () => [
      tagMap(
        (await world.iam.send(new GetPolicyCommand({ PolicyArn: policyArn("rolecall-retained") }))).Policy
          ?.Tags,
      ),
      tagMap((await world.iam.send(new GetRoleCommand({ RoleName: "rolecall-retained" }))).Role?.Tags),
      tagMap(
        (await world.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: "rolecall-retained" })))
          .InstanceProfile?.Tags,
      ),
    ];
    expect(await tagsNow()).toEqual([orphaned, orphaned, orphaned]);
    // Still a working chain, still on the instance.
    expect(await attachedPolicyNames(world.iam, "rolecall-retained")).toEqual(["rolecall-retained"]);
    expect(await profileRoleNames(world.iam, "rolecall-retained")).toEqual(["rolecall-retained"]);
    expect((await profilesByInstance(world.ec2))[box]).toBe("rolecall-retained");
    await expectSettled(world.engine, world.calls, world.directory);

    // The manifest comes back: its resources are its own again, no longer orphaned.
    await writeManifest(world.directory, retained);
    await applyAll(world.engine, world.calls, world.directory);
    const { "rolecall.dev/orphaned": _, ...owned } = orphaned;
    expect(await tagsNow()).toEqual([owned, owned, owned]);
    await expectSettled(world.engine, world.calls, world.directory);
  });

  it("the prune guard: removing more than half of the managed manifests needs --allow-mass-prune", async () => {
    await writeManifest(world.directory, { name: "keep-one", matchTags: { Team: "keep" } });
    await writeManifest(world.directory, { name: "gone-one", matchTags: { Team: "gone" } });
    await writeManifest(world.directory, { name: "gone-two", matchTags: { Team: "gone2" } });
    await applyAll(world.engine, world.calls, world.directory);
    await removeManifest(world.directory, "gone-one");
    await removeManifest(world.directory, "gone-two");

    // 2 of 3 at once: held back, reported as an error, nothing destroyed.
    const planned = await expectPlan(world.engine, world.calls, world.directory, {});
    expect(planned.plan.pruneSuspended?.code).toBe("PruneGuardTripped");
    expect(issueCodes(planned, "gone-one")).toEqual([{ code: "PruneGuardTripped" }]);
    const held = await runCliOnMoto(world.moto, ["apply", "--manifests", world.directory]);
    expect(held.code).toBe(1);
    expect(held.stdout).toContain("removal held back: this pass would remove 2 of 3 managed manifests");
    expect(await chainExists("rolecall-gone-one")).toEqual([true, true, true]);
    expect(await chainExists("rolecall-gone-two")).toEqual([true, true, true]);

    const allowed = await runCliOnMoto(world.moto, [
      "apply",
      "--manifests",
      world.directory,
      "--allow-mass-prune",
    ]);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain("✓ gone-one: delete role rolecall-gone-one");
    expect(await chainExists("rolecall-gone-one")).toEqual([false, false, false]);
    expect(await chainExists("rolecall-gone-two")).toEqual([false, false, false]);
    expect(await chainExists("rolecall-keep-one")).toEqual([true, true, true]);
    await expectSettled(world.engine, world.calls, world.directory);
  });

  it("an unreadable manifest file suspends removal: its names are unknown, so nothing is removed", async () => {
    await keepers();
    await writeManifest(world.directory, { name: "victim", matchTags: { Team: "victim" } });
    await applyAll(world.engine, world.calls, world.directory);
    await removeManifest(world.directory, "victim");
    await writeFile(path.join(world.directory, "broken.yaml"), "apiVersion: [unclosed\n");

    world.calls.reset();
    const applied = await pass(world.engine, world.directory, false);
    expect(world.calls.mutating()).toBe(0);
    expect(applied.plan.pruneSuspended?.code).toBe("PruneSuspended");
    expect(await chainExists("rolecall-victim")).toEqual([true, true, true]);

    await rm(path.join(world.directory, "broken.yaml"));
    await applyAll(world.engine, world.calls, world.directory);
    expect(await chainExists("rolecall-victim")).toEqual([false, false, false]);
  });

  it("a manifest renamed (one removed, one added, same selector): instances move in one replace, the old chain goes", async () => {
    await keepers();
    const [box = ""] = await launchInstances(world.ec2, { Team: "moving" });
    await writeManifest(world.directory, { name: "before", matchTags: { Team: "moving" } });
    await applyAll(world.engine, world.calls, world.directory);
    await removeManifest(world.directory, "before");
    await writeManifest(world.directory, { name: "after", matchTags: { Team: "moving" } });
    const chain = (name: string) => ({
      profile: { resource: `instance-profile/rolecall-${name}`, field: "exists" },
      role: { resource: `role/rolecall-${name}`, field: "exists" },
      policy: { resource: `policy/rolecall-${name}`, field: "exists" },
    });
    const [after, before] = [chain("after"), chain("before")];
    await expectPlan(world.engine, world.calls, world.directory, {
      after: [
        { kind: "createPolicy", ...after.policy },
        { kind: "createRole", ...after.role },
        { kind: "attachRolePolicy", resource: "role/rolecall-after", field: "attachedPolicies" },
        { kind: "createInstanceProfile", ...after.profile },
        { kind: "addRoleToInstanceProfile", resource: "instance-profile/rolecall-after", field: "roles" },
        { kind: "replaceInstanceProfileAssociation", resource: `instance/${box}`, field: "association" },
      ],
      // No disassociate: the instance is not left without a profile in between.
      before: [
        { kind: "removeRoleFromInstanceProfile", ...before.profile },
        { kind: "deleteInstanceProfile", ...before.profile },
        { kind: "detachRolePolicy", ...before.role },
        { kind: "deleteRole", ...before.role },
        { kind: "deletePolicy", ...before.policy },
      ],
    });
    await applyAll(world.engine, world.calls, world.directory);
    expect((await profilesByInstance(world.ec2))[box]).toBe("rolecall-after");
    expect(await chainExists("rolecall-before")).toEqual([false, false, false]);
    await expectSettled(world.engine, world.calls, world.directory);
  });

  it("a manifest that renames its role: the new role takes over the profile and the old one is deleted", async () => {
    await keepers();
    const [box = ""] = await launchInstances(world.ec2, { Name: "renamer" });
    const before: ManifestSpec = { name: "renamer", instanceIds: [box], iam: { roleName: "old-role" } };
    await writeManifest(world.directory, before);
    await applyAll(world.engine, world.calls, world.directory);
    await writeManifest(world.directory, { ...before, iam: { roleName: "new-role" } });
    await expectPlan(world.engine, world.calls, world.directory, {
      renamer: [
        { kind: "createRole", resource: "role/new-role", field: "exists" },
        { kind: "attachRolePolicy", resource: "role/new-role", field: "attachedPolicies" },
        {
          kind: "removeRoleFromInstanceProfile",
          resource: "instance-profile/rolecall-renamer",
          field: "roles",
        },
        { kind: "addRoleToInstanceProfile", resource: "instance-profile/rolecall-renamer", field: "roles" },
        { kind: "detachRolePolicy", resource: "role/old-role", field: "exists" },
        { kind: "deleteRole", resource: "role/old-role", field: "exists" },
      ],
    });
    await applyAll(world.engine, world.calls, world.directory);
    expect(await exists.role("old-role")).toBe(false);
    expect(await profileRoleNames(world.iam, "rolecall-renamer")).toEqual(["new-role"]);
    expect(await attachedPolicyNames(world.iam, "new-role")).toEqual(["rolecall-renamer"]);
    expect((await profilesByInstance(world.ec2))[box]).toBe("rolecall-renamer");
    await expectSettled(world.engine, world.calls, world.directory);
  });
});
