// npm run bench:events: how fast an instance event becomes an association, against moto_server. For fleets of 100
// and 2,000 instances (already converged), the latency from sending one EC2 state-change message to the new
// instance holding its profile, over 50 events one after another; then a burst of 500 launches and their 500
// messages at once: the time until all of them hold their profile, and the AWS calls rolecall made for it. The
// daemon runs with --resync 300s, so nothing here is the resync's doing. Not part of npm test.
//
//   node bench/events.mjs [--fleets 100,2000] [--events 50] [--burst 500]
//
// Needs `npm run build` first (npm run bench:events does it). Prints a table and writes bench/events-results.json.
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  DescribeIamInstanceProfileAssociationsCommand,
  EC2Client,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { CreateQueueCommand, SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { freePort, startMoto } from "../test/support/moto-server.mjs";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
const root = fileURLToPath(new URL("..", import.meta.url));
const cli = path.join(root, "dist", "cli.js");
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  return index === -1 ? fallback : args[index + 1];
};
const fleets = option("fleets", "100,2000").split(",").map(Number);
const eventCount = Number(option("events", "50"));
const burstSize = Number(option("burst", "500"));
const manifestCount = 10;
// --daemon-log FILE keeps the daemon's JSON log lines (warnings and errors), for looking into a slow run.
const daemonLog = option("daemon-log", undefined);
const region = "us-east-1";
const credentials = { accessKeyId: "bench", secretAccessKey: "bench" };
// moto does not throttle; these keep the client-side limiter out of the figures (the defaults are for production).
const rateFlags = ["--iam-rate", "2000", "--ec2-rate", "2000", "--concurrency", "8"];

const envFor = (moto) => ({
  ...process.env,
  AWS_ENDPOINT_URL: moto.endpoint,
  AWS_ACCESS_KEY_ID: credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  AWS_REGION: region,
  AWS_EC2_METADATA_DISABLED: "true",
});

const manifest = (index) => `apiVersion: rolecall.dev/v1alpha1
kind: InstanceAccess
metadata:
  name: team-${index}
spec:
  instanceSelector:
    matchTags: { Team: t${index} }
  grants:
    - bucket: bench-bucket-${index}
      access: read
`;

function stateChange(instanceId) {
  return JSON.stringify({
    version: "0",
    id: `${instanceId}-${Date.now()}`,
    "detail-type": "EC2 Instance State-change Notification",
    source: "aws.ec2",
    account: "123456789012",
    time: new Date().toISOString(),
    region,
    resources: [`arn:aws:ec2:${region}:123456789012:instance/${instanceId}`],
    detail: { "instance-id": instanceId, state: "running" },
  });
}

/** Launches `count` instances tagged round-robin across the manifests (one call per 500). */
async function launch(ec2, count, team) {
  const ids = [];
  for (let done = 0; done < count;) {
    const batch = Math.min(500, count - done);
    const output = await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12c6146b",
        InstanceType: "t3.micro",
        MinCount: batch,
        MaxCount: batch,
        TagSpecifications: [
          { ResourceType: "instance", Tags: [{ Key: "Team", Value: team ?? `t${done % manifestCount}` }] },
        ],
      }),
    );
    ids.push(...(output.Instances ?? []).map((instance) => instance.InstanceId));
    done += batch;
  }
  return ids;
}

/** The instances among `ids` holding a profile (moto pages associations by 100 whatever MaxResults says). */
async function associated(ec2, ids) {
  const held = new Set();
  for (let first = 0; first < ids.length; first += 200) {
    let token;
    do {
      const output = await ec2.send(
        new DescribeIamInstanceProfileAssociationsCommand({
          Filters: [{ Name: "instance-id", Values: ids.slice(first, first + 200) }],
          ...(token === undefined ? {} : { NextToken: token }),
        }),
      );
      for (const association of output.IamInstanceProfileAssociations ?? [])
        if (association.State === "associated") held.add(association.InstanceId);
      token = output.NextToken || undefined;
    } while (token !== undefined);
  }
  return held;
}

async function sendAll(sqs, queueUrl, ids) {
  const batches = [];
  for (let first = 0; first < ids.length; first += 10)
    batches.push(
      sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: ids
            .slice(first, first + 10)
            .map((id, index) => ({ Id: String(index), MessageBody: stateChange(id) })),
        }),
      ),
    );
  await Promise.all(batches);
}

/** rolecall's AWS requests so far, by operation, from its /metrics. */
async function awsCalls(base) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const calls = {};
  for (const match of text.matchAll(
    /^rolecall_aws_api_requests_total\{service="(\w+)",operation="(\w+)"\} (\d+)/gm,
  ))
    calls[`${match[1]}:${match[2]}`] = Number(match[3]);
  return calls;
}

