import { AssociateIamInstanceProfileCommand } from "@aws-sdk/client-ec2";
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  DetachRolePolicyCommand,
} from "@aws-sdk/client-iam";
import { beforeEach, describe, expect, it } from "vitest";
import { compositeName } from "../../src/desired/composite.js";
import { ec2TrustPolicy } from "../../src/desired/policy-document.js";
import { writeManifest } from "../support/drift-kit.js";
import { launchInstances } from "../support/moto.js";
import { runCliOnMoto } from "../support/moto-engine.js";
import { motoWorld } from "../support/moto-world.js";

interface Entry {
  bucket: string;
  prefix: string | null;
  access: string;
  manifests: string[];
}
interface Explained {
  instance: string;
  state: string;
  manifests: { name: string; mode: string }[];
  profile: { held: string | null; wanted: string | null; owned: boolean };
  declared: Entry[];
  effective: Entry[] | null;
}

const shape = (entries: readonly Entry[] | null) =>
  entries?.map(({ bucket, prefix, access, manifests }) => ({ bucket, prefix, access, manifests })) ?? null;

/** rolecall explain: who can reach what, declared and in effect, read from AWS; it changes nothing. */
describe("rolecall explain against moto_server", () => {
  const world = motoWorld("explain");

  beforeEach(async () => {});

  const explain = async (...args: string[]) => {
    const result = await runCliOnMoto(world.moto, ["explain", "--manifests", world.directory, ...args]);
    return { ...result, json: () => JSON.parse(result.stdout) as unknown };
  };

  async function composed() {
    const [both = ""] = await launchInstances(world.ec2, { Env: "dev", App: "etl" });
    await writeManifest(world.directory, {
      name: "dev",
      matchTags: { Env: "dev" },
      grants: [{ bucket: "dev-data", access: "read" }],
    });
    await writeManifest(world.directory, {
      name: "etl",
      matchTags: { App: "etl" },
      grants: [{ bucket: "lake", access: "read-write", prefixes: ["in/"] }],
    });
    await writeManifest(world.directory, { name: "audit", matchTags: { Env: "dev" }, mode: "observe" });
    expect((await runCliOnMoto(world.moto, ["apply", "--manifests", world.directory])).code).toBe(0);
    return both;
  }

  it("--instance on a composite: its manifests, held and wanted profile, declared and effective access", async () => {
    const both = await composed();
    const result = await explain("--instance", both, "--output", "json");
    expect(result.code, result.stderr).toBe(0);
    const explained = result.json() as Explained;
    const name = compositeName(["dev", "etl"], "/rolecall/");
    expect(explained).toMatchObject({
      instance: both,
      state: "running",
      manifests: [
        { name: "audit", mode: "observe" },
        { name: "dev", mode: "enforce" },
        { name: "etl", mode: "enforce" },
      ],
      profile: { held: name, wanted: name, owned: true },
    });
    const expected = [
      { bucket: "dev-data", prefix: null, access: "read", manifests: ["dev"] },
      { bucket: "lake", prefix: "in/", access: "read-write", manifests: ["etl"] },
    ];
    expect(shape(explained.declared)).toEqual(expected);
    expect(shape(explained.effective)).toEqual(expected);
    const text = await explain("--instance", both);
    expect(text.stdout).toContain(`should hold   ${name} (composite of dev + etl)`);
    expect(text.stdout).toContain("read-write  lake/in/");
  });

  it("drift shows in access terms: a policy detached by hand is missing from effective, not from declared", async () => {
    const both = await composed();
    const name = compositeName(["dev", "etl"], "/rolecall/");
    await world.iam.send(
      new DetachRolePolicyCommand({
        RoleName: name,
        PolicyArn: "arn:aws:iam::123456789012:policy/rolecall/rolecall-etl",
      }),
    );
    const explained = (await explain("--instance", both, "--output", "json")).json() as Explained;
    expect(shape(explained.declared)?.map((entry) => entry.bucket)).toEqual(["dev-data", "lake"]);
    expect(shape(explained.effective)?.map((entry) => entry.bucket)).toEqual(["dev-data"]);
  });

  it("a profile rolecall does not own is named, and its access is not claimed (effective null)", async () => {
    const [box = ""] = await launchInstances(world.ec2, { Team: "x" });
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
      new AssociateIamInstanceProfileCommand({ InstanceId: box, IamInstanceProfile: { Name: "HandMade" } }),
    );
    await writeManifest(world.directory, { name: "team", matchTags: { Team: "x" } });
    const explained = (await explain("--instance", box, "--output", "json")).json() as Explained;
    expect(explained.profile).toMatchObject({ held: "HandMade", wanted: "rolecall-team", owned: false });
    expect(explained.effective).toBeNull();
  });

  it("--bucket lists every instance reaching it, with how; an unknown instance exits 1", async () => {
    const both = await composed();
    const [devOnly = ""] = await launchInstances(world.ec2, { Env: "dev" });
    expect((await runCliOnMoto(world.moto, ["apply", "--manifests", world.directory])).code).toBe(0);
    const bucket = (await explain("--bucket", "dev-data", "--output", "json")).json() as {
      bucket: string;
      instances: { instance: string; manifests: string[] }[];
    };
    expect(bucket.bucket).toBe("dev-data");
    expect(bucket.instances.map((entry) => entry.instance).sort()).toEqual([both, devOnly].sort());
    expect(bucket.instances.every((entry) => entry.manifests.includes("dev"))).toBe(true);
    const lake = (await explain("--bucket", "lake", "--output", "json")).json() as {
      instances: { instance: string }[];
    };
    expect(lake.instances.map((entry) => entry.instance)).toEqual([both]);
    const unknown = await explain("--instance", "i-0123456789abcdef0");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no instance i-0123456789abcdef0");
    const usage = await explain();
    expect(usage.code).toBe(2);
  });
});
