// npm run bench:targets-events: `rolecall run --targets` with one instance-events queue, against moto_server. Three
// targets (three accounts) of two regions each, a converged fleet in every region; then events one after another,
// each for a new instance in a target and region taken in turn: the time from sending its state-change message to
// the instance holding its profile (median, p95), and the daemon's AWS calls per event. The resync is 10 minutes,
// so nothing here is the resync's doing. Not part of npm test; numbers are reported, never asserted.
//
//   node bench/targets-events.mjs [--targets 3] [--fleet 50] [--events 30]
//
// Needs `npm run build` first (npm run bench:targets-events does it). Prints the figures as JSON.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import {
  DescribeIamInstanceProfileAssociationsCommand,
  EC2Client,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { CreateQueueCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { startMoto } from "../test/support/moto-server.mjs";
import { measuredOn, option, startDaemon, stopDaemon } from "./harness.mjs";

const args = process.argv.slice(2);
const targetCount = Number(option(args, "targets", "3"));
const fleet = Number(option(args, "fleet", "50"));
const eventCount = Number(option(args, "events", "30"));
const regions = ["us-east-1", "eu-west-1"];
const accountOf = (index) => String(111111111111 * (index + 1)).slice(0, 12);
const base = { accessKeyId: "bench", secretAccessKey: "bench" };

const moto = await startMoto();
const work = await mkdtemp(path.join(os.tmpdir(), "rolecall-bench-targets-events-"));
let daemon;
try {
  const sqs = new SQSClient({ endpoint: moto.endpoint, region: "us-east-1", credentials: base });
  const { QueueUrl: queueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: "rolecall-instance-events", Attributes: { VisibilityTimeout: "5" } }),
  );
  const manifests = path.join(work, "manifests");
  const targets = [];
  const ec2s = [];
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
    await writeFile(path.join(manifests, name, "web.yaml"), manifestYaml("web"));
    const credentials = await credentialsIn(account);
    for (const region of regions) {
      const ec2 = new EC2Client({ endpoint: moto.endpoint, region, credentials });
      await launch(ec2, fleet);
      ec2s.push({ account, region, ec2 });
    }
  }
  const targetsFile = path.join(work, "targets.yaml");
  await writeFile(
    targetsFile,
    JSON.stringify({ apiVersion: "rolecall.dev/v1alpha1", kind: "Targets", targets }),
  );
  daemon = await startDaemon(
    moto,
    manifests,
    [],
    ["--targets", targetsFile, "--instance-events-queue", queueUrl],
  );
  const callsBefore = await daemonCalls(daemon.base);
  const latencies = [];
  for (let event = 0; event < eventCount; event += 1) {
    const { account, region, ec2 } = ec2s[event % ec2s.length];
    const [id] = await launch(ec2, 1);
    const sent = performance.now();
    await sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: stateChange(id, account, region) }),
    );
    await untilAssociated(ec2, id);
    latencies.push(performance.now() - sent);
  }
  const callsAfter = await daemonCalls(daemon.base);
  latencies.sort((a, b) => a - b);
  const at = (q) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]);
  console.log(
    JSON.stringify(
      {
        ...measuredOn(),
        targets: targetCount,
        regionsPerTarget: regions.length,
        fleetPerRegion: fleet,
        events: eventCount,
        latencyMs: { median: at(0.5), p95: at(0.95), max: Math.round(latencies.at(-1)) },
        awsCallsPerEvent: Number(((callsAfter - callsBefore) / eventCount).toFixed(1)),
      },
      null,
      2,
    ),
  );
} finally {
  if (daemon !== undefined) await stopDaemon(daemon.child);
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

async function credentialsIn(account) {
  const sts = new STSClient({ endpoint: moto.endpoint, region: "us-east-1", credentials: base });
  const { Credentials: c } = await sts.send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/setup`, RoleSessionName: "bench" }),
  );
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
}

async function launch(ec2, count) {
  const { Instances } = await ec2.send(
    new RunInstancesCommand({
      ImageId: "ami-12c6146b",
      InstanceType: "t3.micro",
      MinCount: count,
      MaxCount: count,
      TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "app", Value: "web" }] }],
    }),
  );
  return Instances.map((instance) => instance.InstanceId);
}

function stateChange(id, account, region) {
  return JSON.stringify({
    version: "0",
    id: randomUUID(),
    "detail-type": "EC2 Instance State-change Notification",
    source: "aws.ec2",
    account,
    time: new Date().toISOString(),
    region,
    resources: [`arn:aws:ec2:${region}:${account}:instance/${id}`],
    detail: { "instance-id": id, state: "running" },
  });
}

async function untilAssociated(ec2, id) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { IamInstanceProfileAssociations: found } = await ec2.send(
      new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: "instance-id", Values: [id] }] }),
    );
    if (found.some((association) => association.State === "associated")) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${id} was not associated within 60 s`);
}

/** The daemon's AWS calls so far, every target's and the queue's. */
async function daemonCalls(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split("\n")
    .filter((line) => line.startsWith("rolecall_aws_api_requests_total{"))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
}