const difference = (after, before) =>
  Object.fromEntries(
    Object.entries(after)
      .map(([key, value]) => [key, value - (before[key] ?? 0)])
      .filter(([, value]) => value > 0),
  );

async function startDaemon(moto, dir, queueUrl) {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      cli,
      "run",
      "--manifests",
      dir,
      "--port",
      String(port),
      "--resync",
      "300s",
      "--log-level",
      "warn",
    ].concat(["--instance-events-queue", queueUrl], rateFlags),
    { env: envFor(moto), stdio: ["ignore", daemonLog === undefined ? "ignore" : "pipe", "inherit"] },
  );
  if (daemonLog !== undefined) child.stdout.pipe(createWriteStream(daemonLog, { flags: "a" }));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 900_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error("the daemon did not become ready");
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch {
      /* starting */
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { child, base };
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

async function waitUntilAssociated(ec2, ids, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if ((await associated(ec2, ids)).size === ids.length) return;
    if (performance.now() > deadline)
      throw new Error(`${ids.length} instances not associated in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function measureFleet(fleet) {
  const moto = await startMoto();
  const dir = await mkdtemp(path.join(os.tmpdir(), "rolecall-bench-events-"));
  try {
    const clientOptions = { endpoint: moto.endpoint, region, credentials, maxAttempts: 1 };
    const ec2 = new EC2Client(clientOptions);
    const sqs = new SQSClient(clientOptions);
    const { QueueUrl: queueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: "rolecall-instance-events" }),
    );
    for (let index = 0; index < manifestCount; index += 1)
      await writeFile(path.join(dir, `team-${index}.yaml`), manifest(index));
    await launch(ec2, fleet);
    const readyStarted = performance.now();
    const daemon = await startDaemon(moto, dir, queueUrl);
    const readySeconds = (performance.now() - readyStarted) / 1000;
    try {
      const latencies = [];
      const before = await awsCalls(daemon.base);
      for (let event = 0; event < eventCount; event += 1) {
        const [id] = await launch(ec2, 1, `t${event % manifestCount}`);
        const sent = performance.now();
        await sendAll(sqs, queueUrl, [id]);
        await waitUntilAssociated(ec2, [id], 30_000);
        latencies.push(performance.now() - sent);
      }
      const perEvent = difference(await awsCalls(daemon.base), before);
      const burstIds = await launch(ec2, burstSize);
      const beforeBurst = await awsCalls(daemon.base);
      const burstStarted = performance.now();
      await sendAll(sqs, queueUrl, burstIds);
      await waitUntilAssociated(ec2, burstIds, 600_000);
      const burstSeconds = (performance.now() - burstStarted) / 1000;
      // The last deletes may still be on their way: give them a moment before counting.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const burstCalls = difference(await awsCalls(daemon.base), beforeBurst);
      return {
        fleet,
        manifests: manifestCount,
        readySeconds,
        events: eventCount,
        medianMs: percentile(latencies, 50),
        p95Ms: percentile(latencies, 95),
        maxMs: Math.max(...latencies),
        callsFor50Events: perEvent,
        burst: { launches: burstSize, seconds: burstSeconds, calls: burstCalls },
      };
    } finally {
      daemon.child.kill("SIGTERM");
      await new Promise((resolve) => daemon.child.once("exit", resolve));
    }
  } finally {
    await moto.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const results = [];
for (const fleet of fleets) {
  const result = await measureFleet(fleet);
  results.push(result);
  const total = (calls) => Object.values(calls).reduce((sum, value) => sum + value, 0);
  console.log(
    `fleet ${fleet}: ready in ${result.readySeconds.toFixed(1)} s; event → association over ${result.events} events: ` +
      `median ${result.medianMs.toFixed(0)} ms, p95 ${result.p95Ms.toFixed(0)} ms, max ${result.maxMs.toFixed(0)} ms; ` +
      `${total(result.callsFor50Events)} AWS calls for them ${JSON.stringify(result.callsFor50Events)}`,
  );
  console.log(
    `  burst of ${result.burst.launches} launch events: all associated in ${result.burst.seconds.toFixed(1)} s, ` +
      `${total(result.burst.calls)} AWS calls ${JSON.stringify(result.burst.calls)}`,
  );
}
await writeFile(
  path.join(root, "bench", "events-results.json"),
  `${JSON.stringify({ measuredAt: new Date().toISOString(), node: process.version, cpus: os.cpus().length, results }, null, 2)}\n`,
);
