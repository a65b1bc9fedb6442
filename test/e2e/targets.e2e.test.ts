import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { GetRoleCommand } from "@aws-sdk/client-iam";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { found, manifestYaml, profilesByInstance } from "../support/drift-kit.js";
import { clientsInAccount } from "../support/moto-accounts.js";
import { launchInstances, motoClients, startMoto, type Moto } from "../support/moto.js";
import { runCliOnMoto } from "../support/moto-engine.js";
import { tempDirs } from "../support/temp-dir.js";

const prodAccount = "111111111111";
const devAccount = "222222222222";

interface TargetSection {
  name: string;
  status: string;
  error?: { code: string; message: string };
  manifests: { name: string; status: string }[];
  pruneSuspended: string | null;
  awsCalls: { total: number; mutating: number; byOperation: Record<string, number> };
}
interface RunJson {
  manifests: { target: string; name: string; status: string }[];
  awsCalls: { mutating: number };
  targets: TargetSection[];
}

/** Two targets in two accounts (one of them in two regions) and one whose credentials are for the wrong account. */
describe("targets: many accounts and regions against moto_server", () => {
  let moto: Moto;
  let root: string;
  let targetsFile: string;
  const dirs = tempDirs("targets");
  const instances: Partial<Record<string, string>> = {};
  type Clients = Awaited<ReturnType<typeof clientsInAccount>>;
  let prodUs: Clients;
  let prodEu: Clients;
  let dev: Clients;

  const apply = async () => {
    const run = await runCliOnMoto(moto, [
      "apply",
      "--manifests",
      root,
      "--targets",
      targetsFile,
      "--output",
      "json",
    ]);
    return { code: run.code, json: JSON.parse(run.stdout) as RunJson, stderr: run.stderr };
  };
  const section = (json: RunJson, name: string) => json.targets.find((target) => target.name === name);

  beforeAll(async () => {
    moto = await startMoto();
    root = await dirs.make();
    [prodUs, prodEu, dev] = await Promise.all([
      clientsInAccount(moto, prodAccount, "us-east-1"),
      clientsInAccount(moto, prodAccount, "eu-west-1"),
      clientsInAccount(moto, devAccount, "us-east-1"),
    ]);
    [instances.prodUs] = await launchInstances(prodUs.ec2, { app: "web" });
    [instances.prodEu] = await launchInstances(prodEu.ec2, { app: "web" });
    [instances.prodKeep] = await launchInstances(prodUs.ec2, { app: "keep" });
    [instances.devApi] = await launchInstances(dev.ec2, { app: "api" });
    [instances.devWeb] = await launchInstances(dev.ec2, { app: "web" });
    // rolecall's own account: a web instance no target manages.
    [instances.own] = await launchInstances(motoClients(moto).ec2, { app: "web" });
    targetsFile = path.join(root, "..", `${path.basename(root)}-targets.yaml`);
    await writeFile(
      targetsFile,
      stringify({
        apiVersion: "rolecall.dev/v1alpha1",
        kind: "Targets",
        targets: [
          {
            name: "prod",
            manifests: "prod",
            account: prodAccount,
            roleArn: `arn:aws:iam::${prodAccount}:role/rolecall-controller`,
            externalId: "prod-ext",
            regions: ["us-east-1", "eu-west-1"],
          },
          {
            name: "dev",
            manifests: "dev/",
            account: devAccount,
            roleArn: `arn:aws:iam::${devAccount}:role/rolecall-controller`,
            regions: ["us-east-1"],
          },
          {
            name: "broken",
            manifests: "broken",
            account: "333333333333",
            roleArn: "arn:aws:iam::444444444444:role/rolecall-controller",
            regions: ["us-east-1"],
          },
        ],
      }),
    );
    for (const dir of ["prod", "dev", "broken"]) await mkdir(path.join(root, dir));
    await writeFile(
      path.join(root, "prod", "web.yaml"),
      manifestYaml({ name: "web", matchTags: { app: "web" } }),
    );
    await writeFile(
      path.join(root, "prod", "keep.yaml"),
      manifestYaml({ name: "keep", matchTags: { app: "keep" } }),
    );
    await writeFile(
      path.join(root, "dev", "api.yaml"),
      manifestYaml({ name: "api", matchTags: { app: "api" } }),
    );
    await writeFile(
      path.join(root, "broken", "x.yaml"),
      manifestYaml({ name: "x", matchTags: { app: "web" } }),
    );
  }, 60_000);

  afterAll(async () => {
    await moto.stop();
    await dirs.cleanup();
  });

  it("converges each target's own instances and IAM, across its regions, and reports the unreachable one", async () => {
    const { code, json } = await apply();
    expect(code).toBe(1);
    expect(section(json, "broken")).toMatchObject({
      status: "unavailable",
      error: { code: "AccountMismatch" },
    });
    expect(section(json, "broken")?.error?.message).toContain("444444444444, not the declared 333333333333");
    expect(json.manifests.map((manifest) => [manifest.target, manifest.name, manifest.status])).toEqual([
      ["prod", "keep", "converged"],
      ["prod", "web", "converged"],
      ["dev", "api", "converged"],
    ]);
    expect(await profilesByInstance(prodUs.ec2)).toEqual({
      [instances.prodUs ?? ""]: "rolecall-web",
      [instances.prodKeep ?? ""]: "rolecall-keep",
    });
    expect(await profilesByInstance(prodEu.ec2)).toEqual({ [instances.prodEu ?? ""]: "rolecall-web" });
    expect(await profilesByInstance(dev.ec2)).toEqual({ [instances.devApi ?? ""]: "rolecall-api" });
    expect(await profilesByInstance(motoClients(moto).ec2)).toEqual({});
    expect(await found(() => dev.iam.send(new GetRoleCommand({ RoleName: "rolecall-web" })))).toBe(false);
    expect(
      await found(() => motoClients(moto).iam.send(new GetRoleCommand({ RoleName: "rolecall-api" }))),
    ).toBe(false);
  }, 60_000);

  it("a second apply changes nothing, with the same few reads per account and per region", async () => {
    const { json } = await apply();
    expect(json.awsCalls.mutating).toBe(0);
    const prod = section(json, "prod")?.awsCalls.byOperation ?? {};
    const devCalls = section(json, "dev")?.awsCalls.byOperation ?? {};
    const iamReads = (calls: Record<string, number>) =>
      Object.entries(calls).filter(([operation]) => operation.startsWith("iam:"));
    const ec2Reads = (calls: Record<string, number>) =>
      Object.entries(calls).filter(([operation]) => operation.startsWith("ec2:"));
    // One account each: the same IAM reads (GetAccountAuthorizationDetails, ListInstanceProfiles).
    expect(iamReads(prod)).toEqual(iamReads(devCalls));
    // Each EC2 read once per region: prod has two regions, dev one.
    expect(ec2Reads(prod)).toEqual(ec2Reads(devCalls).map(([operation, count]) => [operation, count * 2]));
    expect(section(json, "prod")?.awsCalls.total).toBeLessThanOrEqual(8);
  }, 60_000);

  it("moving a manifest to another target's directory moves the access between accounts", async () => {
    await rename(path.join(root, "prod", "web.yaml"), path.join(root, "dev", "web.yaml"));
    const { json } = await apply();
    expect(section(json, "prod")?.pruneSuspended).toBeNull();
    expect(await profilesByInstance(dev.ec2)).toEqual({
      [instances.devApi ?? ""]: "rolecall-api",
      [instances.devWeb ?? ""]: "rolecall-web",
    });
    expect(await profilesByInstance(prodUs.ec2)).toEqual({ [instances.prodKeep ?? ""]: "rolecall-keep" });
    expect(await profilesByInstance(prodEu.ec2)).toEqual({});
    expect(await found(() => prodUs.iam.send(new GetRoleCommand({ RoleName: "rolecall-web" })))).toBe(false);
    expect(await found(() => dev.iam.send(new GetRoleCommand({ RoleName: "rolecall-web" })))).toBe(true);
  }, 60_000);

  it("a manifest moved into an unreachable target is not removed from its old one", async () => {
    await rename(path.join(root, "dev", "api.yaml"), path.join(root, "broken", "api.yaml"));
    const { code, json } = await apply();
    expect(code).toBe(1);
    expect(json.awsCalls.mutating).toBe(0);
    expect(await profilesByInstance(dev.ec2)).toMatchObject({ [instances.devApi ?? ""]: "rolecall-api" });
    expect(await found(() => dev.iam.send(new GetRoleCommand({ RoleName: "rolecall-api" })))).toBe(true);
    await rename(path.join(root, "broken", "api.yaml"), path.join(root, "dev", "api.yaml"));
  }, 60_000);

  it("explain finds an instance in the target and region that hold it", async () => {
    const explain = await runCliOnMoto(moto, [
      "explain",
      "--instance",
      instances.devWeb ?? "",
      "--manifests",
      root,
      "--targets",
      targetsFile,
      "--output",
      "json",
    ]);
    // Not in prod's regions: explained in dev, where web now is. The unreachable target makes the exit status 1.
    expect(explain.code).toBe(1);
    expect(JSON.parse(explain.stdout)).toMatchObject({
      target: "dev",
      instance: instances.devWeb,
      manifests: [{ name: "web", mode: "enforce" }],
      profile: { held: "rolecall-web", wanted: "rolecall-web" },
    });
  }, 60_000);

  it("a file outside every target's directory is an error and holds back every removal", async () => {
    await writeFile(
      path.join(root, "stray.yaml"),
      manifestYaml({ name: "stray", matchTags: { app: "none" } }),
    );
    await rename(path.join(root, "prod", "keep.yaml"), path.join(root, "keep.yaml.moved"));
    const run = await runCliOnMoto(moto, ["plan", "--manifests", root, "--targets", targetsFile]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/invalid: .*stray\.yaml:1:1: file is in no target's directory/);
    expect(run.stdout).toContain("target prod (account 111111111111; us-east-1, eu-west-1)");
    expect(run.stdout).toMatch(/removal held back/);
    expect(run.stdout).toContain("target broken (account 333333333333; us-east-1)\n  unavailable:");
  }, 60_000);
});
