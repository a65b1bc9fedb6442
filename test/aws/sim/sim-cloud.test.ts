import { readFile, readdir } from "node:fs/promises";
import {
  AssociateIamInstanceProfileCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstancesCommand,
  RunInstancesCommand,
  type DescribeIamInstanceProfileAssociationsCommandOutput,
  type DescribeInstancesCommandOutput,
} from "@aws-sdk/client-ec2";
import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  CreateInstanceProfileCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  GetAccountAuthorizationDetailsCommand,
  GetInstanceProfileCommand,
  GetRoleCommand,
  ListUsersCommand,
  type CreateInstanceProfileCommandOutput,
  type CreatePolicyCommandOutput,
  type CreateRoleCommandOutput,
  type GetAccountAuthorizationDetailsCommandOutput,
  type GetInstanceProfileCommandOutput,
  type GetRoleCommandOutput,
} from "@aws-sdk/client-iam";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { SimCloud, demoInstances, type SimInstanceSeed } from "../../../src/aws/sim/sim-cloud.js";
import { ec2Trust, expectAwsError, iamErr, json, readPolicy } from "./sim-fixtures.js";

describe("the simulated clients", () => {
  it("record every call received, in order, failed and unsupported ones included", async () => {
    const sim = new SimCloud();
    await sim.iam.send(new CreateRoleCommand({ RoleName: "R", AssumeRolePolicyDocument: json(ec2Trust) }));
    await sim.ec2.send(new DescribeInstancesCommand({}));
    await sim.iam.send(new GetRoleCommand({ RoleName: "missing" })).catch(() => undefined);
    await sim.ec2.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1 })).catch(() => undefined);
    expect(sim.calls).toEqual(["iam:CreateRole", "ec2:DescribeInstances", "iam:GetRole", "ec2:RunInstances"]);
  });

  it("refuse operations they do not simulate with UnsupportedOperation (HTTP 400)", async () => {
    const sim = new SimCloud();
    const unsupported = {
      name: "UnsupportedOperation",
      Code: "UnsupportedOperation",
      status: 400,
      message: /iam:ListUsers/,
    };
    await expectAwsError(sim.iam.send(new ListUsersCommand({})), unsupported);
    await expectAwsError(sim.ec2.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1 })), {
      ...unsupported,
      message: /ec2:RunInstances/,
    });
    // An EC2 command sent to the IAM client is just as unknown there.
    await expectAwsError(sim.iam.send(new DescribeInstancesCommand({})), {
      ...unsupported,
      message: /iam:DescribeInstances/,
    });
  });

  it("answer with SDK-style $metadata", async () => {
    const sim = new SimCloud();
    const output = (await sim.ec2.send(new DescribeInstancesCommand({}))) as DescribeInstancesCommandOutput;
    expect(output.$metadata).toMatchObject({ httpStatusCode: 200, attempts: 1 });
    expect(output.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("add latencyMs to every call, failed ones included", async () => {
    const sim = new SimCloud({ latencyMs: 30 });
    const started = performance.now();
    await sim.ec2.send(new DescribeInstancesCommand({}));
    await sim.iam.send(new GetRoleCommand({ RoleName: "missing" })).catch(() => undefined);
    expect(performance.now() - started).toBeGreaterThanOrEqual(58);
  });

  it("apply each call atomically: of two concurrent creates of one name, exactly one wins", async () => {
    const sim = new SimCloud({ latencyMs: 5 });
    const create = (name: string) =>
      sim.iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: json(ec2Trust) }));
    const results = await Promise.allSettled([create("Same"), create("SAME")]);
    expect(results.map((result) => result.status).sort()).toEqual(["fulfilled", "rejected"]);
    const rejected = results.find((result) => result.status === "rejected");
    expect((rejected?.reason as { Code?: string }).Code).toBe("EntityAlreadyExists");
  });

  it("hand out copies: changing an answer does not change the simulated state", async () => {
    const sim = new SimCloud({ instances: [{ id: "i-0123456789abcdef0", tags: { Team: "a" } }] });
    const first = (await sim.ec2.send(new DescribeInstancesCommand({}))) as DescribeInstancesCommandOutput;
    first.Reservations![0]!.Instances![0]!.Tags!.push({ Key: "Injected", Value: "x" });
    first.Reservations![0]!.Instances![0]!.State!.Name = "stopped";
    const second = (await sim.ec2.send(new DescribeInstancesCommand({}))) as DescribeInstancesCommandOutput;
    expect(second.Reservations![0]!.Instances![0]).toMatchObject({
      Tags: [{ Key: "Team", Value: "a" }],
      State: { Name: "running" },
    });
  });
});

