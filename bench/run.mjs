// npm run bench: measures rolecall against moto_server at N = 10, 100, 1000 manifests (2 instances each), and the
// naive per-resource baseline in the same run, so the ratio is measured rather than claimed. Not part of npm test.
//
//   node bench/run.mjs [--sizes 10,100,1000] [--latency-samples 10] [--no-naive] [--naive-cold-max 100]
//   node bench/run.mjs --print-results      (prints the tables of the last bench/results.json; measures nothing)
//
// Prints a table per N and writes bench/results.json. Needs `npm run build` first (npm run bench does it).
import { mkdtemp, rm, writeFile, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { startMoto } from "../test/support/moto-server.mjs";
import {
  countAssociations,
  measuredOn,
  memoryOf,
  mutatingOps,
  rateFlags,
  root,
  runCli,
  startDaemon,
  stopDaemon,
  option as optionOf,
} from "./harness.mjs";

const args = process.argv.slice(2);
const option = (name, fallback) => optionOf(args, name, fallback);
const sizes = option("sizes", "10,100,1000").split(",").map(Number);
const latencySamples = Number(option("latency-samples", "10"));
// The naive baseline is slow at large N (it is the point); --no-naive skips it for quick diagnostics.
const withNaive = !args.includes("--no-naive");
// The naive baseline's cold converge is slow on moto at large N (moto scans every instance for each per-manifest
// DescribeInstances: about 1.5 s each at 2,000 instances). Above this N only its no-change pass is measured, on the
// state the snapshot engine converged; that is the pass the call ratio compares.
const naiveColdMax = Number(option("naive-cold-max", "100"));
// The daemon runs with the Node flags of the container image (see Dockerfile); its RSS is also measured with
// Node's defaults, for `npx rolecall run`.
const daemonNodeFlags = ["--lite-mode", "--no-expose-wasm", "--max-semi-space-size=1"];

function manifest(name, tagValue, extra = "") {
  return `apiVersion: rolecall.dev/v1alpha1
kind: InstanceAccess
metadata:
  name: ${name}
spec:
  instanceSelector:
    matchTags: {bench: ${tagValue}}
  grants:
    - bucket: bench-${tagValue}
      access: read-write
      prefixes: [data/]
${extra}`;
}

async function launch(ec2, tagValue, count) {
  const output = await ec2.send(
    new RunInstancesCommand({
      ImageId: "ami-12c6146b",
      MinCount: count,
      MaxCount: count,
      TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "bench", Value: tagValue }] }],
    }),
  );
  return output.Instances.map((instance) => instance.InstanceId);
}

async function prepare(moto, n) {
  await moto.reset();
  const dir = await mkdtemp(path.join(os.tmpdir(), `rolecall-bench-${n}-`));
  const ec2 = new EC2Client({
    endpoint: moto.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "b", secretAccessKey: "b" },
  });
  for (let index = 0; index < n; index += 1) {
    const name = `m-${String(index).padStart(4, "0")}`;
    await launch(ec2, name, 2);
    await writeFile(path.join(dir, `${name}.yaml`), manifest(name, name));
  }
  return { dir, ec2 };
}

const summarizeCalls = (awsCalls) => ({
  total: awsCalls.total,
  mutating: awsCalls.mutating,
  byOperation: awsCalls.byOperation,
});

async function measureApplies(moto, n, strategy) {
  const preparedAt = Date.now();
  const { dir, ec2 } = await prepare(moto, n);
  process.stderr.write(
    `  prepared ${n} manifests and ${2 * n} instances in ${((Date.now() - preparedAt) / 1000).toFixed(1)} s\n`,
  );
  const flags = ["--manifests", dir, "--output", "json", ...rateFlags, "--read-strategy", strategy];
  process.stderr.write(`  cold apply (${strategy})…\n`);
  const cold = await runCli(moto, ["apply", ...flags]);
  process.stderr.write(`  cold apply took ${cold.seconds.toFixed(1)} s; no-change apply…\n`);
  if (cold.code !== 0)
    throw new Error(`cold apply (${strategy}, N=${n}) exited ${cold.code}: ${cold.stderr.slice(0, 500)}`);
  const steady = await runCli(moto, ["apply", ...flags]);
  const associated = await countAssociations(ec2);
  return {
    dir,
    ec2,
    cold: { seconds: cold.seconds, ...summarizeCalls(cold.report.awsCalls) },
    noChange: { seconds: steady.seconds, ...summarizeCalls(steady.report.awsCalls) },
    associated,
  };
}

