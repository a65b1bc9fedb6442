// npm run bench:composition (also the last step of npm run bench): composition at scale, against moto_server.
// A fleet of N manifests (each selects the tag `m-XXXX=on`) and 2N instances, a third of which are selected by 2 or
// 3 manifests. Overlapping instances come in groups that share a set (as an Auto Scaling group does), drawn from
// a pool of N/10 sets, so the number of composites grows with the fleet but not with every instance.
//
//   node bench/composition.mjs [--sizes 100,1000] [--tag-samples 5] [--resync 5s] [--seed 7]
//
// Measures: cold converge and no-change pass (calls and time), composites created, the daemon's RSS with Node's
// default flags until ready, and the time from a tag added on an instance to that instance holding the composite
// of its new set (in the daemon, found by the resync until instance events exist). Writes
// bench/composition-results.json. Needs `npm run build` first.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  CreateTagsCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  EC2Client,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { startMoto } from "../test/support/moto-server.mjs";
import { mulberry32 } from "../test/support/seeded-random.mjs";
import {
  countAssociations,
  measuredOn,
  memoryOf,
  mutatingOps,
  option,
  rateFlags,
  root,
  runCli,
  startDaemon,
  stopDaemon,
} from "./harness.mjs";

const args = process.argv.slice(2);
const sizes = option(args, "sizes", "100,1000").split(",").map(Number);
const tagSamples = Number(option(args, "tag-samples", "5"));
const resync = option(args, "resync", "5s");
const seed = Number(option(args, "seed", "7"));

const nameOf = (index) => `m-${String(index).padStart(4, "0")}`;

function manifest(name) {
  return `apiVersion: rolecall.dev/v1alpha1
kind: InstanceAccess
metadata:
  name: ${name}
spec:
  instanceSelector:
    matchTags: {${name}: "on"}
  grants:
    - bucket: bench-${name}
      access: read-write
      prefixes: [data/]
`;
}

/** N/10 sets of 2 or 3 distinct manifests, drawn with a seeded PRNG so every run builds the same fleet. */
function overlapPool(n, random) {
  const pool = [];
  for (let index = 0; index < Math.max(1, Math.ceil(n / 10)); index += 1) {
    const size = random() < 0.5 ? 2 : 3;
    const members = new Set();
    while (members.size < size) members.add(nameOf(Math.floor(random() * n)));
    pool.push([...members].sort());
  }
  return pool;
}

/**
 * Instance groups to launch: for each manifest, one instance of its own; its second instance is its own too for
 * one manifest in three, and for the other two a member of an overlapping set. So 2N instances, a third of them in
 * a composite.
 */
function fleetOf(n, random) {
  const pool = overlapPool(n, random);
  const groups = new Map();
  const add = (members) => {
    const key = members.join(",");
    groups.set(key, { members, count: (groups.get(key)?.count ?? 0) + 1 });
  };
  for (let index = 0; index < n; index += 1) {
    add([nameOf(index)]);
    add(index % 3 === 0 ? [nameOf(index)] : pool[Math.floor(random() * pool.length)]);
  }
  return { groups: [...groups.values()], sets: new Set(pool.map((set) => set.join(","))) };
}

function ec2Of(moto) {
  return new EC2Client({
    endpoint: moto.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "b", secretAccessKey: "b" },
  });
}

async function prepare(moto, n) {
  await moto.reset();
  const random = mulberry32(seed);
  const dir = await mkdtemp(path.join(os.tmpdir(), `rolecall-bench-composition-${n}-`));
  const ec2 = ec2Of(moto);
  const { groups } = fleetOf(n, random);
  const singles = [];
  for (const { members, count } of groups) {
    const output = await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12c6146b",
        MinCount: count,
        MaxCount: count,
        TagSpecifications: [
          { ResourceType: "instance", Tags: members.map((name) => ({ Key: name, Value: "on" })) },
        ],
      }),
    );
    if (members.length === 1)
      singles.push(...output.Instances.map((instance) => [instance.InstanceId, members[0]]));
  }
  for (let index = 0; index < n; index += 1)
    await writeFile(path.join(dir, `${nameOf(index)}.yaml`), manifest(nameOf(index)));
  const overlapping = groups
    .filter((group) => group.members.length > 1)
    .reduce((sum, group) => sum + group.count, 0);
  return { dir, ec2, singles, overlapping, instances: 2 * n };
}

async function apply(moto, dir) {
  const result = await runCli(moto, ["apply", "--manifests", dir, "--output", "json", ...rateFlags]);
  if (result.code !== 0) throw new Error(`apply exited ${result.code}: ${result.stderr.slice(0, 1000)}`);
  const { total, mutating, byOperation } = result.report.awsCalls;
  return {
    seconds: result.seconds,
    total,
    mutating,
    byOperation,
    composites: result.report.composites ?? [],
  };
}

async function profileOf(ec2, instanceId) {
  const page = await ec2.send(
    new DescribeIamInstanceProfileAssociationsCommand({
      Filters: [{ Name: "instance-id", Values: [instanceId] }],
    }),
  );
  const association = page.IamInstanceProfileAssociations.find((item) => item.State === "associated");
  return association?.IamInstanceProfile?.Arn?.split("/").at(-1);
}

