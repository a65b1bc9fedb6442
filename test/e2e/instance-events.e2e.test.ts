import { writeFile } from "node:fs/promises";
import path from "node:path";
import { CreateTagsCommand, DeleteTagsCommand, type EC2Client } from "@aws-sdk/client-ec2";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StatusDocument } from "../../src/status/status-store.js";
import { startDaemon, waitFor, type Daemon } from "../support/daemon.js";
import { manifestYaml, profilesByInstance } from "../support/drift-kit.js";
import { stateChangeBody, tagChangeBody } from "../support/event-queue.js";
import {
  launchInstances,
  motoClients,
  startMoto,
  testCredentials,
  testRegion,
  type Moto,
} from "../support/moto.js";
import { runCliOnMoto } from "../support/moto-engine.js";
import { parsePrometheusText, sampleValue } from "../support/prometheus-text.js";
import { tempDirs } from "../support/temp-dir.js";

/**
 * `rolecall run --instance-events-queue` against moto_server, which models SQS: the test plays EventBridge,
 * sending the events' JSON bodies to the queue itself. The resync is 300 s, so whatever converges within
 * seconds did so because of an event. The steps build on each other, in order.
 */
let moto: Moto;
let ec2: EC2Client;
let sqs: SQSClient;
let queueUrl: string;
const dirs = tempDirs("instance-events-e2e");

beforeAll(async () => {
  moto = await startMoto();
  ({ ec2 } = motoClients(moto));
  sqs = new SQSClient({
    endpoint: moto.endpoint,
    region: testRegion,
    credentials: testCredentials,
    maxAttempts: 1,
  });
  // A short visibility timeout: a message received by a daemon that is then killed comes back in 2 s.
  queueUrl =
    (
      await sqs.send(
        new CreateQueueCommand({
          QueueName: "rolecall-instance-events",
          Attributes: { VisibilityTimeout: "2" },
        }),
      )
    ).QueueUrl ?? "";
});

afterAll(async () => {
  await moto.stop();
  await dirs.cleanup();
});

const send = (body: string) => sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));

/** Messages waiting plus those received and not yet deleted. */
async function queueDepth(): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/** Milliseconds from now until the instance holds `profile` (or, with undefined, holds none). */
async function timeUntilProfile(
  id: string,
  profile: string | undefined,
  timeoutMs = 10_000,
): Promise<number> {
  const started = performance.now();
  await waitFor(
    `${id} to hold ${profile ?? "no profile"}`,
    async () => (await profilesByInstance(ec2))[id] === profile,
    { timeoutMs, intervalMs: 25 },
  );
  return performance.now() - started;
}

