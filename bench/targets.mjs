// npm run bench:targets: the no-change pass of `rolecall apply --targets` at 3 targets (3 accounts) × 2 regions ×
// 300 manifests each, against moto_server: calls per target (per account and per region) and time. Not part of
// npm test; numbers are reported, never asserted.
//
//   node bench/targets.mjs [--targets 3] [--manifests 300] [--instances 20] [--passes 3]
//
// Needs `npm run build` first (npm run bench:targets does it).
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { startMoto } from "../test/support/moto-server.mjs";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
const root = fileURLToPath(new URL("..", import.meta.url));
const cli = path.join(root, "dist", "cli.js");
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  return Number(index === -1 ? fallback : args[index + 1]);
};
const targetCount = option("targets", 3);
const perTarget = option("manifests", 300);
const instancesPerRegion = option("instances", 20);
const passes = option("passes", 3);
const regions = ["us-east-1", "eu-west-1"];
// moto does not throttle; the defaults (IAM 10/s) are for shared production accounts.
const rateFlags = ["--iam-rate", "2000", "--ec2-rate", "2000", "--concurrency", "8"];
const accountOf = (index) => String(111111111111 * (index + 1)).slice(0, 12);

const moto = await startMoto();
const work = await mkdtemp(path.join(os.tmpdir(), "rolecall-bench-targets-"));
const env = {
  ...process.env,
  AWS_ENDPOINT_URL: moto.endpoint,
  AWS_ACCESS_KEY_ID: "bench",
  AWS_SECRET_ACCESS_KEY: "bench",
  AWS_REGION: "us-east-1",
  AWS_EC2_METADATA_DISABLED: "true",
};
try {
  const manifests = path.join(work, "manifests");
  const targets = [];
  for (let index = 0; index < targetCount; index += 1) {
    const name = `t${index}`;
    const account = accountOf(index);
    targets.push({
      name,
      manifests: name,
      account,
      roleArn: `arn:aws:iam::${account}:role/rolecall-controller/bench`,
      regions,
    });
    await mkdir(path.join(manifests, name), { recursive: true });
    await Promise.all(
      Array.from({ length: perTarget }, (_, m) =>
        writeFile(path.join(manifests, name, `m${m}.yaml`), manifestYaml(`m${m}`)),
      ),
    );
    await launchInstances(account);
  }
  const targetsFile = path.join(work, "targets.yaml");
  await writeFile(
    targetsFile,
    JSON.stringify({ apiVersion: "rolecall.dev/v1alpha1", kind: "Targets", targets }),
  );
  const apply = () =>
    runCli(["apply", "--manifests", manifests, "--targets", targetsFile, "--output", "json", ...rateFlags]);

  const cold = await apply();
  console.log(
    `cold converge of ${targetCount * perTarget} manifests: ${cold.seconds.toFixed(1)} s, ${cold.awsCalls.total} calls (${cold.awsCalls.mutating} mutating)`,
  );
  const samples = [];
  for (let pass = 0; pass < passes; pass += 1) samples.push(await apply());
  const last = samples[samples.length - 1];
  const times = samples.map((sample) => sample.seconds).sort((a, b) => a - b);
  console.log(
    `\nno-change pass (${passes} runs): median ${times[Math.floor(times.length / 2)].toFixed(2)} s (min ${times[0].toFixed(2)}, max ${times[times.length - 1].toFixed(2)}), whole CLI run incl. Node start`,
  );
  console.log(
    `total calls ${last.awsCalls.total}, mutating ${samples.reduce((sum, sample) => sum + sample.awsCalls.mutating, 0)} over ${passes} passes\n`,
  );
  for (const target of last.targets)
    console.log(
      `${target.name} (${target.account}; ${target.regions.join(", ")}): ${target.status}, ${target.manifests.length} manifests, ${target.awsCalls.total} calls: ${JSON.stringify(target.awsCalls.byOperation)}`,
    );
} finally {
  await moto.stop();
  await rm(work, { recursive: true, force: true });
}

function manifestYaml(name) {
  return [
    "apiVersion: rolecall.dev/v1alpha1",
    "kind: InstanceAccess",
    `metadata: { name: ${name} }`,
    "spec:",
    `  instanceSelector: { matchTags: { app: ${name} } }`,
    `  grants: [{ bucket: ${name}-bucket, access: read }]`,
    "",
  ].join("\n");
}

/** A few instances per region in the account, each selected by one manifest. */
async function launchInstances(account) {
  const sts = new STSClient({
    endpoint: moto.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
  });
  const { Credentials: c } = await sts.send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/setup`, RoleSessionName: "bench" }),
  );
  const credentials = {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
  };
  for (const [r, region] of regions.entries()) {
    const ec2 = new EC2Client({ endpoint: moto.endpoint, region, credentials });
    for (let i = 0; i < instancesPerRegion; i += 1) {
      const app = `m${r * instancesPerRegion + i}`;
      await ec2.send(
        new RunInstancesCommand({
          ImageId: "ami-12c6146b",
          InstanceType: "t3.micro",
          MinCount: 1,
          MaxCount: 1,
          TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "app", Value: app }] }],
        }),
      );
    }
  }
}

function runCli(cliArgs) {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [cli, ...cliArgs],
      { env, maxBuffer: 512 * 1024 * 1024, timeout: 900_000 },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== "number") return reject(error);
        try {
          resolve(JSON.parse(stdout));
        } catch {
          reject(new Error(`rolecall printed no JSON (exit ${error?.code}): ${stderr.slice(-2000)}`));
        }
      },
    );
  });
}
