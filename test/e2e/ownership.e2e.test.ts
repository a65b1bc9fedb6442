import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { AssociateIamInstanceProfileCommand, StopInstancesCommand } from "@aws-sdk/client-ec2";
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  GetInstanceProfileCommand,
  GetPolicyCommand,
  GetRoleCommand,
} from "@aws-sdk/client-iam";
import { beforeEach, describe, expect, it } from "vitest";
import { ec2TrustPolicy } from "../../src/desired/policy-document.js";
import { compileS3Policy } from "../../src/desired/s3-policy.js";
import { compositeName } from "../../src/desired/composite.js";
import { policiesEqual } from "../../src/plan/policy-equality.js";
import { repoRoot } from "../support/cli.js";
import {
  applyAll,
  attachedPolicyNames,
  defaultDocument,
  expectPlan,
  expectSettled,
  found,
  issueCodes,
  profileRoleNames,
  profilesByInstance,
  resultFor,
  tagMap,
  trustPolicy,
  writeManifest,
  type ManifestSpec,
} from "../support/drift-kit.js";
import { launchInstances } from "../support/moto.js";
import { loadDir, pass, runCliOnMoto } from "../support/moto-engine.js";
import { motoWorld } from "../support/moto-world.js";

const ownership = (manifest: string, deletionPolicy = "delete") => ({
  "rolecall.dev/managed-by": "rolecall",
  "rolecall.dev/manifest": manifest,
  "rolecall.dev/deletion-policy": deletionPolicy,
});

