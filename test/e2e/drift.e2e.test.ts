import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DisassociateIamInstanceProfileCommand,
  type EC2Client,
} from "@aws-sdk/client-ec2";
import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  CreatePolicyVersionCommand,
  DeleteInstanceProfileCommand,
  DetachRolePolicyCommand,
  GetInstanceProfileCommand,
  GetPolicyCommand,
  GetRoleCommand,
  PutRolePolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
  UpdateAssumeRolePolicyCommand,
  type IAMClient,
} from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallCounter } from "../../src/aws/call-observer.js";
import { compileS3Policy } from "../../src/desired/s3-policy.js";
import { ec2TrustPolicy } from "../../src/desired/policy-document.js";
import { policiesEqual } from "../../src/plan/policy-equality.js";
import type { Engine } from "../../src/engine/engine.js";
import { repoRoot } from "../support/cli.js";
import {
  applyAll,
  attachedPolicyNames,
  defaultDocument,
  expectPlan,
  expectSettled,
  inlinePolicyNames,
  policyVersions,
  profileRoleNames,
  profilesByInstance,
  resultFor,
  stepsOf,
  trustPolicy,
  writeManifest,
  type ManifestSpec,
} from "../support/drift-kit.js";
import { launchInstances, motoClients, startMoto, type Moto } from "../support/moto.js";
import { motoEngine, pass, runCliOnMoto } from "../support/moto-engine.js";
import { tempDirs } from "../support/temp-dir.js";

const account = "123456789012";
const seedPolicyArn = `arn:aws:iam::${account}:policy/rolecall/DevS3ReadAccess`;
const analyticsPolicyArn = `arn:aws:iam::${account}:policy/rolecall/rolecall-analytics`;
const analyticsTags = { Team: "analytics", Environment: "prod" };
const reporting: ManifestSpec = { name: "reporting", matchTags: { Team: "reporting" } };
const analytics: ManifestSpec = {
  name: "analytics",
  matchTags: analyticsTags,
  grants: [{ bucket: "analytics-reports-prod", access: "read-write", prefixes: ["reports/"] }],
};

/**
 * Drift made behind rolecall's back with the SDK, one kind at a time, on the seed manifest (instance by ID) and a
 * tag-selected manifest: each time plan names it (action, resource, field), apply repairs it (read back with the
 * SDK), and the apply after that makes no mutating call.
 */