describe("SimCloud", () => {
  it("produces the same IDs for the same sequence of calls (no randomness)", async () => {
    const run = async () => {
      const sim = new SimCloud();
      const instance = sim.launchInstance();
      const role = (await sim.iam.send(
        new CreateRoleCommand({ RoleName: "R", AssumeRolePolicyDocument: json(ec2Trust) }),
      )) as CreateRoleCommandOutput;
      const profile = (await sim.iam.send(
        new CreateInstanceProfileCommand({ InstanceProfileName: "P" }),
      )) as CreateInstanceProfileCommandOutput;
      return [instance, role.Role?.RoleId, profile.InstanceProfile?.InstanceProfileId];
    };
    const [first, second] = [await run(), await run()];
    expect(first).toEqual(second);
    expect(new Set(first).size).toBe(3);
  });

  it("launches instances with 17-hex-digit IDs, running by default, and refuses duplicate or malformed seeds", () => {
    const sim = new SimCloud({ instances: [{ id: "i-070823c5d33601d4f" }] });
    const ids = Array.from({ length: 50 }, () => sim.launchInstance());
    expect(ids.every((id) => /^i-[0-9a-f]{17}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(50);
    expect(() => sim.launchInstance({ id: "i-070823c5d33601d4f" })).toThrow(/already exists/);
    expect(() => sim.launchInstance({ id: "i-XYZ" })).toThrow(/invalid instance ID/);
    expect(() => {
      sim.setInstanceState("i-0ffffffffffffffff", "stopped");
    }).toThrow(/no simulated instance/);
    expect(() => new SimCloud({ accountId: "42" })).toThrow(/account ID/);
  });
});

describe("demoInstances", () => {
  const seeds = demoInstances();
  const byId = new Map(seeds.map((seed) => [seed.id, seed]));

  it("gives every instance an explicit, unique 17-hex-digit ID", () => {
    expect(seeds.every((seed) => seed.id !== undefined && /^i-[0-9a-f]{17}$/.test(seed.id))).toBe(true);
    expect(byId.size).toBe(seeds.length);
    expect(() => new SimCloud({ instances: seeds })).not.toThrow();
  });

  it("has the instances the brief lists", () => {
    expect(byId.get("i-070823c5d33601d4f")).toMatchObject({ state: "running", tags: { Name: "dev-box" } });
    const tagged = (tags: Record<string, string>) =>
      seeds
        .filter((seed) => Object.entries(tags).every(([key, value]) => seed.tags?.[key] === value))
        .map((seed) => seed.state)
        .sort();
    expect(tagged({ Team: "analytics", Environment: "prod" })).toEqual(["running", "stopped", "terminated"]);
    expect(tagged({ Team: "analytics", Environment: "dev" })).toEqual(["running"]);
    expect(tagged({ Environment: "staging" })).toEqual(["running", "running"]);
  });

  it("matches the selectors of every example manifest", async () => {
    const files = (await readdir("manifests")).filter((file) => file.endsWith(".yaml"));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const manifest = parse(await readFile(`manifests/${file}`, "utf8")) as {
        spec: { instanceSelector: { instanceIds?: string[]; matchTags?: Record<string, string> } };
      };
      const { instanceIds, matchTags } = manifest.spec.instanceSelector;
      const selects = (seed: SimInstanceSeed) =>
        (instanceIds === undefined || instanceIds.includes(seed.id ?? "")) &&
        Object.entries(matchTags ?? {}).every(([key, value]) => seed.tags?.[key] === value);
      const live = seeds.filter((seed) => selects(seed) && seed.state !== "terminated");
      expect(live.length, `${file} selects no live demo instance`).toBeGreaterThan(0);
    }
  });
});

describe("the full seed chain", () => {
  it("policy → role → attachment → profile → role in profile → association, read back as rolecall reads it", async () => {
    const sim = new SimCloud({ instances: demoInstances() });
    const path = "/rolecall/";
    const tags = [{ Key: "rolecall.dev/managed-by", Value: "rolecall" }];
    const policy = (await sim.iam.send(
      new CreatePolicyCommand({
        PolicyName: "DevS3ReadAccess",
        Path: path,
        PolicyDocument: json(readPolicy),
        Tags: tags,
      }),
    )) as CreatePolicyCommandOutput;
    await sim.iam.send(
      new CreateRoleCommand({
        RoleName: "DEV_ROLE",
        Path: path,
        AssumeRolePolicyDocument: json(ec2Trust),
        Tags: tags,
      }),
    );
    await sim.iam.send(new AttachRolePolicyCommand({ RoleName: "DEV_ROLE", PolicyArn: policy.Policy!.Arn! }));
    await sim.iam.send(
      new CreateInstanceProfileCommand({ InstanceProfileName: "DEV_PROFILE", Path: path, Tags: tags }),
    );
    await sim.iam.send(
      new AddRoleToInstanceProfileCommand({ InstanceProfileName: "DEV_PROFILE", RoleName: "DEV_ROLE" }),
    );
    await sim.ec2.send(
      new AssociateIamInstanceProfileCommand({
        InstanceId: "i-070823c5d33601d4f",
        IamInstanceProfile: { Name: "DEV_PROFILE" },
      }),
    );

    const details = (await sim.iam.send(
      new GetAccountAuthorizationDetailsCommand({ Filter: ["Role", "LocalManagedPolicy"] }),
    )) as GetAccountAuthorizationDetailsCommandOutput;
    const role = details.RoleDetailList?.find((candidate) => candidate.RoleName === "DEV_ROLE");
    expect(JSON.parse(decodeURIComponent(role!.AssumeRolePolicyDocument!))).toEqual(ec2Trust);
    expect(role?.AttachedManagedPolicies).toEqual([
      { PolicyName: "DevS3ReadAccess", PolicyArn: policy.Policy!.Arn },
    ]);
    expect(role?.InstanceProfileList?.map((profile) => [profile.InstanceProfileName, profile.Tags])).toEqual([
      ["DEV_PROFILE", tags],
    ]);
    expect(role?.Tags).toEqual(tags);
    const managed = details.Policies?.find((candidate) => candidate.PolicyName === "DevS3ReadAccess");
    expect(managed?.AttachmentCount).toBe(1);
    const defaultVersion = managed?.PolicyVersionList?.find((version) => version.IsDefaultVersion === true);
    expect(JSON.parse(decodeURIComponent(defaultVersion!.Document!))).toEqual(readPolicy);

    const profile = (
      (await sim.iam.send(
        new GetInstanceProfileCommand({ InstanceProfileName: "DEV_PROFILE" }),
      )) as GetInstanceProfileCommandOutput
    ).InstanceProfile!;
    expect(profile.Roles?.map((held) => held.Arn)).toEqual([
      ((await sim.iam.send(new GetRoleCommand({ RoleName: "DEV_ROLE" }))) as GetRoleCommandOutput).Role?.Arn,
    ]);

    const associations = (await sim.ec2.send(
      new DescribeIamInstanceProfileAssociationsCommand({
        Filters: [
          { Name: "state", Values: ["associating", "associated"] },
          { Name: "instance-id", Values: ["i-070823c5d33601d4f"] },
        ],
      }),
    )) as DescribeIamInstanceProfileAssociationsCommandOutput;
    expect(
      associations.IamInstanceProfileAssociations?.map((association) => [
        association.State,
        association.IamInstanceProfile,
      ]),
    ).toEqual([["associated", { Arn: profile.Arn, Id: profile.InstanceProfileId }]]);

    const instances = (await sim.ec2.send(
      new DescribeInstancesCommand({
        Filters: [{ Name: "iam-instance-profile.arn", Values: [profile.Arn!] }],
      }),
    )) as DescribeInstancesCommandOutput;
    expect(
      instances.Reservations?.flatMap((reservation) =>
        reservation.Instances?.map((instance) => instance.InstanceId),
      ),
    ).toEqual(["i-070823c5d33601d4f"]);
    expect(sim.calls.filter((call) => call.startsWith("ec2:"))).toEqual([
      "ec2:AssociateIamInstanceProfile",
      "ec2:DescribeIamInstanceProfileAssociations",
      "ec2:DescribeInstances",
    ]);
    await expectAwsError(
      sim.iam.send(new CreateRoleCommand({ RoleName: "dev_role", AssumeRolePolicyDocument: json(ec2Trust) })),
      iamErr("EntityAlreadyExists", 409),
    );
  });
});
