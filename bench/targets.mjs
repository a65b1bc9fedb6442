// npm run bench:targets: the no-change pass at 3 targets (3 accounts) × 2 regions × 300 manifests each, against
// moto_server: calls per target (per account and per region) and time, first of `rolecall apply --targets`, then
// of the daemon (`rolecall run --targets`) on the same converged state: its time from start to /readyz 200, one
// no-change resync per target read from /metrics (calls by target, mutating ones, resync duration) and its peak
// RSS. Not part of npm test; numbers are reported, never asserted.
//
//   node bench/targets.mjs [--targets 3] [--manifests 300] [--instances 20] [--passes 3] [--daemon-resync 30s]
//
// Needs `npm run build` first (npm run bench:targets does it). Writes bench/targets-results.json.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { startMoto } from "../test/support/moto-server.mjs";
import {
  measuredOn,
  memoryOf,
  mutatingOps,
  rateFlags,
  scrapeMetrics,
  startDaemon,
  stopDaemon,
} from "./harness.mjs";

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
const resyncFlag = args.includes("--daemon-resync") ? args[args.indexOf("--daemon-resync") + 1] : "30s";
const regions = ["us-east-1", "eu-west-1"];
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
  const daemon = await measureDaemon(
    manifests,
    targetsFile,
    targets.map((target) => target.name),
  );
  const results = {
    ...measuredOn(),
    shape: { targets: targetCount, regionsPerTarget: regions.length, manifestsPerTarget: perTarget },
    instancesPerRegion,
    rateLimits: `${rateFlags.join(" ")}: moto does not throttle, so the client-side limits (defaults IAM 10/s) are raised out of the way; the figures are rolecall's own cost`,
    apply: {
      coldSeconds: cold.seconds,
      coldCalls: cold.awsCalls.total,
      noChangePasses: passes,
      noChangeSeconds: times,
      noChangeMutating: samples.reduce((sum, sample) => sum + sample.awsCalls.mutating, 0),
      byTarget: last.targets.map((target) => ({
        target: target.name,
        calls: target.awsCalls.total,
        byOperation: target.awsCalls.byOperation,
      })),
    },
    daemon,
  };
  await writeFile(new URL("targets-results.json", import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
  console.log("\nwrote bench/targets-results.json");
} finally {
  await moto.stop();
  await rm(work, { recursive: true, force: true });
}

/** `rolecall run --targets` on the converged state: start to ready, then one no-change resync per target. */
async function measureDaemon(manifests, targetsFile, names) {
  const { child, readySeconds, base } = await startDaemon(
    moto,
    manifests,
    [],
    ["--targets", targetsFile, "--resync", resyncFlag],
  );
  try {
    console.log(`\ndaemon (run --targets, --resync ${resyncFlag}): ready after ${readySeconds.toFixed(1)} s`);
    const resync = await oneResync(base, names);
    const memory = await memoryOf(child);
    for (const target of resync.targets)
      console.log(
        `${target.target}: one no-change resync ${target.resyncSeconds.toFixed(2)} s, ${target.calls} calls (${target.mutating} mutating): ${JSON.stringify(target.byOperation)}`,
      );
    console.log(`peak RSS ${memory.peakRssMiB.toFixed(0)} MiB (Node default flags)`);
    return { resyncFlag, readySeconds, ...resync, peakRssMiB: memory.peakRssMiB, rssMiB: memory.rssMiB };
  } finally {
    await stopDaemon(child);
  }
}

/**
 * What one full resync of each target cost: /metrics once every target's first pass is done and its queue empty,
 * then again once each has resynced once more (on its own --resync timer) and drained its queue; the difference.
 */
async function oneResync(base, names) {
  // The queue depth gauge is not 0 between passes here, so "done" is: resynced, and no call for half a second.
  const settled = (samples, previous, minimum) =>
    names.every(
      (name) =>
        samples.get(name).resyncs >= minimum(name) &&
        total(samples.get(name).calls) === total(previous?.get(name).calls),
    );
  const before = await pollMetrics(base, names, (samples, previous) => settled(samples, previous, () => 1));
  const after = await pollMetrics(base, names, (samples, previous) =>
    settled(samples, previous, (name) => before.get(name).resyncs + 1),
  );
  const targetsOut = names.map((name) => {
    const [a, b] = [before.get(name), after.get(name)];
    const byOperation = {};
    for (const [operation, count] of b.calls) {
      const delta = count - (a.calls.get(operation) ?? 0);
      if (delta > 0) byOperation[operation] = delta;
    }
    const calls = Object.values(byOperation).reduce((sum, count) => sum + count, 0);
    const mutating = Object.entries(byOperation)
      .filter(([operation]) => mutatingOps.test(operation))
      .reduce((sum, [, count]) => sum + count, 0);
    const resyncSeconds = (b.resyncSum - a.resyncSum) / (b.resyncs - a.resyncs);
    return { target: name, resyncSeconds, calls, mutating, byOperation: sorted(byOperation) };
  });
  return { targets: targetsOut };
}

/** Scrapes /metrics every 500 ms until `done(now, last scrape)` says so (10 minutes at most), per target. */
async function pollMetrics(base, names, done) {
  const deadline = Date.now() + 600_000;
  let previous;
  for (;;) {
    const samples = new Map();
    for (const name of names) samples.set(name, { calls: new Map(), resyncs: 0, resyncSum: 0 });
    for (const { name, labels, value } of await scrapeMetrics(base)) {
      const sample = samples.get(labels.target);
      if (sample === undefined) continue;
      if (name === "rolecall_aws_api_requests_total")
        sample.calls.set(`${labels.service}:${labels.operation}`, value);
      else if (name === "rolecall_resync_duration_seconds_count") sample.resyncs = value;
      else if (name === "rolecall_resync_duration_seconds_sum") sample.resyncSum = value;
    }
    if (done(samples, previous)) return samples;
    if (Date.now() > deadline) throw new Error("the daemon's targets did not resync within 10 minutes");
    previous = samples;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function total(calls) {
  return calls === undefined ? NaN : [...calls.values()].reduce((sum, count) => sum + count, 0);
}

function sorted(record) {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1)));
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