describe("instance events from SQS, against moto_server", () => {
  let daemon: Daemon | undefined;
  let directory: string;
  const running = (): Daemon => {
    if (daemon === undefined) throw new Error("the daemon is not running");
    return daemon;
  };
  const start = async (resync: string) => {
    daemon = await startDaemon({
      moto,
      manifests: directory,
      resync,
      args: ["--instance-events-queue", queueUrl, "--log-level", "warn"],
    });
    await waitFor("the first resync", async () => (await fetch(`${running().url}/readyz`)).ok, {
      timeoutMs: 20_000,
    });
  };
  const metric = async (name: string, labels: Record<string, string>) =>
    sampleValue(parsePrometheusText(await (await running().get("/metrics")).text()), name, labels) ?? 0;

  beforeAll(async () => {
    directory = await dirs.make();
    await writeFile(
      path.join(directory, "web.yaml"),
      manifestYaml({ name: "web", matchTags: { Role: "web" } }),
    );
    await start("300s");
  });

  afterAll(async () => {
    await daemon?.kill();
  });

  it("a launched instance holds its profile within 3 s of its state-change message", async () => {
    const [id = ""] = await launchInstances(ec2, { Role: "web" });
    await send(stateChangeBody(id, "running"));
    const ms = await timeUntilProfile(id, "rolecall-web");
    expect(ms, running().logs()).toBeLessThan(3000);
  });

  it("a tag added to an existing instance, with its tag-change message: the same", async () => {
    const [id = ""] = await launchInstances(ec2, { Role: "db" });
    await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: "Role", Value: "web" }] }));
    await send(tagChangeBody(id, { Role: "web" }));
    expect(await timeUntilProfile(id, "rolecall-web"), running().logs()).toBeLessThan(3000);
  });

  it("a tag removed: the instance loses the profile", async () => {
    const [id = ""] = await launchInstances(ec2, { Role: "web", Keep: "no" });
    await send(stateChangeBody(id, "running"));
    await timeUntilProfile(id, "rolecall-web");
    await ec2.send(new DeleteTagsCommand({ Resources: [id], Tags: [{ Key: "Role" }] }));
    await send(tagChangeBody(id, { Keep: "no" }));
    expect(await timeUntilProfile(id, undefined), running().logs()).toBeLessThan(3000);
  });

  it("a duplicate and an out-of-order message are harmless, and the queue drains", async () => {
    const [id = ""] = await launchInstances(ec2, { Role: "web" });
    await send(stateChangeBody(id, "running"));
    await send(stateChangeBody(id, "running"));
    // "pending" after "running": stale; the instance is read and found running.
    await send(stateChangeBody(id, "pending"));
    await timeUntilProfile(id, "rolecall-web");
    await waitFor("the queue to drain", async () => (await queueDepth()) === 0, { timeoutMs: 10_000 });
    expect((await profilesByInstance(ec2))[id]).toBe("rolecall-web");
    expect(await metric("rolecall_reconcile_total", { result: "failed" })).toBe(0);
  });

  it("a garbage message is deleted and counted", async () => {
    await send("this is not an event");
    await waitFor(
      "the garbage to be counted",
      async () => (await metric("rolecall_instance_events_received_total", { type: "unparseable" })) === 1,
    );
    await waitFor("the queue to drain", async () => (await queueDepth()) === 0, { timeoutMs: 10_000 });
  });

  it("SIGKILLed with messages in flight: after a restart every instance converges and the queue drains", async () => {
    const ids = await launchInstances(ec2, { Role: "web" }, 12);
    for (let first = 0; first < ids.length; first += 10)
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: ids
            .slice(first, first + 10)
            .map((id, index) => ({ Id: String(index), MessageBody: stateChangeBody(id, "running") })),
        }),
      );
    await running().stop("SIGKILL");
    expect(await queueDepth(), "the kill came after every message was handled").toBeGreaterThan(0);
    await start("2s");
    for (const id of ids) await timeUntilProfile(id, "rolecall-web", 20_000);
    await waitFor("the queue to drain", async () => (await queueDepth()) === 0, { timeoutMs: 20_000 });
  });

  it("SIGTERM ends it within 10 s, exit 0, though a 20 s long poll is in flight", async () => {
    const { code, milliseconds } = await running().stop("SIGTERM");
    expect(code).toBe(0);
    expect(milliseconds).toBeLessThan(10_000);
    await start("2s");
  });

  it("the queue deleted under the daemon: a notice in /status, and the resync still converges", async () => {
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    // The long poll in flight when the queue goes only ends after its 20 s (moto keeps waiting, as SQS may).
    const notice = await waitFor(
      "the queue notice",
      async () =>
        (await running().json<StatusDocument>("/status")).notices.find(
          (candidate) => candidate.reason === "InstanceEventsUnavailable",
        ),
      { timeoutMs: 30_000 },
    );
    expect(notice.message).toMatch(
      /queue\/rolecall-instance-events cannot be read \(.*NonExistentQueue|QueueDoesNotExist/,
    );
    expect(await metric("rolecall_instance_events_queue_errors_total", {})).toBeGreaterThan(0);
    const [id = ""] = await launchInstances(ec2, { Role: "web" });
    await timeUntilProfile(id, "rolecall-web", 15_000);
  }, 60_000);
});

describe("rolecall run --instance-events-queue: start-up checks", () => {
  it("refuses what is not an SQS queue URL, naming the expected form", async () => {
    const directory = await dirs.make();
    for (const url of ["sqs://queue", "https://sqs.eu-west-1.amazonaws.com/not-an-account/q"]) {
      const run = await runCliOnMoto(moto, [
        "run",
        "--manifests",
        directory,
        "--port",
        "0",
        "--instance-events-queue",
        url,
      ]);
      expect(run.code, url).toBe(2);
      expect(run.stderr).toContain("https://sqs.REGION.amazonaws.com/ACCOUNT/NAME");
    }
  });

  it("documents both options in --help", async () => {
    const help = await runCliOnMoto(moto, ["run", "--help"]);
    expect(help.stdout).toMatch(/--instance-events-queue <url>[\s\S]*ROLECALL_INSTANCE_EVENTS_QUEUE/);
    expect(help.stdout).toMatch(/--instance-poll <duration>[\s\S]*ROLECALL_INSTANCE_POLL/);
  });
});
