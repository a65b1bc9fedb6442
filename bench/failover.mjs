// Benchmark: failover between two `rolecall run` processes sharing one lease table, on moto_server.
// Usage: npm run bench:failover (builds first), or node bench/failover.mjs [--runs 5] [--lease 15s] [--renew 5s]
// Each run starts a leader and a standby, then:
//   SIGKILL the leader and write a new manifest: time until the standby leads, and until the new manifest's
//   instance holds its profile (the target: within the lease + 5 s);
//   start another standby, SIGTERM the leader (which releases the lease) and write a new manifest: time until the
//   standby leads (the target: within 2 s), and until that manifest's instance holds its profile.
// Prints the median and range of each over the runs. Not part of npm test; nothing talks to AWS.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DescribeIamInstanceProfileAssociationsCommand,
  EC2Client,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { stringify } from "yaml";
import { freePort, startMoto } from "../test/support/moto-server.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = path.join(root, "dist", "cli.js");
const option = (name, fallback) => {
  const index = process.argv.indexOf(name);
  return index === -1 ? fallback : process.argv[index + 1];
};
const runs = Number(option("--runs", "5"));
const lease = option("--lease", "15s");
const renew = option("--renew", "5s");
const table = "rolecall-lease";
if (!existsSync(cli)) {
  console.error(`${cli} is missing: run \`npm run build\` first (npm run bench:failover does)`);
  process.exit(1);
}

const moto = await startMoto();
const region = "us-east-1";
const credentials = { accessKeyId: "test", secretAccessKey: "test" };
const ec2 = new EC2Client({ endpoint: moto.endpoint, region, credentials });
const dynamodb = new DynamoDBClient({ endpoint: moto.endpoint, region, credentials });
await dynamodb.send(
  new CreateTableCommand({
    TableName: table,
    AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
    KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
    BillingMode: "PAY_PER_REQUEST",
  }),
);
const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  AWS_ENDPOINT_URL: moto.endpoint,
  AWS_ACCESS_KEY_ID: credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  AWS_REGION: region,
  AWS_EC2_METADATA_DISABLED: "true",
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
};

async function until(what, probe, timeoutMs = 60_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function startDaemon(manifests) {
  const port = await freePort();
  const args = [cli, "run", "--manifests", manifests, "--port", String(port), "--resync", "60s"];
  args.push("--debounce", "100ms", "--lease-table", table, "--lease-duration", lease, "--lease-renew", renew);
  const child = spawn(process.execPath, args, { env, stdio: "ignore" });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const url = `http://127.0.0.1:${port}`;
  const leadership = async () => (await (await fetch(`${url}/status`)).json()).leadership;
  await until("the daemon to serve", async () => (await fetch(`${url}/healthz`)).ok, 20_000);
  return { child, exited, leadership };
}

async function addManifest(directory, name) {
  const output = await ec2.send(
    new RunInstancesCommand({
      ImageId: "ami-12c6146b",
      InstanceType: "t3.micro",
      MinCount: 1,
      MaxCount: 1,
      TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "Team", Value: name }] }],
    }),
  );
  const instanceId = output.Instances[0].InstanceId;
  const manifest = {
    apiVersion: "rolecall.dev/v1alpha1",
    kind: "InstanceAccess",
    metadata: { name },
    spec: {
      instanceSelector: { matchTags: { Team: name } },
      grants: [{ bucket: `${name}-data`, access: "read" }],
    },
  };
  await writeFile(path.join(directory, `${name}.yaml`), stringify(manifest));
  return instanceId;
}

async function holdsProfile(instanceId, name) {
  const page = await ec2.send(
    new DescribeIamInstanceProfileAssociationsCommand({
      Filters: [{ Name: "instance-id", Values: [instanceId] }],
    }),
  );
  return (page.IamInstanceProfileAssociations ?? []).some((association) =>
    (association.IamInstanceProfile?.Arn ?? "").endsWith(`/rolecall-${name}`),
  );
}

async function failover(directory, leader, standby, signal, manifest) {
  const sentAt = performance.now();
  leader.child.kill(signal);
  const instanceId = await addManifest(directory, manifest);
  await until(`the standby to lead after ${signal}`, async () => (await standby.leadership()).leading);
  const leadingMs = performance.now() - sentAt;
  await until(`${manifest} to converge after ${signal}`, () => holdsProfile(instanceId, manifest));
  await leader.exited;
  return { leadingMs, convergedMs: performance.now() - sentAt };
}

async function oneRun(index) {
  const directory = await mkdtemp(path.join(os.tmpdir(), "rolecall-failover-"));
  const started = [];
  try {
    const base = await addManifest(directory, `base-${index}`);
    const first = await startDaemon(directory);
    started.push(first);
    await until("the first daemon to lead", async () => (await first.leadership()).leading);
    const second = await startDaemon(directory);
    started.push(second);
    await until("the base manifest to converge", () => holdsProfile(base, `base-${index}`));
    await until("the standby to see the leader", async () => (await second.leadership()).leader !== null);
    const killed = await failover(directory, first, second, "SIGKILL", `killed-${index}`);
    const third = await startDaemon(directory);
    started.push(third);
    await until("the new standby to see the leader", async () => (await third.leadership()).leader !== null);
    const terminated = await failover(directory, second, third, "SIGTERM", `terminated-${index}`);
    return { killed, terminated };
  } finally {
    for (const daemon of started) daemon.child.kill("SIGKILL");
    await rm(directory, { recursive: true, force: true });
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const summary = (values) =>
  `median ${(median(values) / 1000).toFixed(2)} s (${(Math.min(...values) / 1000).toFixed(2)}–${(Math.max(...values) / 1000).toFixed(2)} s)`;

try {
  const results = [];
  for (let index = 1; index <= runs; index += 1) {
    results.push(await oneRun(index));
    const last = results.at(-1);
    console.log(
      `run ${index}: SIGKILL → leading ${(last.killed.leadingMs / 1000).toFixed(2)} s, converged ${(last.killed.convergedMs / 1000).toFixed(2)} s; ` +
        `SIGTERM → leading ${(last.terminated.leadingMs / 1000).toFixed(2)} s, converged ${(last.terminated.convergedMs / 1000).toFixed(2)} s`,
    );
  }
  console.log(`lease ${lease}, renewed every ${renew}; ${runs} runs on moto_server`);
  console.log(
    `SIGKILL of the leader: standby leads after ${summary(results.map((r) => r.killed.leadingMs))}`,
  );
  console.log(
    `  a manifest written at the kill converges after ${summary(results.map((r) => r.killed.convergedMs))}`,
  );
  console.log(
    `SIGTERM of the leader: standby leads after ${summary(results.map((r) => r.terminated.leadingMs))}`,
  );
  console.log(
    `  a manifest written at the signal converges after ${summary(results.map((r) => r.terminated.convergedMs))}`,
  );
} finally {
  await moto.stop();
}