describe("drift on the seed chain and a tag-selected manifest", () => {
  let moto: Moto;
  let iam: IAMClient;
  let ec2: EC2Client;
  let engine: Engine;
  let calls: CallCounter;
  let directory: string;
  let devBox: string;
  let workers: string[];
  const dirs = tempDirs("drift");

  const plan = (expected: Parameters<typeof expectPlan>[3]) => expectPlan(engine, calls, directory, expected);
  const repair = async () => {
    const applied = await applyAll(engine, calls, directory);
    await expectSettled(engine, calls, directory);
    return applied;
  };

  beforeAll(async () => {
    moto = await startMoto();
    ({ iam, ec2 } = motoClients(moto));
    [devBox = ""] = await launchInstances(ec2, { Name: "dev-box" });
    workers = await launchInstances(ec2, { ...analyticsTags, Name: "worker" }, 2);
    await launchInstances(ec2, { Team: "analytics", Environment: "staging" });
    directory = await dirs.make();
    const seed = await readFile(path.join(repoRoot, "manifests", "dev-s3-read.yaml"), "utf8");
    await writeFile(path.join(directory, "dev-s3-read.yaml"), seed.replaceAll("i-070823c5d33601d4f", devBox));
    await writeManifest(directory, analytics);
    ({ engine, calls } = motoEngine(moto));
  });

  afterAll(async () => {
    await moto.stop();
    await dirs.cleanup();
  });

  it("converges both manifests from empty, associating exactly the selected instances", async () => {
    await repair();
    expect(await profilesByInstance(ec2)).toEqual({
      [devBox]: "DEV_PROFILE",
      [workers[0]!]: "rolecall-analytics",
      [workers[1]!]: "rolecall-analytics",
    });
  });

  it("policy detached from the role: re-attached", async () => {
    await iam.send(new DetachRolePolicyCommand({ RoleName: "DEV_ROLE", PolicyArn: seedPolicyArn }));
    await plan({
      "dev-s3-read": [{ kind: "attachRolePolicy", resource: "role/DEV_ROLE", field: "attachedPolicies" }],
    });
    await repair();
    expect(await attachedPolicyNames(iam, "DEV_ROLE")).toEqual(["DevS3ReadAccess"]);
  });

  it("policy document edited (a new default version by hand): restored as a new default version", async () => {
    await iam.send(
      new CreatePolicyVersionCommand({
        PolicyArn: seedPolicyArn,
        PolicyDocument: JSON.stringify(
          compileS3Policy([{ bucket: "my-dev-bucket", access: "read-write" }], true, "aws"),
        ),
        SetAsDefault: true,
      }),
    );
    const planned = await plan({
      "dev-s3-read": [{ kind: "createPolicyVersion", resource: "policy/DevS3ReadAccess", field: "document" }],
    });
    const reason = resultFor(planned, "dev-s3-read").plan.drift.find((entry) => entry.field === "document");
    expect(reason?.actual).toContain("s3:putobject");
    expect(reason?.desired).not.toContain("s3:putobject");

    // Through the CLI too: exit 2 (changes pending), and the text names the resource and the field.
    const cli = await runCliOnMoto(moto, ["plan", "--manifests", directory]);
    expect(cli.code).toBe(2);
    expect(cli.stdout).toContain("+ set new default version of policy DevS3ReadAccess");
    expect(cli.stdout).toContain("policy/DevS3ReadAccess document:");
    expect(cli.stdout).toContain("analytics (enforce): in sync");

    await repair();
    const expected = compileS3Policy([{ bucket: "my-dev-bucket", access: "read" }], true, "aws");
    expect(policiesEqual(await defaultDocument(iam, seedPolicyArn), expected)).toBe(true);
    expect(await policyVersions(iam, seedPolicyArn)).toEqual({ ids: ["v1", "v2", "v3"], defaultId: "v3" });
  });

  it("trust policy edited: restored with UpdateAssumeRolePolicy", async () => {
    const widened = {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: ["ec2.amazonaws.com", "lambda.amazonaws.com"] },
          Action: "sts:AssumeRole",
        },
      ],
    };
    await iam.send(
      new UpdateAssumeRolePolicyCommand({ RoleName: "DEV_ROLE", PolicyDocument: JSON.stringify(widened) }),
    );
    const planned = await plan({
      "dev-s3-read": [{ kind: "updateAssumeRolePolicy", resource: "role/DEV_ROLE", field: "trustPolicy" }],
    });
    expect(resultFor(planned, "dev-s3-read").plan.drift[0]?.actual).toContain("lambda.amazonaws.com");
    await repair();
    expect(policiesEqual(await trustPolicy(iam, "DEV_ROLE"), ec2TrustPolicy())).toBe(true);
  });

  it("role removed from the instance profile: added back", async () => {
    await iam.send(
      new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: "DEV_PROFILE", RoleName: "DEV_ROLE" }),
    );
    await plan({
      "dev-s3-read": [
        { kind: "addRoleToInstanceProfile", resource: "instance-profile/DEV_PROFILE", field: "roles" },
      ],
    });
    await repair();
    expect(await profileRoleNames(iam, "DEV_PROFILE")).toEqual(["DEV_ROLE"]);
  });

  it("instance profile deleted by hand: re-created, and the instance moved off the dead one", async () => {
    // EC2 keeps the association pointing at the deleted profile (same name, same ARN, a dead ID): an instance
    // that looks associated has no credentials until it is moved to the new profile.
    await iam.send(
      new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: "DEV_PROFILE", RoleName: "DEV_ROLE" }),
    );
    await iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: "DEV_PROFILE" }));
    expect((await profilesByInstance(ec2))[devBox]).toBe("DEV_PROFILE");
    await plan({
      "dev-s3-read": [
        { kind: "createInstanceProfile", resource: "instance-profile/DEV_PROFILE", field: "exists" },
        { kind: "addRoleToInstanceProfile", resource: "instance-profile/DEV_PROFILE", field: "roles" },
        { kind: "replaceInstanceProfileAssociation", resource: `instance/${devBox}`, field: "association" },
      ],
    });
    await repair();
    const profile = (await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: "DEV_PROFILE" })))
      .InstanceProfile;
    const held = await ec2.send(
      new DescribeIamInstanceProfileAssociationsCommand({
        Filters: [{ Name: "instance-id", Values: [devBox] }],
      }),
    );
    expect(held.IamInstanceProfileAssociations?.[0]?.IamInstanceProfile?.Id).toBe(profile?.InstanceProfileId);
  });

  it("instance profile disassociated from the instance: associated again", async () => {
    const associations = await ec2.send(
      new DescribeIamInstanceProfileAssociationsCommand({
        Filters: [{ Name: "instance-id", Values: [devBox] }],
      }),
    );
    await ec2.send(
      new DisassociateIamInstanceProfileCommand({
        AssociationId: associations.IamInstanceProfileAssociations?.[0]?.AssociationId,
      }),
    );
    await plan({
      "dev-s3-read": [
        { kind: "associateInstanceProfile", resource: `instance/${devBox}`, field: "association" },
      ],
    });
    await repair();
    expect((await profilesByInstance(ec2))[devBox]).toBe("DEV_PROFILE");
  });

  it("a policy attached to the role by hand: detached (enforce), and left to exist", async () => {
    const extra = await iam.send(
      new CreatePolicyCommand({
        PolicyName: "HandAttached",
        PolicyDocument: JSON.stringify(compileS3Policy([{ bucket: "other", access: "read" }], false, "aws")),
      }),
    );
    const extraArn = extra.Policy?.Arn ?? "";
    await iam.send(new AttachRolePolicyCommand({ RoleName: "DEV_ROLE", PolicyArn: extraArn }));
    const planned = await plan({
      "dev-s3-read": [{ kind: "detachRolePolicy", resource: "role/DEV_ROLE", field: "attachedPolicies" }],
    });
    const action = resultFor(planned, "dev-s3-read").plan.actions[0];
    expect(action?.kind === "detachRolePolicy" ? action.policyArn : undefined).toBe(extraArn);
    await repair();
    expect(await attachedPolicyNames(iam, "DEV_ROLE")).toEqual(["DevS3ReadAccess"]);
    const stillThere = await iam.send(new GetPolicyCommand({ PolicyArn: extraArn }));
    expect(stillThere.Policy?.PolicyName).toBe("HandAttached");
  });

  it("an inline policy put on the role: deleted", async () => {
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: "DEV_ROLE",
        PolicyName: "sneaky",
        PolicyDocument: JSON.stringify(
          compileS3Policy([{ bucket: "secrets", access: "read" }], false, "aws"),
        ),
      }),
    );
    await plan({
      "dev-s3-read": [{ kind: "deleteRolePolicy", resource: "role/DEV_ROLE", field: "inlinePolicies" }],
    });
    await repair();
    expect(await inlinePolicyNames(iam, "DEV_ROLE")).toEqual([]);
  });

  it("a selector tag removed from an instance: the instance is disassociated (access follows the manifest)", async () => {
    const [leaver = "", stayer = ""] = workers;
    await ec2.send(new DeleteTagsCommand({ Resources: [leaver], Tags: [{ Key: "Team" }] }));
    await plan({
      analytics: [
        { kind: "disassociateInstanceProfile", resource: `instance/${leaver}`, field: "association" },
      ],
    });
    await repair();
    const held = await profilesByInstance(ec2);
    expect(held[leaver]).toBeUndefined();
    expect(held[stayer]).toBe("rolecall-analytics");
  });

  it("a new matching instance launched: associated", async () => {
    const [newcomer = ""] = await launchInstances(ec2, analyticsTags);
    await plan({
      analytics: [
        { kind: "associateInstanceProfile", resource: `instance/${newcomer}`, field: "association" },
      ],
    });
    await repair();
    expect((await profilesByInstance(ec2))[newcomer]).toBe("rolecall-analytics");
  });

  it("another role put into the instance profile by hand: swapped back", async () => {
    await iam.send(
      new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: "DEV_PROFILE", RoleName: "DEV_ROLE" }),
    );
    await iam.send(
      new CreateRoleCommand({
        RoleName: "intruder",
        AssumeRolePolicyDocument: JSON.stringify(ec2TrustPolicy()),
      }),
    );
    await iam.send(
      new AddRoleToInstanceProfileCommand({ InstanceProfileName: "DEV_PROFILE", RoleName: "intruder" }),
    );
    await plan({
      "dev-s3-read": [
        { kind: "removeRoleFromInstanceProfile", resource: "instance-profile/DEV_PROFILE", field: "roles" },
        { kind: "addRoleToInstanceProfile", resource: "instance-profile/DEV_PROFILE", field: "roles" },
      ],
    });
    await repair();
    expect(await profileRoleNames(iam, "DEV_PROFILE")).toEqual(["DEV_ROLE"]);
    // Not rolecall's: taken out of the profile, not deleted.
    expect((await iam.send(new GetRoleCommand({ RoleName: "intruder" }))).Role?.RoleName).toBe("intruder");
  });

  it("an instance retagged into another manifest moves in one replace, not a disassociate and an associate", async () => {
    await writeManifest(directory, reporting);
    await repair();
    const mover = workers[1]!;
    await ec2.send(
      new CreateTagsCommand({ Resources: [mover], Tags: [{ Key: "Team", Value: "reporting" }] }),
    );
    await plan({
      reporting: [
        { kind: "replaceInstanceProfileAssociation", resource: `instance/${mover}`, field: "association" },
      ],
    });
    await repair();
    expect((await profilesByInstance(ec2))[mover]).toBe("rolecall-reporting");
  });

  it("the manifest's instance list changes: the dropped instance loses the profile, the added one gets it", async () => {
    const [replacement = ""] = await launchInstances(ec2, { Name: "dev-box-2" });
    const seedFile = path.join(directory, "dev-s3-read.yaml");
    await writeFile(seedFile, (await readFile(seedFile, "utf8")).replaceAll(devBox, replacement));
    // Two independent instances: the order between them does not matter.
    calls.reset();
    const planned = await pass(engine, directory, true);
    expect(calls.mutating()).toBe(0);
    const steps = stepsOf(planned, "dev-s3-read");
    expect(steps).toHaveLength(2);
    expect(steps).toEqual(
      expect.arrayContaining([
        { kind: "disassociateInstanceProfile", resource: `instance/${devBox}`, field: "association" },
        { kind: "associateInstanceProfile", resource: `instance/${replacement}`, field: "association" },
      ]),
    );
    expect(planned.plan.manifests.get("dev-s3-read")?.drift).toContainEqual({
      resource: `instance/${devBox}`,
      field: "association",
      desired: "(none: not selected)",
      actual: "DEV_PROFILE",
    });
    await repair();
    const held = await profilesByInstance(ec2);
    expect(held[devBox]).toBeUndefined();
    expect(held[replacement]).toBe("DEV_PROFILE");
    // Back to the seed's instance for the tests below.
    await writeFile(seedFile, (await readFile(seedFile, "utf8")).replaceAll(replacement, devBox));
    await repair();
    expect(await profilesByInstance(ec2)).toMatchObject({ [devBox]: "DEV_PROFILE" });
  });

  it("observe mode reports drift and makes no mutating call, through the engine and the CLI", async () => {
    await iam.send(new DetachRolePolicyCommand({ RoleName: "DEV_ROLE", PolicyArn: seedPolicyArn }));
    await iam.send(
      new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: "DEV_PROFILE", RoleName: "DEV_ROLE" }),
    );
    const observer = motoEngine(moto, { defaultMode: "observe" });
    const observed = await pass(observer.engine, directory, false);
    expect(observer.calls.mutating()).toBe(0);
    const seed = resultFor(observed, "dev-s3-read");
    expect(seed.mode).toBe("observe");
    expect(seed.status).toBe("drifted");
    expect(seed.outcomes).toEqual([]);
    expect(seed.plan.drift.map((reason) => `${reason.resource} ${reason.field}`)).toEqual([
      "role/DEV_ROLE attachedPolicies",
      "instance-profile/DEV_PROFILE roles",
    ]);
    expect(resultFor(observed, "analytics").status).toBe("converged");

    const cli = await runCliOnMoto(moto, [
      "apply",
      "--manifests",
      directory,
      "--mode",
      "observe",
      "-o",
      "json",
    ]);
    expect(cli.code).toBe(0);
    const report = JSON.parse(cli.stdout) as {
      manifests: { name: string; status: string; drift: { resource: string; field: string }[] }[];
      awsCalls: { mutating: number };
    };
    expect(report.awsCalls.mutating).toBe(0);
    expect(report.manifests.find((entry) => entry.name === "dev-s3-read")).toMatchObject({
      status: "drifted",
      drift: [
        { resource: "role/DEV_ROLE", field: "attachedPolicies" },
        { resource: "instance-profile/DEV_PROFILE", field: "roles" },
      ],
    });
    // Nothing was repaired.
    expect(await attachedPolicyNames(iam, "DEV_ROLE")).toEqual([]);
    expect(await profileRoleNames(iam, "DEV_PROFILE")).toEqual([]);

    // Enforce repairs both in one pass.
    await plan({
      "dev-s3-read": [
        { kind: "attachRolePolicy", resource: "role/DEV_ROLE", field: "attachedPolicies" },
        { kind: "addRoleToInstanceProfile", resource: "instance-profile/DEV_PROFILE", field: "roles" },
      ],
    });
    await repair();
    expect(await attachedPolicyNames(iam, "DEV_ROLE")).toEqual(["DevS3ReadAccess"]);
    expect(await profileRoleNames(iam, "DEV_PROFILE")).toEqual(["DEV_ROLE"]);
  });

  it("at the 5-version limit, a document change deletes the oldest non-default version first", async () => {
    for (const bucket of ["hand-2", "hand-3", "hand-4", "hand-5"]) {
      await iam.send(
        new CreatePolicyVersionCommand({
          PolicyArn: analyticsPolicyArn,
          PolicyDocument: JSON.stringify(compileS3Policy([{ bucket, access: "read" }], false, "aws")),
          SetAsDefault: false,
        }),
      );
    }
    expect(await policyVersions(iam, analyticsPolicyArn)).toEqual({
      ids: ["v1", "v2", "v3", "v4", "v5"],
      defaultId: "v1",
    });
    // The hand-made versions are not the default: the live document still matches, so nothing is drift yet.
    await plan({});

    const widened: ManifestSpec = {
      ...analytics,
      grants: [...(analytics.grants ?? []), { bucket: "analytics-reference-data", access: "read" }],
    };
    await writeManifest(directory, widened);
    const planned = await plan({
      analytics: [
        { kind: "deletePolicyVersion", resource: "policy/rolecall-analytics", field: "versions" },
        { kind: "createPolicyVersion", resource: "policy/rolecall-analytics", field: "document" },
      ],
    });
    const [deletion] = resultFor(planned, "analytics").plan.actions;
    expect(deletion?.kind === "deletePolicyVersion" ? deletion.versionId : undefined).toBe("v2");

    const applied = await repair();
    expect(resultFor(applied, "analytics").outcomes.map((outcome) => outcome.action.kind)).toEqual([
      "deletePolicyVersion",
      "createPolicyVersion",
    ]);
    expect(await policyVersions(iam, analyticsPolicyArn)).toEqual({
      ids: ["v1", "v3", "v4", "v5", "v6"],
      defaultId: "v6",
    });
    const expected = compileS3Policy(widened.grants ?? [], false, "aws");
    expect(policiesEqual(await defaultDocument(iam, analyticsPolicyArn), expected)).toBe(true);
  });
});
