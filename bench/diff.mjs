// Benchmark: `rolecall diff BASE HEAD` of two generated 1,000-manifest directories, 10% of manifests changed.
// Usage: npm run bench:diff (builds first), or node bench/diff.mjs [--manifests N] [--runs N] [--changed 0.1]
// Prints, per output format, the median and minimum wall time, CPU time and peak RSS of the diff process, after
// checking that the report counts exactly the changes that were made. Not part of npm test.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { mulberry32 } from "../test/support/seeded-random.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = path.join(root, "dist", "cli.js");
const option = (name, fallback) => {
  const index = process.argv.indexOf(name);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
};
const manifestCount = option("--manifests", 1000);
const runs = option("--runs", 5);
const changedShare = option("--changed", 0.1);

if (!existsSync(cli)) {
  console.error(`${cli} is missing: run \`npm run build\` first (npm run bench:diff does)`);
  process.exit(1);
}

// Seeded: every run of the benchmark compares the same two directories.
const random = mulberry32(12);
const pick = (items) => items[Math.floor(random() * items.length)];
const teams = ["data", "web", "ml", "ops", "billing", "search"];
const stages = ["dev", "staging", "prod"];

function manifestOf(index) {
  const team = pick(teams);
  const stage = pick(stages);
  const selector =
    random() < 0.7
      ? { matchTags: { Team: team, Stage: stage, Shard: String(index % 50) } }
      : { instanceIds: [`i-${index.toString(16).padStart(17, "0")}`] };
  const grants = Array.from({ length: 1 + Math.floor(random() * 3) }, (_, number) => ({
    bucket: `${team}-${stage}-${number}-${index % 200}`,
    access: pick(["read", "write", "read-write"]),
    ...(random() < 0.4 ? { prefixes: [`${pick(["in", "out", "tmp"])}/${index % 7}/`] } : {}),
  }));
  return {
    apiVersion: "rolecall.dev/v1alpha1",
    kind: "InstanceAccess",
    metadata: { name: `${team}-${stage}-${index}` },
    spec: { instanceSelector: selector, grants, ...(random() < 0.2 ? { listAllBuckets: true } : {}) },
  };
}

/** The ways a manifest changes in HEAD; each one changes access or a reported field, never only the writing. */
const mutations = [
  (manifest) => manifest.spec.grants.push({ bucket: `${manifest.metadata.name}-new`, access: "read" }),
  (manifest) => {
    const grant = manifest.spec.grants[0];
    grant.access = grant.access === "read" ? "read-write" : "read";
  },
  (manifest) => {
    manifest.spec.onConflict = "replace";
  },
  (manifest) => {
    const selector = manifest.spec.instanceSelector;
    selector.matchTags = { ...(selector.matchTags ?? {}), Tier: "web" };
  },
];

/** BASE and HEAD: of the changed share, 15% are removed in HEAD (and as many new ones added), the rest modified. */
async function generate(base, head) {
  const expected = { added: 0, removed: 0, changed: 0, unchanged: 0 };
  await Promise.all([mkdir(base, { recursive: true }), mkdir(head, { recursive: true })]);
  const writes = [];
  for (let index = 0; index < manifestCount; index += 1) {
    const manifest = manifestOf(index);
    const file = `${manifest.metadata.name}.yaml`;
    writes.push(writeFile(path.join(base, file), stringify(manifest)));
    const roll = random();
    if (roll < changedShare * 0.15) {
      expected.removed += 1;
      writes.push(writeFile(path.join(head, `new-${file}`), stringify(manifestOf(manifestCount + index))));
      expected.added += 1;
      continue;
    }
    const copy = structuredClone(manifest);
    if (roll < changedShare) {
      pick(mutations)(copy);
      expected.changed += 1;
    } else expected.unchanged += 1;
    // Unchanged or not, HEAD's files are written differently (a comment, flow style): no change by itself.
    writes.push(
      writeFile(path.join(head, file), `# reviewed\n${stringify(copy, { collectionStyle: "flow" })}`),
    );
  }
  await Promise.all(writes);
  return expected;
}

/** One diff run; peak RSS and CPU from GNU time when present, else from the child's own resourceUsage(). */
function runOnce(base, head, output) {
  const args = [cli, "diff", base, head, "--output", output];
  const useTime = existsSync("/usr/bin/time");
  const hook =
    "data:text/javascript," +
    encodeURIComponent(
      'process.on("exit",()=>{const u=process.resourceUsage();process.stderr.write("BENCH_MAXRSS_KB="+u.maxRSS+" BENCH_CPU_US="+(u.userCPUTime+u.systemCPUTime)+"\\n")})',
    );
  const [command, commandArgs] = useTime
    ? ["/usr/bin/time", ["-v", process.execPath, ...args]]
    : [process.execPath, ["--import", hook, ...args]];
  const started = process.hrtime.bigint();
  const result = spawnSync(command, commandArgs, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const number = (pattern) => Number(pattern.exec(result.stderr)?.[1]);
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    wallMs,
    rssKb: useTime ? number(/Maximum resident set size \(kbytes\): (\d+)/) : number(/BENCH_MAXRSS_KB=(\d+)/),
    cpuMs: useTime
      ? (number(/User time \(seconds\): ([\d.]+)/) + number(/System time \(seconds\): ([\d.]+)/)) * 1000
      : number(/BENCH_CPU_US=(\d+)/) / 1000,
    rssFrom: useTime ? "/usr/bin/time -v" : "process.resourceUsage() in the child",
  };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

const dir = await mkdtemp(path.join(os.tmpdir(), "rolecall-bench-diff-"));
try {
  const base = path.join(dir, "base");
  const head = path.join(dir, "head");
  const expected = await generate(base, head);
  console.log(`node ${process.version}, ${os.cpus().length} CPU(s), ${os.cpus()[0]?.model ?? "unknown CPU"}`);
  console.log(`BASE: ${manifestCount} manifests; HEAD: ${JSON.stringify(expected)}`);

  const check = runOnce(base, head, "json");
  const summary = check.status === 2 ? JSON.parse(check.stdout).summary : undefined;
  if (JSON.stringify(summary) !== JSON.stringify(expected)) {
    console.error(`diff did not report the changes made (exit ${check.status}): ${JSON.stringify(summary)}`);
    console.error(check.stderr.split("\n").slice(0, 20).join("\n"));
    process.exitCode = 1;
  } else {
    for (const output of ["text", "json", "markdown"]) {
      const samples = [];
      for (let run = 0; run < runs; run += 1) {
        const sample = runOnce(base, head, output);
        if (sample.status !== 2) throw new Error(`diff --output ${output} exited ${sample.status}`);
        samples.push(sample);
      }
      const walls = samples.map((sample) => sample.wallMs);
      console.log(
        `rolecall diff --output ${output}, ${runs} runs: wall median ${median(walls).toFixed(0)} ms ` +
          `(min ${Math.min(...walls).toFixed(0)} ms), CPU median ${median(samples.map((s) => s.cpuMs)).toFixed(0)} ms, ` +
          `peak RSS ${(Math.max(...samples.map((s) => s.rssKb)) / 1024).toFixed(1)} MiB, ` +
          `output ${(samples[0].stdout.length / 1024).toFixed(0)} KiB (RSS from ${samples[0].rssFrom})`,
      );
    }
    console.log(`load average: ${os.loadavg()[0].toFixed(2)} on ${os.cpus().length} CPU(s)`);
  }
} finally {
  if (process.env.BENCH_KEEP === undefined) await rm(dir, { recursive: true, force: true });
  else console.log(`kept ${dir}`);
}
