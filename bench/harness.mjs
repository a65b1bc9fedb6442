// What the benchmark scripts share: running the CLI and the daemon against a moto_server, and reading what they did.
import { execFile, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DescribeIamInstanceProfileAssociationsCommand } from "@aws-sdk/client-ec2";
import { freePort } from "../test/support/moto-server.mjs";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
export const root = fileURLToPath(new URL("..", import.meta.url));
export const cli = path.join(root, "dist", "cli.js");

/** `--name value` from the command line, or the fallback. */
export function option(args, name, fallback) {
  const index = args.indexOf(`--${name}`);
  return index === -1 ? fallback : args[index + 1];
}

// Client-side rate limits for the benchmarks: moto does not throttle, and the defaults (IAM 10/s) are for shared
// production accounts. The figures are rolecall's own cost, not the rate limiter's.
export const rateFlags = ["--iam-rate", "2000", "--ec2-rate", "2000", "--concurrency", "8"];

/** What every results file starts with: when, on which Node and how many CPUs it was measured. */
export function measuredOn() {
  return { measuredAt: new Date().toISOString(), node: process.version, cpus: os.cpus().length };
}

export const mutatingOps =
  /^(ec2|iam):(Create|Delete|Attach|Detach|Add|Remove|Associate|Disassociate|Replace|Update|Tag|Untag|Put|Set)/;

export const envFor = (moto) => ({
  ...process.env,
  AWS_ENDPOINT_URL: moto.endpoint,
  AWS_ACCESS_KEY_ID: "bench",
  AWS_SECRET_ACCESS_KEY: "bench",
  AWS_REGION: "us-east-1",
  AWS_EC2_METADATA_DISABLED: "true",
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
});

export function runCli(moto, cliArgs) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    execFile(
      process.execPath,
      [cli, ...cliArgs],
      { env: envFor(moto), maxBuffer: 512 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        if (error !== null && typeof error.code !== "number") return reject(error);
        const code = error === null ? 0 : error.code;
        try {
          resolve({ code, seconds, report: JSON.parse(stdout), stderr });
        } catch {
          reject(
            new Error(`rolecall ${cliArgs[0]} printed no JSON (exit ${code}): ${stderr.slice(0, 2000)}`),
          );
        }
      },
    );
  });
}

export async function countAssociations(ec2) {
  let token;
  let count = 0;
  do {
    const page = await ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ NextToken: token }));
    count += page.IamInstanceProfileAssociations.length;
    token = page.NextToken;
  } while (token);
  return count;
}

/** Starts `rolecall run` on a directory with the given Node flags and waits until /readyz says ready. */
export async function startDaemon(moto, dir, nodeFlags, extraArgs = []) {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      ...nodeFlags,
      cli,
      "run",
      "--manifests",
      dir,
      "--port",
      String(port),
      "--resync",
      "10m",
      "--debounce",
      "50ms",
      "--log-level",
      "warn",
      ...rateFlags,
      ...extraArgs,
    ],
    { env: envFor(moto), stdio: ["ignore", "ignore", "inherit"] },
  );
  const base = `http://127.0.0.1:${port}`;
  const started = process.hrtime.bigint();
  const deadline = Date.now() + 600_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch {
      /* starting */
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const readySeconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { child, readySeconds, base };
}

/** The samples of a /metrics page (Prometheus text format): name, labels and value of each line. */
export async function scrapeMetrics(base) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const samples = [];
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) continue;
    const labels = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value;
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

export async function memoryOf(child) {
  const status = await readFile(`/proc/${child.pid}/status`, "utf8").catch(() => "");
  return {
    peakRssMiB: Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024,
    rssMiB: Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024,
  };
}

export async function stopDaemon(child) {
  child.kill("SIGTERM");
  await new Promise((resolve) => child.once("exit", resolve));
}
