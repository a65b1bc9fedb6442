// Benchmark: `rolecall validate DIR` on 1,000 generated, varied, valid manifests.
// Usage: npm run bench:validate  (builds first), or node bench/validate.mjs [--manifests N] [--runs N]
// Prints the median and minimum wall time and the peak RSS of the validate process. Not part of npm test.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { mulberry32 } from "../test/support/seeded-random.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = path.join(root, "dist", "cli.js");
const option = (name, fallback) => {
  const index = process.argv.indexOf(name);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
};
const manifestCount = option("--manifests", 1000);
const runs = option("--runs", 5);

if (!existsSync(cli)) {
  console.error(`${cli} is missing: run \`npm run build\` first (npm run bench:validate does)`);
  process.exit(1);
}

// Seeded, so every run benchmarks the same manifests.
const next = mulberry32(20240620);
const pick = (items) => items[Math.floor(next() * items.length)];
const chance = (p) => next() < p;
const hex = (length) => Array.from({ length }, () => pick([..."0123456789abcdef"])).join("");

const teams = ["data", "web", "ml", "platform", "billing", "search", "ops", "growth"];
const environments = ["dev", "staging", "prod"];

/** One valid manifest as a plain object; index keeps names (and explicit IAM names) unique. */
function manifest(index) {
  const team = pick(teams);
  const environment = pick(environments);
  const name = `${team}-${environment}-${index}`;
  const selector = {};
  if (chance(0.6)) selector.matchTags = { Team: team, Environment: environment };
  if (!selector.matchTags || chance(0.3)) {
    selector.instanceIds = Array.from({ length: 1 + Math.floor(next() * 4) }, () =>
      chance(0.8) ? `i-${hex(17)}` : `i-${hex(8)}`,
    );
    selector.instanceIds = [...new Set(selector.instanceIds)];
  }
  const grants = Array.from({ length: 1 + Math.floor(next() * 4) }, (_, g) => {
    const grant = {
      bucket: `${team}-${environment}-${pick(["logs", "reports", "assets", "exports", "models"])}-${index % 97}-${g}`,
      access: pick(["read", "write", "read-write"]),
    };
    if (chance(0.4)) {
      grant.prefixes = [
        ...new Set(
          Array.from(
            { length: 1 + Math.floor(next() * 3) },
            () => `${pick(["app", "team", "daily", "tmp"])}/${pick(["a", "b", "c"])}/`,
          ),
        ),
      ];
    }
    return grant;
  });
  const spec = { instanceSelector: selector, grants };
  if (chance(0.3)) spec.listAllBuckets = chance(0.5);
  if (chance(0.2))
    spec.iam = {
      roleName: `Role_${index}`,
      policyName: `Policy.${index}`,
      instanceProfileName: `Profile@${index}`,
    };
  if (chance(0.2)) spec.onConflict = pick(["skip", "replace"]);
  if (chance(0.2)) spec.deletionPolicy = pick(["delete", "retain"]);
  if (chance(0.2)) spec.mode = pick(["enforce", "observe"]);
  const metadata = { name };
  if (chance(0.5)) metadata.labels = { team, "rolecall.dev/env": environment };
  return { apiVersion: "rolecall.dev/v1alpha1", kind: "InstanceAccess", metadata, spec };
}

/** Block-style YAML for the plain data above (strings quoted where YAML could misread them). */
function toYaml(value, indent = "") {
  const scalar = (item) => (typeof item === "string" ? JSON.stringify(item) : String(item));
  if (Array.isArray(value)) {
    return value
      .map((item) =>
        typeof item === "object"
          ? `${indent}- ${toYaml(item, indent + "  ").trimStart()}`
          : `${indent}- ${scalar(item)}\n`,
      )
      .join("");
  }
  return Object.entries(value)
    .map(([key, item]) =>
      typeof item === "object"
        ? `${indent}${key}:\n${toYaml(item, indent + "  ")}`
        : `${indent}${key}: ${scalar(item)}\n`,
    )
    .join("");
}

