import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstancesCommand,
  type EC2Client,
} from "@aws-sdk/client-ec2";
import {
  GetInstanceProfileCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
  type IAMClient,
} from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileS3Policy } from "../../src/desired/s3-policy.js";
import { decodePolicyDocument, policiesEqual } from "../../src/plan/policy-equality.js";
import { repoRoot } from "../support/cli.js";
import { launchInstances, motoClients, startMoto, type Moto } from "../support/moto.js";
import { runCliOnMoto } from "../support/moto-engine.js";
import { tempDirs } from "../support/temp-dir.js";

/**
 * The manual procedure of the seed document, reproduced from manifests/dev-s3-read.yaml (with the instance ID
 * of an instance moto launched) and verified by reading AWS back, as the procedure's own verification does.
 */
describe("the seed manifest against moto_server", () => {
  let moto: Moto;
  let iam: IAMClient;
  let ec2: EC2Client;
  let instanceId: string;
  let directory: string;
  const dirs = tempDirs("seed");

  beforeAll(async () => {
    moto = await startMoto();
    ({ iam, ec2 } = motoClients(moto));
    [instanceId = ""] = await launchInstances(ec2, { Name: "dev-box" });
    directory = await dirs.make();
    const seed = await readFile(path.join(repoRoot, "manifests", "dev-s3-read.yaml"), "utf8");
    await writeFile(
      path.join(directory, "dev-s3-read.yaml"),
      seed.replaceAll("i-070823c5d33601d4f", instanceId),
    );
  });

  afterAll(async () => {
    await moto.stop();
    await dirs.cleanup();
  });

  it("plans the six steps of the procedure and changes nothing while planning", async () => {
    const plan = await runCliOnMoto(moto, ["plan", "--manifests", directory, "--output", "json"]);
    expect(plan.code).toBe(2);
    const report = JSON.parse(plan.stdout) as {
      manifests: { actions: { kind: string }[] }[];
      awsCalls: { mutating: number };
    };
    expect(report.manifests[0]?.actions.map((action) => action.kind)).toEqual([
      "createPolicy",
      "createRole",
      "attachRolePolicy",
      "createInstanceProfile",
      "addRoleToInstanceProfile",
      "associateInstanceProfile",
    ]);
    expect(report.awsCalls.mutating).toBe(0);
  });

  it("applies them: DevS3ReadAccess on DEV_ROLE, DEV_ROLE in DEV_PROFILE, DEV_PROFILE on the instance", async () => {
    const apply = await runCliOnMoto(moto, ["apply", "--manifests", directory]);
    expect(apply.stderr).toBe("");
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain("✓ dev-s3-read: create policy DevS3ReadAccess");

    const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: "DEV_ROLE" }));
    expect(attached.AttachedPolicies?.map((policy) => policy.PolicyName)).toEqual(["DevS3ReadAccess"]);
    const policyArn = attached.AttachedPolicies?.[0]?.PolicyArn ?? "";
    expect(policyArn).toBe("arn:aws:iam::123456789012:policy/rolecall/DevS3ReadAccess");

    const policy = await iam.send(new GetPolicyCommand({ PolicyArn: policyArn }));
    const version = await iam.send(
      new GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: policy.Policy?.DefaultVersionId }),
    );
    const expected = compileS3Policy([{ bucket: "my-dev-bucket", access: "read" }], true, "aws");
    expect(policiesEqual(decodePolicyDocument(version.PolicyVersion?.Document), expected)).toBe(true);

    const role = await iam.send(new GetRoleCommand({ RoleName: "DEV_ROLE" }));
    expect(decodePolicyDocument(role.Role?.AssumeRolePolicyDocument)).toEqual({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
    const ownership = {
      "rolecall.dev/managed-by": "rolecall",
      "rolecall.dev/manifest": "dev-s3-read",
      "rolecall.dev/deletion-policy": "delete",
    };
    for (const tags of [policy.Policy?.Tags, role.Role?.Tags]) {
      expect(Object.fromEntries((tags ?? []).map((tag) => [tag.Key, tag.Value]))).toEqual(ownership);
    }

    const profile = await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: "DEV_PROFILE" }));
    expect(profile.InstanceProfile?.Roles?.map((held) => held.RoleName)).toEqual(["DEV_ROLE"]);
    expect(
      Object.fromEntries((profile.InstanceProfile?.Tags ?? []).map((tag) => [tag.Key, tag.Value])),
    ).toEqual(ownership);

    const associations = await ec2.send(
      new DescribeIamInstanceProfileAssociationsCommand({
        Filters: [{ Name: "instance-id", Values: [instanceId] }],
      }),
    );
    expect(
      associations.IamInstanceProfileAssociations?.map((association) => association.IamInstanceProfile?.Arn),
    ).toEqual([profile.InstanceProfile?.Arn]);
    const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    expect(described.Reservations?.[0]?.Instances?.[0]?.IamInstanceProfile?.Arn).toBe(
      profile.InstanceProfile?.Arn,
    );
  });

  it("makes no mutating call when applied again, and plans nothing", async () => {
    const again = await runCliOnMoto(moto, ["apply", "--manifests", directory, "--output", "json"]);
    expect(again.code).toBe(0);
    const report = JSON.parse(again.stdout) as {
      awsCalls: { mutating: number; byOperation: Record<string, number> };
    };
    expect(report.awsCalls.mutating).toBe(0);
    expect(Object.keys(report.awsCalls.byOperation).sort()).toEqual([
      "ec2:DescribeIamInstanceProfileAssociations",
      "ec2:DescribeInstances",
      "iam:GetAccountAuthorizationDetails",
      "iam:ListInstanceProfiles",
    ]);
    const plan = await runCliOnMoto(moto, ["plan", "--manifests", directory]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain("dev-s3-read (enforce): in sync");
  });
});