/** A no-change pass with the given read strategy over a directory already converged. */
async function measureNoChange(moto, dir, strategy) {
  process.stderr.write(`  no-change apply (${strategy})…\n`);
  const flags = ["--manifests", dir, "--output", "json", ...rateFlags, "--read-strategy", strategy];
  const steady = await runCli(moto, ["apply", ...flags]);
  return { seconds: steady.seconds, ...summarizeCalls(steady.report.awsCalls) };
}

/** What moto alone takes for the one read an edit needs: instances carrying one tag value, among all of them. */
async function motoFilteredDescribeMs(ec2, tagValue) {
  const started = process.hrtime.bigint();
  await ec2.send(
    new DescribeInstancesCommand({
      Filters: [
        { Name: "instance-state-name", Values: ["running"] },
        { Name: "tag:bench", Values: [tagValue] },
      ],
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function measureDaemon(moto, n, dir, ec2) {
  // Node's defaults first: memory only.
  const plain = await startDaemon(moto, dir, []);
  const plainMemory = await memoryOf(plain.child);
  await stopDaemon(plain.child);
  const { child, readySeconds } = await startDaemon(moto, dir, daemonNodeFlags);
  const latencies = [];
  for (let sample = 0; sample < latencySamples; sample += 1) {
    const tagValue = `late-${sample}`;
    const [instanceId] = await launch(ec2, tagValue, 1);
    const written = process.hrtime.bigint();
    await writeFile(path.join(dir, `${tagValue}.yaml`), manifest(tagValue, tagValue));
    for (;;) {
      const page = await ec2.send(
        new DescribeIamInstanceProfileAssociationsCommand({
          Filters: [{ Name: "instance-id", Values: [instanceId] }],
        }),
      );
      if (page.IamInstanceProfileAssociations.length > 0) break;
      if (Number(process.hrtime.bigint() - written) / 1e9 > 60)
        throw new Error(`${tagValue} was not associated within 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    latencies.push(Number(process.hrtime.bigint() - written) / 1e6);
  }
  const memory = await memoryOf(child);
  const floorMs = await motoFilteredDescribeMs(ec2, "m-0000");
  await stopDaemon(child);
  latencies.sort((a, b) => a - b);
  return {
    writeToAssociationMs: {
      median: latencies[Math.floor(latencies.length / 2)],
      min: latencies[0],
      max: latencies.at(-1),
      samples: latencies.length,
    },
    motoFilteredDescribeInstancesMs: floorMs,
    readySeconds,
    nodeFlags: daemonNodeFlags.join(" "),
    peakRssMiB: memory.peakRssMiB,
    rssMiB: memory.rssMiB,
    defaultFlagsPeakRssMiB: plainMemory.peakRssMiB,
  };
}

async function measureCore(n) {
  const { loadManifestSet } = await import(
    new URL("../dist/manifest-set/load-manifest-set.js", import.meta.url)
  );
  const { planPass } = await import(new URL("../dist/plan/plan-pass.js", import.meta.url));
  const { compileDesired } = await import(new URL("../dist/desired/desired-access.js", import.meta.url));
  const encoder = new TextEncoder();
  const inputs = Array.from({ length: n }, (_, index) => {
    const name = `m-${String(index).padStart(4, "0")}`;
    return { file: `${name}.yaml`, bytes: encoder.encode(manifest(name, name)) };
  });
  const options = { iamPath: "/rolecall/", partition: "aws", defaultMode: "enforce" };
  let started = performance.now();
  const set = loadManifestSet(inputs, options);
  const compileMs = performance.now() - started;
  // The compile step alone, from already-validated manifests: the part the daemon repeats on every pass.
  started = performance.now();
  for (const { manifest: parsed } of set.manifests) compileDesired(parsed, options);
  const compileOnlyMs = performance.now() - started;
  // A converged snapshot: every manifest's chain present and two associated instances each.
  const policies = new Map();
  const roles = new Map();
  const instanceProfiles = new Map();
  const instances = new Map();
  const associations = new Map();
  let counter = 0;
  for (const { desired } of set.manifests) {
    const arn = (kind, name) => `arn:aws:iam::123456789012:${kind}/rolecall/${name}`;
    policies.set(desired.policy.name.toLowerCase(), {
      name: desired.policy.name,
      arn: arn("policy", desired.policy.name),
      path: "/rolecall/",
      description: desired.policy.description,
      document: desired.policy.document,
      defaultVersionId: "v1",
      versions: [{ id: "v1", isDefault: true, createdAt: 0 }],
      tags: undefined,
    });
    roles.set(desired.role.name.toLowerCase(), {
      name: desired.role.name,
      arn: arn("role", desired.role.name),
      path: "/rolecall/",
      trustPolicy: desired.role.trustPolicy,
      attachedPolicyArns: [arn("policy", desired.policy.name)],
      inlinePolicyNames: [],
      tags: desired.tags,
    });
    instanceProfiles.set(desired.instanceProfile.name.toLowerCase(), {
      name: desired.instanceProfile.name,
      arn: arn("instance-profile", desired.instanceProfile.name),
      path: "/rolecall/",
      roleNames: [desired.role.name],
      tags: desired.tags,
    });
    for (let copy = 0; copy < 2; copy += 1) {
      const id = `i-${(counter += 1).toString(16).padStart(17, "0")}`;
      instances.set(id, { id, state: "running", tags: desired.selector.matchTags });
      associations.set(id, {
        associationId: `iip-assoc-${id}`,
        instanceId: id,
        profileArn: arn("instance-profile", desired.instanceProfile.name),
        state: "associated",
      });
    }
  }
  const snapshot = { policies, roles, instanceProfiles, instances, associations };
  started = performance.now();
  const plan = planPass(snapshot, {
    inForce: set.manifests.map((manifest) => manifest.desired),
    protectedNames: new Set(),
    unnamedInvalid: false,
    allowMassPrune: false,
    defaultMode: "enforce",
  });
  const planMs = performance.now() - started;
  const actions = [...plan.manifests.values()].reduce(
    (sum, item) => sum + item.actions.length + item.pruneActions.length,
    0,
  );
  return {
    manifests: set.manifests.length,
    parseValidateCompileMs: compileMs,
    compileMs: compileOnlyMs,
    diffAndPlanMs: planMs,
    totalMs: compileMs + planMs,
    compileAndDiffMs: compileOnlyMs + planMs,
    actionsOnConvergedSnapshot: actions,
  };
}

const fmt = (value, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");
/** "total (mutating)", or n/a for a measure not taken (the naive baseline under --no-naive). */
const calls = (measure) =>
  Number.isFinite(measure.total) ? `${measure.total} (${measure.mutating})` : "n/a";

function printTable(n, row) {
  console.log(`\n## N = ${n} manifests, ${2 * n} instances`);
  console.log("| measure | rolecall (snapshot) | naive per-resource |");
  console.log("|---|---|---|");
  console.log(
    `| cold converge: wall s | ${fmt(row.snapshot.cold.seconds)} | ${fmt(row.naive.cold.seconds)} |`,
  );
  console.log(
    `| cold converge: API calls (mutating) | ${calls(row.snapshot.cold)} | ${calls(row.naive.cold)} |`,
  );
  console.log(
    `| no-change pass: wall s | ${fmt(row.snapshot.noChange.seconds)} | ${fmt(row.naive.noChange.seconds)} |`,
  );
  console.log(
    `| no-change pass: API calls (mutating) | ${calls(row.snapshot.noChange)} | ${calls(row.naive.noChange)} |`,
  );
  console.log(`| no-change calls, naive ÷ snapshot | ${fmt(row.callRatioNoChange, 1)}× | |`);
  console.log(
    `| daemon: manifest write → association, median of ${row.daemon.writeToAssociationMs.samples} (min–max) ms | ${fmt(row.daemon.writeToAssociationMs.median, 0)} (${fmt(row.daemon.writeToAssociationMs.min, 0)}–${fmt(row.daemon.writeToAssociationMs.max, 0)}) | |`,
  );
  console.log(
    `| daemon: of which moto's own DescribeInstances (one tag value) ms | ${fmt(row.daemon.motoFilteredDescribeInstancesMs, 0)} | |`,
  );
  console.log(`| daemon: start to ready (first full pass) s | ${fmt(row.daemon.readySeconds, 1)} | |`);
  console.log(
    `| daemon: peak RSS MiB (RSS at end), node ${row.daemon.nodeFlags} | ${fmt(row.daemon.peakRssMiB, 1)} (${fmt(row.daemon.rssMiB, 1)}) | |`,
  );
  console.log(
    `| daemon: peak RSS MiB with Node's default flags (until ready) | ${fmt(row.daemon.defaultFlagsPeakRssMiB, 1)} | |`,
  );
  console.log(
    `| core: parse+validate+compile / diff+plan ms | ${fmt(row.core.parseValidateCompileMs, 0)} / ${fmt(row.core.diffAndPlanMs, 0)} | |`,
  );
  console.log(`| core: compile + diff+plan against a snapshot ms | ${fmt(row.core.compileAndDiffMs, 0)} | |`);
  console.log(
    `\nno-change calls by operation (snapshot): ${JSON.stringify(row.snapshot.noChange.byOperation)}`,
  );
  console.log(`no-change calls by operation (naive): ${JSON.stringify(row.naive.noChange.byOperation)}`);
  if (Object.keys(row.snapshot.noChange.byOperation).some((operation) => mutatingOps.test(operation))) {
    console.log("!! the no-change pass made mutating calls");
  }
}

async function main() {
  const moto = await startMoto();
  const results = {
    ...measuredOn(),
    rateFlags,
    sizes: {},
  };
  try {
    for (const n of sizes) {
      process.stderr.write(`N=${n}: snapshot engine…\n`);
      const snapshotRun = await measureApplies(moto, n, "snapshot");
      const none = { seconds: NaN, total: NaN, mutating: NaN, byOperation: {} };
      process.stderr.write(`N=${n}: naive baseline, no-change pass…\n`);
      const naiveNoChange = withNaive ? await measureNoChange(moto, snapshotRun.dir, "per-resource") : none;
      process.stderr.write(`N=${n}: daemon…\n`);
      const daemon = await measureDaemon(moto, n, snapshotRun.dir, snapshotRun.ec2);
      await rm(snapshotRun.dir, { recursive: true, force: true });
      let naiveCold = none;
      if (withNaive && n <= naiveColdMax) {
        process.stderr.write(`N=${n}: naive baseline, cold converge…\n`);
        const naiveRun = await measureApplies(moto, n, "per-resource");
        await rm(naiveRun.dir, { recursive: true, force: true });
        naiveCold = naiveRun.cold;
      }
      const core = await measureCore(n);
      results.sizes[n] = {
        snapshot: {
          cold: snapshotRun.cold,
          noChange: snapshotRun.noChange,
          associations: snapshotRun.associated,
        },
        naive: { cold: naiveCold, noChange: naiveNoChange },
        callRatioNoChange: naiveNoChange.total / snapshotRun.noChange.total,
        daemon,
        core,
      };
      // Saved after every size, so a long run that is stopped keeps what it measured.
      await writeFile(path.join(root, "bench", "results.json"), JSON.stringify(results, null, 2) + "\n");
      printTable(n, results.sizes[n]);
    }
  } finally {
    await moto.stop();
  }
  await writeFile(path.join(root, "bench", "results.json"), JSON.stringify(results, null, 2) + "\n");
  console.log(`\nwritten: bench/results.json`);
}

if (args.includes("--print-results")) {
  const saved = JSON.parse(await readFile(path.join(root, "bench", "results.json"), "utf8"));
  console.log(`measured ${saved.measuredAt} on ${saved.cpus} CPUs, Node ${saved.node}`);
  for (const [n, row] of Object.entries(saved.sizes)) printTable(Number(n), row);
} else {
  await main();
}
