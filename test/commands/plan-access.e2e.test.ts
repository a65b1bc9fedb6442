// `rolecall plan` on moto after a grant change: the text names the actions gained, per resource, and holds no JSON;
// --output json keeps both documents whole; the SDK's Node.js warning is replaced by one line of rolecall's own.
import { execFile } from "node:child_process";
import { CreatePolicyVersionCommand, type IAMClient } from "@aws-sdk/client-iam";
import type { EC2Client } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileS3Policy } from "../../src/desired/s3-policy.js";
import { policiesEqual } from "../../src/plan/policy-equality.js";
import { writeManifest, type ManifestSpec } from "../support/drift-kit.js";
import { launchInstances, motoClients, motoEnv, startMoto, type Moto } from "../support/moto.js";
import { cliPath, repoRoot } from "../support/cli.js";
import { runCliOnMoto } from "../support/moto-engine.js";
import { tempDirs } from "../support/temp-dir.js";

const policyArn = "arn:aws:iam::123456789012:policy/rolecall/rolecall-dev-read";
const writeGrant = [{ bucket: "my-bucket", access: "write" as const, prefixes: ["in/"] }];
const readWriteGrant = [{ bucket: "my-bucket", access: "read-write" as const, prefixes: ["in/"] }];

/** Anything that looks like JSON text: an object or list opening on a quoted key, or an escaped quote. */
const jsonText = /[{[]\s*"|\\"/;

interface PlanJson {
  manifests: {
    name: string;
    actions: {
      kind: string;
      desired: unknown;
      actual: unknown;
      access?: { added: unknown[]; removed: unknown[] };
    }[];
  }[];
}

describe("rolecall plan in access terms, on moto", () => {
  let moto: Moto;
  let iam: IAMClient;
  let ec2: EC2Client;
  let directory: string;
  let instances: string[];
  const dirs = tempDirs("plan-access");
  const spec = (grants: NonNullable<ManifestSpec["grants"]>, ids = instances.slice(0, 1)): ManifestSpec => ({
    name: "dev-read",
    instanceIds: ids,
    grants,
  });
  const plan = (...extra: string[]) => runCliOnMoto(moto, ["plan", "--manifests", directory, ...extra]);

  beforeAll(async () => {
    moto = await startMoto();
    ({ iam, ec2 } = motoClients(moto));
    instances = [...(await launchInstances(ec2, {})), ...(await launchInstances(ec2, {}))];
    directory = await dirs.make();
    await writeManifest(directory, spec(writeGrant));
    const applied = await runCliOnMoto(moto, ["apply", "--manifests", directory]);
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
  });

  afterAll(async () => {
    await moto.stop();
    await dirs.cleanup();
  });

  it("write → read-write: exit 2, and the text names s3:GetObject and s3:DeleteObject gained on the prefix", async () => {
    await writeManifest(directory, spec(readWriteGrant));
    const result = await plan();
    expect(result.code).toBe(2);
    const lines = result.stdout.split("\n");
    expect(lines).toContain("  + set new default version of policy rolecall-dev-read");
    expect(lines).toContain(
      "      policy/rolecall-dev-read document: the live default version → the compiled document",
    );
    expect(lines).toContain(
      "        + s3:DeleteObject, s3:GetObject, s3:GetObjectVersion on arn:aws:s3:::my-bucket/in/*",
    );
    expect(lines).toContain(
      '        + s3:ListBucket on arn:aws:s3:::my-bucket when s3:prefix StringLike "in/" or "in/*"',
    );
    expect(lines.filter((line) => line.startsWith("        - "))).toEqual([]);
    expect(result.stdout).not.toMatch(jsonText);
    expect(result.stdout).not.toContain("…");
  });

  it("--output json keeps the live and the compiled document whole, as objects, with the access diff", async () => {
    const result = await plan("--output", "json");
    expect(result.code).toBe(2);
    const report = JSON.parse(result.stdout) as PlanJson;
    const action = report.manifests[0]?.actions.find((candidate) => candidate.kind === "createPolicyVersion");
    expect(policiesEqual(action?.actual, compileS3Policy(writeGrant, false, "aws"))).toBe(true);
    expect(action?.desired).toEqual(compileS3Policy(readWriteGrant, false, "aws"));
    expect(action?.access?.added).toContainEqual({
      resource: "arn:aws:s3:::my-bucket/in/*",
      actions: ["s3:DeleteObject", "s3:GetObject", "s3:GetObjectVersion"],
      condition: null,
    });
    expect(action?.access?.removed).toEqual([]);
  });

  it("a document edited by hand: the drift's additions are shown as lost, and a new instance's gain is named", async () => {
    await runCliOnMoto(moto, ["apply", "--manifests", directory]);
    await iam.send(
      new CreatePolicyVersionCommand({
        PolicyArn: policyArn,
        SetAsDefault: true,
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Action: "s3:getobject", Resource: "arn:aws:s3:::my-bucket/in/*" },
            { Effect: "Allow", Action: ["s3:*"], Resource: "*" },
          ],
        }),
      }),
    );
    await writeManifest(directory, spec(readWriteGrant, instances));
    const result = await plan();
    expect(result.code).toBe(2);
    const lines = result.stdout.split("\n");
    expect(lines).toContain("        - s3:* on *");
    // s3:getobject by hand is s3:GetObject: kept, so neither gained nor lost.
    expect(lines).toContain(
      "        + s3:AbortMultipartUpload, s3:DeleteObject, s3:GetObjectVersion, s3:ListMultipartUploadParts, s3:PutObject on arn:aws:s3:::my-bucket/in/*",
    );
    expect(lines).toContain(`        ${instances[1]} gains read-write on my-bucket/in/ (via dev-read)`);
    expect(result.stdout).not.toMatch(jsonText);
  });

  it("a policy compiled before the listAllBuckets fix: one new version, moving s3:ListAllMyBuckets to *", async () => {
    await writeManifest(directory, { ...spec(readWriteGrant, instances), listAllBuckets: true });
    await runCliOnMoto(moto, ["apply", "--manifests", directory]);
    // What earlier releases wrote: both console actions in one statement on arn:aws:s3:::*.
    const current = compileS3Policy(readWriteGrant, true, "aws");
    const before = {
      ...current,
      Statement: [
        {
          Sid: "AllowUserToSeeBucketListInTheConsole",
          Effect: "Allow",
          Action: ["s3:GetBucketLocation", "s3:ListAllMyBuckets"],
          Resource: ["arn:aws:s3:::*"],
        },
        ...current.Statement.slice(2),
      ],
    };
    await iam.send(
      new CreatePolicyVersionCommand({
        PolicyArn: policyArn,
        SetAsDefault: true,
        PolicyDocument: JSON.stringify(before),
      }),
    );
    const json = await plan("--output", "json");
    const kinds = (JSON.parse(json.stdout) as PlanJson).manifests[0]?.actions.map((action) => action.kind);
    expect(kinds?.filter((kind) => kind !== "deletePolicyVersion")).toEqual(["createPolicyVersion"]);
    const text = (await plan()).stdout.split("\n");
    expect(text.filter((line) => /^ {8}[+-] /.test(line))).toEqual([
      "        + s3:ListAllMyBuckets on *",
      "        - s3:ListAllMyBuckets on arn:aws:s3:::*",
    ]);
  });

  it("prints rolecall's one line about Node.js instead of the SDK's nine, only where Node.js is below 22", async () => {
    // The SDK's switch left unset, as on a user's machine (motoEnv sets it for the other tests).
    const { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: _switch, ...env } = motoEnv(moto);
    const stderr = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        [cliPath, "plan", "--manifests", directory],
        { cwd: repoRoot, env },
        (error, _out, err) => {
          if (error === null || typeof error.code === "number") resolve(err);
          else reject(new Error(`could not run: ${error.message}`));
        },
      );
    });
    expect(stderr).not.toContain("NodeVersionSupportWarning");
    const major = Number(process.versions.node.split(".")[0]);
    expect(stderr.split("\n").filter(Boolean)).toEqual(
      major < 22
        ? [expect.stringMatching(/^rolecall: note: Node\.js v\d+\.\d+\.\d+ is past end of life; /)]
        : [],
    );
    // The control: the same environment, an SDK client built without rolecall, prints the SDK's block.
    const bare = await new Promise<string>((resolve, reject) => {
      const script =
        'import("@aws-sdk/client-iam").then((sdk) => new sdk.IAMClient({ region: "us-east-1" }))';
      execFile(process.execPath, ["-e", script], { cwd: repoRoot, env }, (error, _out, err) => {
        if (error === null) resolve(err);
        else reject(new Error(`could not run: ${error.message}`));
      });
    });
    expect(bare.includes("NodeVersionSupportWarning")).toBe(major < 22);
    // And validate and diff, which do not build SDK clients, print no such line at all.
    const validate = await runCliOnMoto(moto, ["validate", directory], {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "false",
    });
    expect(validate.stderr).toBe("1 file(s), 1 valid manifest(s), 0 error(s)\n");
  });
});