/** Tags single-manifest instances with a second manifest's tag; times until each holds a composite. */
async function tagChangeLatencies(ec2, singles, n) {
  const latencies = [];
  for (let sample = 0; sample < tagSamples; sample += 1) {
    const [instanceId, own] = singles[(sample * 7919) % singles.length];
    const other = nameOf((Number(own.slice(2)) + 1 + sample) % n);
    const before = await profileOf(ec2, instanceId);
    const started = process.hrtime.bigint();
    await ec2.send(new CreateTagsCommand({ Resources: [instanceId], Tags: [{ Key: other, Value: "on" }] }));
    for (;;) {
      const now = await profileOf(ec2, instanceId);
      if (now !== undefined && now !== before && now.startsWith("rolecall+")) break;
      if (Number(process.hrtime.bigint() - started) / 1e9 > 120)
        throw new Error(`${instanceId} did not move to a composite within 120 s (holds ${now})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  latencies.sort((a, b) => a - b);
  return { median: latencies[Math.floor(latencies.length / 2)], min: latencies[0], max: latencies.at(-1) };
}

async function measure(moto, n) {
  const prepared = await prepare(moto, n);
  process.stderr.write(
    `N=${n}: ${prepared.instances} instances, ${prepared.overlapping} in overlapping sets; cold apply…\n`,
  );
  const cold = await apply(moto, prepared.dir);
  const noChange = await apply(moto, prepared.dir);
  const associations = await countAssociations(prepared.ec2);
  process.stderr.write(`N=${n}: daemon with Node's default flags…\n`);
  const daemon = await startDaemon(moto, prepared.dir, [], ["--resync", resync]);
  const memoryAtReady = await memoryOf(daemon.child);
  const tagChange = await tagChangeLatencies(prepared.ec2, prepared.singles, n);
  const memoryAtEnd = await memoryOf(daemon.child);
  await stopDaemon(daemon.child);
  await rm(prepared.dir, { recursive: true, force: true });
  return {
    instances: prepared.instances,
    overlappingInstances: prepared.overlapping,
    cold: { ...cold, composites: cold.composites.length },
    noChange: { ...noChange, composites: noChange.composites.length },
    associations,
    daemon: {
      readySeconds: daemon.readySeconds,
      peakRssMiBUntilReady: memoryAtReady.peakRssMiB,
      peakRssMiB: memoryAtEnd.peakRssMiB,
      resync,
      tagChangeToCompositeMs: { ...tagChange, samples: tagSamples },
    },
  };
}

const fmt = (value, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");

function printTable(n, row) {
  console.log(
    `\n## N = ${n} manifests, ${row.instances} instances (${row.overlappingInstances} in composites)`,
  );
  console.log("| measure | value |\n|---|---|");
  console.log(`| cold converge: wall s | ${fmt(row.cold.seconds)} |`);
  console.log(`| cold converge: API calls (mutating) | ${row.cold.total} (${row.cold.mutating}) |`);
  console.log(`| composites created | ${row.cold.composites} |`);
  console.log(`| instances associated after cold converge | ${row.associations} |`);
  console.log(`| no-change pass: wall s | ${fmt(row.noChange.seconds)} |`);
  console.log(`| no-change pass: API calls (mutating) | ${row.noChange.total} (${row.noChange.mutating}) |`);
  console.log(
    `| daemon (resync ${row.daemon.resync}): tag added → instance holds its composite, median (min–max) of ${row.daemon.tagChangeToCompositeMs.samples} ms | ${fmt(row.daemon.tagChangeToCompositeMs.median, 0)} (${fmt(row.daemon.tagChangeToCompositeMs.min, 0)}–${fmt(row.daemon.tagChangeToCompositeMs.max, 0)}) |`,
  );
  console.log(`| daemon: start to ready s | ${fmt(row.daemon.readySeconds, 1)} |`);
  console.log(
    `| daemon: peak RSS MiB, Node's default flags, until ready | ${fmt(row.daemon.peakRssMiBUntilReady, 1)} |`,
  );
  console.log(
    `| daemon: peak RSS MiB, Node's default flags, after the tag changes | ${fmt(row.daemon.peakRssMiB, 1)} |`,
  );
  console.log(`\nno-change calls by operation: ${JSON.stringify(row.noChange.byOperation)}`);
  if (Object.keys(row.noChange.byOperation).some((operation) => mutatingOps.test(operation)))
    console.log("!! the no-change pass made mutating calls");
}

const moto = await startMoto();
const results = {
  ...measuredOn(),
  seed,
  sizes: {},
};
try {
  for (const n of sizes) {
    results.sizes[n] = await measure(moto, n);
    printTable(n, results.sizes[n]);
    await writeFile(
      path.join(root, "bench", "composition-results.json"),
      JSON.stringify(results, null, 2) + "\n",
    );
  }
} finally {
  await moto.stop();
}
console.log("\nwritten: bench/composition-results.json");
