import { rm } from "node:fs/promises";
import path from "node:path";
import {
  AssociateIamInstanceProfileCommand,
  CreateTagsCommand,
  DeleteTagsCommand,
} from "@aws-sdk/client-ec2";
import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  CreateInstanceProfileCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  DetachRolePolicyCommand,
  GetInstanceProfileCommand,
  GetRoleCommand,
} from "@aws-sdk/client-iam";
import { describe, expect, it } from "vitest";
import { compositeName } from "../../src/desired/composite.js";
import { ec2TrustPolicy } from "../../src/desired/policy-document.js";
import {
  applyAll,
  attachedPolicyNames,
  expectSettled,
  profilesByInstance,
  resultFor,
  tagMap,
  writeManifest,
} from "../support/drift-kit.js";
import { launchInstances } from "../support/moto.js";
import { pass, runCliOnMoto } from "../support/moto-engine.js";
import { motoWorld } from "../support/moto-world.js";

const composite = (...members: string[]) => compositeName(members, "/rolecall/");

/** Instances selected by several manifests hold a composite of exactly those manifests' policies. */
describe("composition against moto_server", () => {
  const world = motoWorld("composition");

  const exists = async (kind: "role" | "profile", name: string): Promise<boolean> => {
    try {
      if (kind === "role") await world.iam.send(new GetRoleCommand({ RoleName: name }));
      else await world.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: name }));
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === "NoSuchEntityException") return false;
      throw error;
    }
  };

  const retag = (id: string, tags: Record<string, string>) =>
    world.ec2.send(
      new CreateTagsCommand({
        Resources: [id],
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
  const untag = (id: string, key: string) =>
    world.ec2.send(new DeleteTagsCommand({ Resources: [id], Tags: [{ Key: key }] }));

  /** Two teams' manifests by tag, and instances: one of each team, one with both tags. */
  async function twoTeams() {
    const [both = ""] = await launchInstances(world.ec2, { Env: "dev", App: "etl" });
    const [devOnly = ""] = await launchInstances(world.ec2, { Env: "dev" });
    const [etlOnly = ""] = await launchInstances(world.ec2, { App: "etl" });
    await writeManifest(world.directory, { name: "dev", matchTags: { Env: "dev" } });
    await writeManifest(world.directory, {
      name: "etl",
      matchTags: { App: "etl" },
      deletionPolicy: "delete",
    });
    return { both, devOnly, etlOnly };
  }

  it("an instance with both tags holds a composite of both policies, tagged with its members; a second apply changes nothing", async () => {
    const { both, devOnly, etlOnly } = await twoTeams();
    const applied = await applyAll(world.engine, world.calls, world.directory);
    const name = composite("dev", "etl");
    expect(await profilesByInstance(world.ec2)).toEqual({
      [both]: name,
      [devOnly]: "rolecall-dev",
      [etlOnly]: "rolecall-etl",
    });
    expect(await attachedPolicyNames(world.iam, name)).toEqual(["rolecall-dev", "rolecall-etl"]);
    const role = (await world.iam.send(new GetRoleCommand({ RoleName: name }))).Role;
    expect(role?.Path).toBe("/rolecall/");
    expect(tagMap(role?.Tags)).toMatchObject({
      "rolecall.dev/managed-by": "rolecall",
      "rolecall.dev/member/dev": "delete",
      "rolecall.dev/member/etl": "delete",
    });
    expect(role?.Description).toContain("dev, etl");
    const profile = (await world.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: name })))
      .InstanceProfile;
    expect(profile?.Roles?.map((held) => held.RoleName)).toEqual([name]);
    // Each member's status names the composite and the other member.
    expect(resultFor(applied, "dev").plan.instances).toContainEqual(
      expect.objectContaining({ id: both, association: "associated", profile: name, sharedWith: ["etl"] }),
    );
    await expectSettled(world.engine, world.calls, world.directory);
  });

  it("a tag removed: back to the one manifest's profile, and the composite no instance needs is removed", async () => {
    const { both } = await twoTeams();
    await applyAll(world.engine, world.calls, world.directory);
    await untag(both, "App");
    const moved = await applyAll(world.engine, world.calls, world.directory);
    expect((await profilesByInstance(world.ec2))[both]).toBe("rolecall-dev");
    expect(resultFor(moved, "dev").outcomes.map((outcome) => outcome.action.kind)).toEqual([
      "replaceInstanceProfileAssociation",
    ]);
    expect(await exists("role", composite("dev", "etl"))).toBe(false);
    expect(await exists("profile", composite("dev", "etl"))).toBe(false);
    await expectSettled(world.engine, world.calls, world.directory);
  });

  it("a third overlapping manifest makes a new set; the old composite is collected", async () => {
    const { both } = await twoTeams();
    await applyAll(world.engine, world.calls, world.directory);
    await retag(both, { Tier: "gold" });
    await writeManifest(world.directory, { name: "gold", matchTags: { Tier: "gold" } });
    await applyAll(world.engine, world.calls, world.directory);
    const name = composite("dev", "etl", "gold");
    expect((await profilesByInstance(world.ec2))[both]).toBe(name);
    expect(await attachedPolicyNames(world.iam, name)).toEqual([
      "rolecall-dev",
      "rolecall-etl",
      "rolecall-gold",
    ]);
    expect(await exists("role", composite("dev", "etl"))).toBe(false);
    await expectSettled(world.engine, world.calls, world.directory);
  });

  it("a manifest removed: its members' instances move to what remains, its composites are collected, its own chain deleted", async () => {
    const { both, etlOnly } = await twoTeams();
    await applyAll(world.engine, world.calls, world.directory);
    await rm(path.join(world.directory, "etl.yaml"));
    await applyAll(world.engine, world.calls, world.directory);
    const held = await profilesByInstance(world.ec2);
    expect(held[both]).toBe("rolecall-dev");
    expect(held[etlOnly]).toBeUndefined();
    expect(await exists("role", composite("dev", "etl"))).toBe(false);
    expect(await exists("role", "rolecall-etl")).toBe(false);
    await expectSettled(world.engine, world.calls, world.directory);
  });

  it("above --max-policies-per-role, the instance is a conflict on every member and is left as it is (apply exits 1)", async () => {
    const [shared = ""] = await launchInstances(world.ec2, { A: "1", B: "1", C: "1" });
    for (const key of ["A", "B", "C"])
      await writeManifest(world.directory, { name: key.toLowerCase(), matchTags: { [key]: "1" } });
    const result = await runCliOnMoto(world.moto, [
      "apply",
      "--manifests",
      world.directory,
      "--max-policies-per-role",
      "2",
    ]);
    expect(result.code).toBe(1);
    for (const name of ["a", "b", "c"])
      expect(result.stdout).toContain(`! ${name}: instance ${shared} is selected by 3 manifests (a, b, c)`);
    expect((await profilesByInstance(world.ec2))[shared]).toBeUndefined();
  });

  it("a composite drifted by hand is repaired: a policy detached is attached again, one attached by hand is detached", async () => {
    await twoTeams();
    await applyAll(world.engine, world.calls, world.directory);
    const name = composite("dev", "etl");
    await world.iam.send(
      new DetachRolePolicyCommand({ RoleName: name, PolicyArn: policyArn("rolecall-etl") }),
    );
    const stray = await world.iam.send(
      new CreatePolicyCommand({
        PolicyName: "hand-made",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }],
        }),
      }),
    );
    await world.iam.send(new AttachRolePolicyCommand({ RoleName: name, PolicyArn: stray.Policy?.Arn }));
    const repaired = await applyAll(world.engine, world.calls, world.directory);
    expect(
      repaired.composites.map((result) => result.outcomes.map((outcome) => outcome.action.kind).sort()),
    ).toEqual([["attachRolePolicy", "detachRolePolicy"]]);
    expect(await attachedPolicyNames(world.iam, name)).toEqual(["rolecall-dev", "rolecall-etl"]);
    await expectSettled(world.engine, world.calls, world.directory);
  });

  it("a foreign profile is replaced only when every member says onConflict: replace", async () => {
    const [both = ""] = await launchInstances(world.ec2, { Env: "dev", App: "etl" });
    await world.iam.send(
      new CreateRoleCommand({
        RoleName: "HandMade",
        AssumeRolePolicyDocument: JSON.stringify(ec2TrustPolicy()),
      }),
    );
    await world.iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: "HandMade" }));
    await world.iam.send(
      new AddRoleToInstanceProfileCommand({ InstanceProfileName: "HandMade", RoleName: "HandMade" }),
    );
    await world.ec2.send(
      new AssociateIamInstanceProfileCommand({ InstanceId: both, IamInstanceProfile: { Name: "HandMade" } }),
    );
    await writeManifest(world.directory, { name: "dev", matchTags: { Env: "dev" }, onConflict: "replace" });
    await writeManifest(world.directory, { name: "etl", matchTags: { App: "etl" } });
    const skipped = await pass(world.engine, world.directory, false);
    for (const name of ["dev", "etl"])
      expect(resultFor(skipped, name).warnings.join()).toContain("every manifest selecting it, dev, etl");
    expect((await profilesByInstance(world.ec2))[both]).toBe("HandMade");
    await writeManifest(world.directory, { name: "etl", matchTags: { App: "etl" }, onConflict: "replace" });
    await applyAll(world.engine, world.calls, world.directory);
    expect((await profilesByInstance(world.ec2))[both]).toBe(composite("dev", "etl"));
  });

  it("an observe-mode manifest never joins a composite: it reports the access the instance lacks", async () => {
    const [both = ""] = await launchInstances(world.ec2, { Env: "dev", App: "etl" });
    await writeManifest(world.directory, { name: "dev", matchTags: { Env: "dev" } });
    await writeManifest(world.directory, { name: "etl", matchTags: { App: "etl" }, mode: "observe" });
    const applied = await applyAll(world.engine, world.calls, world.directory);
    expect((await profilesByInstance(world.ec2))[both]).toBe("rolecall-dev");
    const observer = resultFor(applied, "etl");
    expect(observer.status).toBe("drifted");
    expect(observer.plan.drift).toContainEqual(
      expect.objectContaining({ resource: `instance/${both}`, field: "access" }),
    );
    expect(applied.composites).toEqual([]);
  });

  it("a removed member with deletionPolicy retain keeps the composite and its instance exactly as they are", async () => {
    const [both = ""] = await launchInstances(world.ec2, { Env: "dev", App: "etl" });
    await writeManifest(world.directory, { name: "dev", matchTags: { Env: "dev" } });
    await writeManifest(world.directory, {
      name: "etl",
      matchTags: { App: "etl" },
      deletionPolicy: "retain",
    });
    await applyAll(world.engine, world.calls, world.directory);
    const name = composite("dev", "etl");
    await rm(path.join(world.directory, "etl.yaml"));
    const after = await pass(world.engine, world.directory, false);
    expect((await profilesByInstance(world.ec2))[both]).toBe(name);
    expect(await attachedPolicyNames(world.iam, name)).toEqual(["rolecall-dev", "rolecall-etl"]);
    const dev = resultFor(after, "dev");
    expect(dev.plan.instances).toContainEqual(expect.objectContaining({ id: both, association: "retained" }));
    expect(dev.warnings.join()).toContain('manifest "etl" (deletionPolicy: retain) was removed');
    // The retained member's own resources stay, tagged orphaned, as retain promises.
    const etlRole = (await world.iam.send(new GetRoleCommand({ RoleName: "rolecall-etl" }))).Role;
    expect(tagMap(etlRole?.Tags)["rolecall.dev/orphaned"]).toBe("true");
    // The manifest comes back: the composite is in use again, nothing moves.
    await writeManifest(world.directory, {
      name: "etl",
      matchTags: { App: "etl" },
      deletionPolicy: "retain",
    });
    await applyAll(world.engine, world.calls, world.directory);
    expect((await profilesByInstance(world.ec2))[both]).toBe(name);
  });

  function policyArn(name: string): string {
    return `arn:aws:iam::123456789012:policy/rolecall/${name}`;
  }
});
