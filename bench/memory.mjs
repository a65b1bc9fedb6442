// The daemon's peak RSS with Node's default flags (as `npx rolecall run` starts it), at N manifests of two
// instances each, converged on moto_server beforehand: several daemons in turn on the same state, the peak of
// each until /readyz, and the median, since one run's peak depends on when the collector happens to run.
// Usage: npm run bench:memory [-- --size 1000 --runs 5]. Writes bench/memory-results.json.
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";
import { startMoto } from "../test/support/moto-server.mjs";
import {
  measuredOn,
  memoryOf,
  option,
  rateFlags,
  root,
  runCli,
  startDaemon,
  stopDaemon,
} from "./harness.mjs";

const args = process.argv.slice(2);
const size = Number(option(args, "size", "1000"));
const runs = Number(option(args, "runs", "5"));

const manifest = (name) => `apiVersion: rolecall.dev/v1alpha1
kind: InstanceAccess
metadata:
  name: ${name}
spec:
  instanceSelector:
    matchTags: {bench: ${name}}
  grants:
    - bucket: bench-${name}
      access: read-write
      prefixes: [data/]
`;

async function prepare(moto) {
  const dir = await mkdtemp(path.join(os.tmpdir(), `rolecall-memory-${size}-`));
  const ec2 = new EC2Client({
    endpoint: moto.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "b", secretAccessKey: "b" },
  });
  for (let index = 0; index < size; index += 1) {
    const name = `m-${String(index).padStart(4, "0")}`;
    await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12c6146b",
        MinCount: 2,
        MaxCount: 2,
        TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "bench", Value: name }] }],
      }),
    );
    await writeFile(path.join(dir, `${name}.yaml`), manifest(name));
  }
  const applied = await runCli(moto, ["apply", "--manifests", dir, "--output", "json", ...rateFlags]);
  if (applied.code !== 0) throw new Error(`apply exited ${applied.code}: ${applied.stderr.slice(0, 2000)}`);
  return dir;
}

/** The AWS calls the daemon made until then, from its own counter. */
async function callsOf(base) {
  const text = await (await fetch(`${base}/metrics`)).text();
  let total = 0;
  for (const match of text.matchAll(/^rolecall_aws_api_requests_total\{[^}]*\} (\S+)$/gm))
    total += Number(match[1]);
  return total;
}

async function measureOnce(moto, dir) {
  const daemon = await startDaemon(moto, dir, []);
  try {
    const memory = await memoryOf(daemon.child);
    return {
      peakRssMiB: memory.peakRssMiB,
      readySeconds: daemon.readySeconds,
      awsCalls: await callsOf(daemon.base),
    };
  } finally {
    await stopDaemon(daemon.child);
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main() {
  const moto = await startMoto();
  try {
    const dir = await prepare(moto);
    const samples = [];
    for (let run = 0; run < runs; run += 1) {
      samples.push(await measureOnce(moto, dir));
      console.log(JSON.stringify(samples.at(-1)));
    }
    const peaks = samples.map((sample) => sample.peakRssMiB);
    const results = {
      ...measuredOn(),
      size,
      instances: 2 * size,
      nodeFlags: "Node's defaults",
      peakRssMiB: { median: median(peaks), min: Math.min(...peaks), max: Math.max(...peaks) },
      samples,
    };
    await writeFile(path.join(root, "bench", "memory-results.json"), JSON.stringify(results, null, 2) + "\n");
    const { median: middle, min, max } = results.peakRssMiB;
    console.log(
      `N = ${size}: peak RSS until ready, median of ${runs} ${middle.toFixed(1)} MiB (${min.toFixed(1)}–${max.toFixed(1)})`,
    );
  } finally {
    await moto.stop();
  }
}

await main();