/** Who owns what: foreign profiles on selected instances, adoption, manifests competing, invalid files. */
describe("ownership and conflicts against moto_server", () => {
  const world = motoWorld("ownership");

  /** A profile (with a role) that someone else made, as IAM consoles do: no rolecall tags, path "/". */
  async function foreignProfile(name: string): Promise<void> {
    await world.iam.send(
      new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: JSON.stringify(ec2TrustPolicy()) }),
    );
    await world.iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: name }));
    await world.iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: name, RoleName: name }));
  }

  async function associate(instanceId: string, profileName: string): Promise<void> {
    await world.ec2.send(
      new AssociateIamInstanceProfileCommand({
        InstanceId: instanceId,
        IamInstanceProfile: { Name: profileName },
      }),
    );
  }

  describe("a selected instance holding a profile rolecall does not own", () => {
    const workers: ManifestSpec = { name: "workers", matchTags: { Role: "worker" } };
    let running: string;
    let stopped: string;
    let fresh: string;

    beforeEach(async () => {
      await foreignProfile("legacy");
      [running = "", stopped = "", fresh = ""] = await launchInstances(world.ec2, { Role: "worker" }, 3);
      await associate(running, "legacy");
      await associate(stopped, "legacy");
      await world.ec2.send(new StopInstancesCommand({ InstanceIds: [stopped] }));
    });

    it("onConflict skip: left as it is with a warning; apply exits 0", async () => {
      await writeManifest(world.directory, { ...workers, onConflict: "skip" });
      const planned = await expectPlan(world.engine, world.calls, world.directory, {
        workers: [
          { kind: "createPolicy", resource: "policy/rolecall-workers", field: "exists" },
          { kind: "createRole", resource: "role/rolecall-workers", field: "exists" },
          { kind: "attachRolePolicy", resource: "role/rolecall-workers", field: "attachedPolicies" },
          { kind: "createInstanceProfile", resource: "instance-profile/rolecall-workers", field: "exists" },
          { kind: "addRoleToInstanceProfile", resource: "instance-profile/rolecall-workers", field: "roles" },
          { kind: "associateInstanceProfile", resource: `instance/${fresh}`, field: "association" },
        ],
      });
      expect(issueCodes(planned, "workers")).toEqual([
        { code: "ForeignInstanceProfile", resource: `instance/${running}` },
        { code: "ForeignInstanceProfile", resource: `instance/${stopped}` },
      ]);
      expect(resultFor(planned, "workers").plan.issues.every((issue) => issue.severity === "warning")).toBe(
        true,
      );

      const apply = await runCliOnMoto(world.moto, ["apply", "--manifests", world.directory]);
      expect(apply.code).toBe(0);
      expect(apply.stdout).toContain(`? workers: instance ${running} holds instance profile legacy`);
      expect(apply.stdout).toContain("1 of 1 manifest(s) converged");
      expect(await profilesByInstance(world.ec2)).toEqual({
        [running]: "legacy",
        [stopped]: "legacy",
        [fresh]: "rolecall-workers",
      });
      await expectSettled(world.engine, world.calls, world.directory);
    });

    it("onConflict replace: a running instance's association is replaced; a stopped one is disassociated, then associated", async () => {
      await writeManifest(world.directory, { ...workers, onConflict: "replace" });
      const applied = await applyAll(world.engine, world.calls, world.directory);
      expect(
        resultFor(applied, "workers")
          .outcomes.slice(-4)
          .map((outcome) => outcome.action.kind),
      ).toEqual([
        "replaceInstanceProfileAssociation",
        "disassociateInstanceProfile",
        "associateInstanceProfile",
        "associateInstanceProfile",
      ]);
      await expectSettled(world.engine, world.calls, world.directory);
      expect(await profilesByInstance(world.ec2)).toEqual({
        [running]: "rolecall-workers",
        [stopped]: "rolecall-workers",
        [fresh]: "rolecall-workers",
      });
    });

    it("onConflict replace, planned on an existing chain: replace for running, disassociate + associate for stopped", async () => {
      await writeManifest(world.directory, { ...workers, onConflict: "skip" });
      await applyAll(world.engine, world.calls, world.directory);
      await writeManifest(world.directory, { ...workers, onConflict: "replace" });
      await expectPlan(world.engine, world.calls, world.directory, {
        workers: [
          {
            kind: "replaceInstanceProfileAssociation",
            resource: `instance/${running}`,
            field: "association",
          },
          { kind: "disassociateInstanceProfile", resource: `instance/${stopped}`, field: "association" },
          { kind: "associateInstanceProfile", resource: `instance/${stopped}`, field: "association" },
        ],
      });
      const applied = await applyAll(world.engine, world.calls, world.directory);
      expect(world.calls.byOperation()).toMatchObject({
        "ec2:ReplaceIamInstanceProfileAssociation": 1,
        "ec2:DisassociateIamInstanceProfile": 1,
        "ec2:AssociateIamInstanceProfile": 1,
      });
      expect(resultFor(applied, "workers").status).toBe("converged");
      expect(await profilesByInstance(world.ec2)).toEqual({
        [running]: "rolecall-workers",
        [stopped]: "rolecall-workers",
        [fresh]: "rolecall-workers",
      });
      await expectSettled(world.engine, world.calls, world.directory);
      // The foreign profile is not rolecall's to remove.
      expect(
        await found(() => world.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: "legacy" }))),
      ).toBe(true);
    });
  });

  describe("adoption of IAM resources that exist without rolecall's tags", () => {
    let instanceId: string;
    let legacyPolicyArn: string;

    beforeEach(async () => {
      [instanceId = ""] = await launchInstances(world.ec2, { Name: "dev-box" });
      const seed = await readFile(path.join(repoRoot, "manifests", "dev-s3-read.yaml"), "utf8");
      await writeFile(
        path.join(world.directory, "dev-s3-read.yaml"),
        seed.replaceAll("i-070823c5d33601d4f", instanceId),
      );
      const created = await world.iam.send(
        new CreatePolicyCommand({
          PolicyName: "DevS3ReadAccess",
          Path: "/legacy/",
          PolicyDocument: JSON.stringify(
            compileS3Policy([{ bucket: "old-bucket", access: "read" }], false, "aws"),
          ),
        }),
      );
      legacyPolicyArn = created.Policy?.Arn ?? "";
      await world.iam.send(
        new CreateRoleCommand({
          RoleName: "DEV_ROLE",
          Path: "/legacy/",
          AssumeRolePolicyDocument: JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
            ],
          }),
        }),
      );
      await world.iam.send(
        new CreateInstanceProfileCommand({ InstanceProfileName: "DEV_PROFILE", Path: "/legacy/" }),
      );
    });

    it("without adopt: the manifest fails naming each resource, and nothing is changed (apply exit 1)", async () => {
      const planned = await expectPlan(world.engine, world.calls, world.directory, {});
      expect(issueCodes(planned, "dev-s3-read")).toEqual([
        { code: "NotOwned", resource: "policy/DevS3ReadAccess" },
        { code: "NotOwned", resource: "role/DEV_ROLE" },
        { code: "NotOwned", resource: "instance-profile/DEV_PROFILE" },
      ]);

      const apply = await runCliOnMoto(world.moto, ["apply", "--manifests", world.directory]);
      expect(apply.code).toBe(1);
      for (const resource of ["policy/DevS3ReadAccess", "role/DEV_ROLE", "instance-profile/DEV_PROFILE"])
        expect(apply.stdout).toContain(`! dev-s3-read: ${resource} exists and is not managed by rolecall`);
      expect(apply.stdout).toContain("spec.adopt: true");
      expect(apply.stdout).toMatch(/AWS calls: \d+ \(0 mutating\)/);

      expect((await world.iam.send(new GetRoleCommand({ RoleName: "DEV_ROLE" }))).Role?.Tags ?? []).toEqual(
        [],
      );
      expect(await attachedPolicyNames(world.iam, "DEV_ROLE")).toEqual([]);
      expect(await profilesByInstance(world.ec2)).toEqual({});
    });

    it("only one resource taken: the manifest still changes nothing else", async () => {
      // A fresh name for the policy and profile; only the role's name is taken.
      const seed = await readFile(path.join(world.directory, "dev-s3-read.yaml"), "utf8");
      await writeFile(
        path.join(world.directory, "dev-s3-read.yaml"),
        seed
          .replace("policyName: DevS3ReadAccess", "policyName: DevS3ReadAccess2")
          .replace("instanceProfileName: DEV_PROFILE", "instanceProfileName: DEV_PROFILE2"),
      );
      world.calls.reset();
      const applied = await pass(world.engine, world.directory, false);
      expect(world.calls.mutating()).toBe(0);
      const result = resultFor(applied, "dev-s3-read");
      expect(result.status).toBe("failed");
      expect(issueCodes(applied, "dev-s3-read")).toEqual([{ code: "NotOwned", resource: "role/DEV_ROLE" }]);
      expect(
        await found(() =>
          world.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: "DEV_PROFILE2" })),
        ),
      ).toBe(false);
    });

    it("with adopt: true: tagged and managed, keeps its IAM path, then converges and stays settled", async () => {
      const seed = await readFile(path.join(world.directory, "dev-s3-read.yaml"), "utf8");
      await writeFile(
        path.join(world.directory, "dev-s3-read.yaml"),
        seed.replace("  iam:\n", "  adopt: true\n  iam:\n"),
      );
      await expectPlan(world.engine, world.calls, world.directory, {
        "dev-s3-read": [
          { kind: "tagPolicy", resource: "policy/DevS3ReadAccess", field: "tags" },
          { kind: "createPolicyVersion", resource: "policy/DevS3ReadAccess", field: "document" },
          { kind: "tagRole", resource: "role/DEV_ROLE", field: "tags" },
          { kind: "updateAssumeRolePolicy", resource: "role/DEV_ROLE", field: "trustPolicy" },
          { kind: "attachRolePolicy", resource: "role/DEV_ROLE", field: "attachedPolicies" },
          { kind: "tagInstanceProfile", resource: "instance-profile/DEV_PROFILE", field: "tags" },
          { kind: "addRoleToInstanceProfile", resource: "instance-profile/DEV_PROFILE", field: "roles" },
          { kind: "associateInstanceProfile", resource: `instance/${instanceId}`, field: "association" },
        ],
      });
      await applyAll(world.engine, world.calls, world.directory);
      await expectSettled(world.engine, world.calls, world.directory);

      // Kept outside rolecall's path, each also records which rolecall (by IAM path) took it over.
      const adopted = { ...ownership("dev-s3-read"), "rolecall.dev/iam-path": "/rolecall/" };
      const policy = (await world.iam.send(new GetPolicyCommand({ PolicyArn: legacyPolicyArn }))).Policy;
      expect(policy?.Path).toBe("/legacy/");
      expect(tagMap(policy?.Tags)).toEqual(adopted);
      const expected = compileS3Policy([{ bucket: "my-dev-bucket", access: "read" }], true, "aws");
      expect(policiesEqual(await defaultDocument(world.iam, legacyPolicyArn), expected)).toBe(true);

      const role = (await world.iam.send(new GetRoleCommand({ RoleName: "DEV_ROLE" }))).Role;
      expect(role?.Path).toBe("/legacy/");
      expect(tagMap(role?.Tags)).toEqual(adopted);
      expect(policiesEqual(await trustPolicy(world.iam, "DEV_ROLE"), ec2TrustPolicy())).toBe(true);
      expect(await attachedPolicyNames(world.iam, "DEV_ROLE")).toEqual(["DevS3ReadAccess"]);

      const profile = (
        await world.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: "DEV_PROFILE" }))
      ).InstanceProfile;
      expect(profile?.Path).toBe("/legacy/");
      expect(tagMap(profile?.Tags)).toEqual(adopted);
      expect(await profileRoleNames(world.iam, "DEV_PROFILE")).toEqual(["DEV_ROLE"]);
      expect(await profilesByInstance(world.ec2)).toEqual({ [instanceId]: "DEV_PROFILE" });

      // Adopted for good: dropping adopt does not make it foreign again.
      await writeFile(path.join(world.directory, "dev-s3-read.yaml"), seed);
      await expectSettled(world.engine, world.calls, world.directory);
    });
  });

  describe("two manifests selecting the same instance", () => {
    it("it moves to their composite in one replace, apply exits 0, and nothing is left to do", async () => {
      const [shared = "", onlyA = ""] = await launchInstances(world.ec2, { Team: "a" }, 2);
      await writeManifest(world.directory, { name: "team-a", matchTags: { Team: "a" } });
      await applyAll(world.engine, world.calls, world.directory);
      await writeManifest(world.directory, { name: "by-id", instanceIds: [shared] });
      const composite = compositeName(["by-id", "team-a"], "/rolecall/");
      const planned = await pass(world.engine, world.directory, true);
      for (const name of ["team-a", "by-id"]) {
        expect(issueCodes(planned, name)).toEqual([]);
        expect(resultFor(planned, name).status).toBe("pending");
      }
      expect(planned.composites.map((result) => result.plan.actions.map((action) => action.kind))).toEqual([
        [
          "createRole",
          "attachRolePolicy",
          "attachRolePolicy",
          "createInstanceProfile",
          "addRoleToInstanceProfile",
          "replaceInstanceProfileAssociation",
        ],
      ]);

      const apply = await runCliOnMoto(world.moto, ["apply", "--manifests", world.directory]);
      expect(apply.code, apply.stdout + apply.stderr).toBe(0);
      expect(await profilesByInstance(world.ec2)).toEqual({
        [shared]: composite,
        [onlyA]: "rolecall-team-a",
      });
      expect((await attachedPolicyNames(world.iam, composite)).sort()).toEqual([
        "rolecall-by-id",
        "rolecall-team-a",
      ]);
      world.calls.reset();
      await pass(world.engine, world.directory, false);
      expect(world.calls.mutating()).toBe(0);
    });
  });

  describe("two manifests naming the same IAM resource", () => {
    it("both are rejected, and neither creates anything", async () => {
      const [box = ""] = await launchInstances(world.ec2, {});
      await writeManifest(world.directory, {
        name: "first",
        instanceIds: [box],
        iam: { roleName: "SharedRole" },
      });
      await writeManifest(world.directory, {
        name: "second",
        matchTags: { Team: "x" },
        iam: { roleName: "sharedrole" },
      });
      await writeManifest(world.directory, { name: "bystander", matchTags: { Team: "y" } });
      const set = await loadDir(world.directory);
      expect(set.errors.map((error) => path.basename(error.file)).sort()).toEqual([
        "first.yaml",
        "second.yaml",
      ]);
      expect(set.errors.every((error) => error.message.includes("role"))).toBe(true);

      const applied = await applyAll(world.engine, world.calls, world.directory);
      expect(applied.results.map((result) => result.manifest)).toEqual(["bystander"]);
      expect(await found(() => world.iam.send(new GetRoleCommand({ RoleName: "SharedRole" })))).toBe(false);
      expect(await found(() => world.iam.send(new GetRoleCommand({ RoleName: "rolecall-bystander" })))).toBe(
        true,
      );
      expect(await profilesByInstance(world.ec2)).toEqual({});
    });
  });

  describe("an invalid manifest file next to valid ones", () => {
    it("the valid ones are applied, nothing of the invalid one's name is deleted, and apply exits 1", async () => {
      const [boxA = "", boxB = ""] = await launchInstances(world.ec2, {}, 2);
      const alpha: ManifestSpec = { name: "alpha", instanceIds: [boxA] };
      const beta: ManifestSpec = { name: "beta", instanceIds: [boxB] };
      await writeManifest(world.directory, alpha);
      await writeManifest(world.directory, beta);
      await applyAll(world.engine, world.calls, world.directory);

      // beta becomes invalid (a misspelt field), and alpha changes at the same time.
      await writeFile(
        path.join(world.directory, "beta.yaml"),
        (await readFile(path.join(world.directory, "beta.yaml"), "utf8")).replace("grants:", "grantz:"),
      );
      await writeManifest(world.directory, {
        ...alpha,
        grants: [{ bucket: "alpha-bucket", access: "read-write" }],
      });
      await expectPlan(world.engine, world.calls, world.directory, {
        alpha: [{ kind: "createPolicyVersion", resource: "policy/rolecall-alpha", field: "document" }],
      });

      const apply = await runCliOnMoto(world.moto, ["apply", "--manifests", world.directory, "-o", "json"]);
      expect(apply.code).toBe(1);
      const report = JSON.parse(apply.stdout) as {
        manifests: { name: string; status: string; actions: { kind: string; status: string }[] }[];
        invalid: { file: string; code: string }[];
      };
      expect(report.invalid.map((error) => [path.basename(error.file), error.code])).toContainEqual([
        "beta.yaml",
        "SchemaViolation",
      ]);
      expect(report.manifests.map((entry) => [entry.name, entry.status])).toEqual([["alpha", "converged"]]);
      expect(report.manifests[0]?.actions).toEqual([
        expect.objectContaining({ kind: "createPolicyVersion", status: "done" }),
      ]);
      const expected = compileS3Policy([{ bucket: "alpha-bucket", access: "read-write" }], false, "aws");
      expect(
        policiesEqual(
          await defaultDocument(world.iam, "arn:aws:iam::123456789012:policy/rolecall/rolecall-alpha"),
          expected,
        ),
      ).toBe(true);

      // Everything of beta is still there and still on its instance.
      expect(await attachedPolicyNames(world.iam, "rolecall-beta")).toEqual(["rolecall-beta"]);
      expect(await profileRoleNames(world.iam, "rolecall-beta")).toEqual(["rolecall-beta"]);
      expect(await profilesByInstance(world.ec2)).toEqual({
        [boxA]: "rolecall-alpha",
        [boxB]: "rolecall-beta",
      });
    });
  });
});