/** Writes the manifests: mostly one per .yaml file, some .yml and .json, some multi-document files, nested dirs. */
async function generate(dir) {
  let files = 0;
  let index = 0;
  while (index < manifestCount) {
    const team = `team-${index % 12}`;
    const subdir = path.join(dir, team, chance(0.3) ? pick(environments) : "");
    await mkdir(subdir, { recursive: true });
    const style = next();
    if (style < 0.1 && manifestCount - index >= 3) {
      const documents = [0, 1, 2].map((offset) => toYaml(manifest(index + offset)));
      await writeFile(path.join(subdir, `bundle-${index}.yaml`), documents.join("---\n"));
      index += 3;
    } else if (style < 0.2) {
      await writeFile(path.join(subdir, `m-${index}.json`), JSON.stringify(manifest(index), null, 2) + "\n");
      index += 1;
    } else {
      const extension = style < 0.3 ? "yml" : "yaml";
      const header = "# yaml-language-server: $schema=../../schemas/instance-access.schema.json\n";
      await writeFile(path.join(subdir, `m-${index}.${extension}`), header + toYaml(manifest(index)));
      index += 1;
    }
    files += 1;
  }
  return files;
}

/** Runs validate once; peak RSS from GNU time when present, else from the child's own resourceUsage(). */
function runOnce(dir) {
  const useTime = existsSync("/usr/bin/time");
  const rssHook =
    "data:text/javascript," +
    encodeURIComponent(
      'process.on("exit",()=>{const u=process.resourceUsage();process.stderr.write("\\nBENCH_MAXRSS_KB="+u.maxRSS+" BENCH_CPU_US="+(u.userCPUTime+u.systemCPUTime)+"\\n")})',
    );
  const [command, args] = useTime
    ? ["/usr/bin/time", ["-v", process.execPath, cli, "validate", dir]]
    : [process.execPath, ["--import", rssHook, cli, "validate", dir]];
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const rss = useTime
    ? /Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr)?.[1]
    : /BENCH_MAXRSS_KB=(\d+)/.exec(result.stderr)?.[1];
  // CPU time (user + system) is less disturbed than wall time when other work shares the machine.
  const cpuMs = useTime
    ? (Number(/User time \(seconds\): ([\d.]+)/.exec(result.stderr)?.[1]) +
        Number(/System time \(seconds\): ([\d.]+)/.exec(result.stderr)?.[1])) *
      1000
    : Number(/BENCH_CPU_US=(\d+)/.exec(result.stderr)?.[1]) / 1000;
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    wallMs,
    cpuMs,
    rssKb: Number(rss),
    useTime,
  };
}

const dir = await mkdtemp(path.join(os.tmpdir(), "rolecall-bench-"));
try {
  const files = await generate(dir);
  console.log(`node ${process.version}, ${os.cpus().length} CPU(s), ${os.cpus()[0]?.model ?? "unknown CPU"}`);
  console.log(`generated ${manifestCount} valid manifests in ${files} files under ${dir}`);

  const warmup = runOnce(dir);
  const expected = `${files} file(s), ${manifestCount} valid manifest(s), 0 error(s)`;
  if (warmup.status !== 0 || !warmup.stderr.includes(expected)) {
    console.error(`validate did not accept the generated manifests (exit ${warmup.status}):`);
    console.error((warmup.stdout + warmup.stderr).split("\n").slice(0, 20).join("\n"));
    process.exitCode = 1;
  } else {
    const samples = [];
    for (let run = 0; run < runs; run += 1) {
      const sample = runOnce(dir);
      if (sample.status !== 0) throw new Error(`validate exited ${sample.status} on run ${run + 1}`);
      samples.push(sample);
      console.log(
        `run ${run + 1}: wall ${sample.wallMs.toFixed(0)} ms, CPU ${sample.cpuMs.toFixed(0)} ms, ` +
          `peak RSS ${(sample.rssKb / 1024).toFixed(1)} MiB`,
      );
    }
    const walls = samples.map((sample) => sample.wallMs).sort((a, b) => a - b);
    const median =
      walls.length % 2 === 1
        ? walls[(walls.length - 1) / 2]
        : (walls[walls.length / 2 - 1] + walls[walls.length / 2]) / 2;
    const peak = Math.max(...samples.map((sample) => sample.rssKb));
    const cpus = samples.map((sample) => sample.cpuMs).sort((a, b) => a - b);
    console.log(`load average during the runs: ${os.loadavg()[0].toFixed(2)} on ${os.cpus().length} CPU(s)`);
    console.log(
      `rolecall validate, ${manifestCount} manifests, ${runs} runs (after 1 warm-up): ` +
        `median ${median.toFixed(0)} ms, min ${walls[0].toFixed(0)} ms (CPU min ${cpus[0].toFixed(0)} ms), ` +
        `peak RSS ${(peak / 1024).toFixed(1)} MiB` +
        ` (RSS from ${samples[0].useTime ? "/usr/bin/time -v" : "process.resourceUsage() in the child"})`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
