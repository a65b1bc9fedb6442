import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon, waitFor, type Daemon } from "../support/daemon.js";
import { manifestYaml, profilesByInstance } from "../support/drift-kit.js";
import { stateChangeBody } from "../support/event-queue.js";
import { clientsInAccount } from "../support/moto-accounts.js";
import { launchInstances, startMoto, testCredentials, testRegion, type Moto } from "../support/moto.js";
import { parsePrometheusText, sampleValue } from "../support/prometheus-text.js";
import { tempDirs } from "../support/temp-dir.js";

const prodAccount = "111111111111";
const devAccount = "222222222222";
const brokenAccount = "333333333333";

/**
 * rolecall run --targets --instance-events-queue against moto_server: one queue in the account rolecall runs in
 * (as an organisation's forwarded events would be), events for three targets' accounts and for none. The resync
 * is 60 s: what converges within seconds did so because of its event.
 */
describe("run --targets with one instance-events queue, against moto_server", () => {
  let moto: Moto;
  let daemon: Daemon;
  let sqs: SQSClient;
  let queueUrl: string;
  const dirs = tempDirs("targets-events");
  type Clients = Awaited<ReturnType<typeof clientsInAccount>>;
  let prod: Clients;
  let devEu: Clients;
  let firstProd = "";
  let firstDev = "";

  const context = () => daemon.logs();
  const metric = async (name: string, labels: Record<string, string>) =>
    sampleValue(parsePrometheusText(await (await daemon.get("/metrics")).text()), name, labels) ?? 0;
  const send = (body: string) => sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
  const queueDepth = async () => {
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
  };

  beforeAll(async () => {
    moto = await startMoto();
    sqs = new SQSClient({
      endpoint: moto.endpoint,
      region: testRegion,
      credentials: testCredentials,
      maxAttempts: 1,
    });
    // In moto's default account, whose credentials the daemon runs with: no target's.
    queueUrl =
      (
        await sqs.send(
          new CreateQueueCommand({
            QueueName: "rolecall-instance-events",
            Attributes: { VisibilityTimeout: "1" },
          }),
        )
      ).QueueUrl ?? "";
    [prod, devEu] = await Promise.all([
      clientsInAccount(moto, prodAccount, "us-east-1"),
      clientsInAccount(moto, devAccount, "eu-west-1"),
    ]);
    [firstProd = ""] = await launchInstances(prod.ec2, { app: "api" });
    [firstDev = ""] = await launchInstances(devEu.ec2, { app: "web" });
    const root = await dirs.make();
    const targetsFile = path.join(root, "..", `${path.basename(root)}-targets.yaml`);
    const target = (name: string, account: string, regions: string[], roleAccount = account) => ({
      name,
      manifests: name,
      account,
      roleArn: `arn:aws:iam::${roleAccount}:role/rolecall-controller`,
      regions,
    });
    await writeFile(
      targetsFile,
      stringify({
        apiVersion: "rolecall.dev/v1alpha1",
        kind: "Targets",
        targets: [
          target("prod", prodAccount, ["us-east-1"]),
          target("dev", devAccount, ["us-east-1", "eu-west-1"]),
          // Its role is another account's: never reached.
          target("broken", brokenAccount, ["us-east-1"], "444444444444"),
        ],
      }),
    );
    for (const dir of ["prod", "dev", "broken"]) await mkdir(path.join(root, dir));
    await writeFile(
      path.join(root, "prod", "api.yaml"),
      manifestYaml({ name: "api", matchTags: { app: "api" } }),
    );
    await writeFile(
      path.join(root, "dev", "web.yaml"),
      manifestYaml({ name: "web", matchTags: { app: "web" } }),
    );
    daemon = await startDaemon({
      moto,
      manifests: root,
      resync: "60s",
      args: ["--targets", targetsFile, "--instance-events-queue", queueUrl, "--log-level", "warn"],
    });
    await waitFor(
      "both reachable targets' first resync",
      async () =>
        (await profilesByInstance(prod.ec2))[firstProd] === "rolecall-api" &&
        (await profilesByInstance(devEu.ec2))[firstDev] === "rolecall-web",
      { timeoutMs: 30_000, context },
    );
  }, 60_000);

  afterAll(async () => {
    await daemon.kill();
    sqs.destroy();
    await moto.stop();
    await dirs.cleanup();
  });

  it("an instance launched in dev's second region holds its profile seconds after its event, not at the resync", async () => {
    const [id = ""] = await launchInstances(devEu.ec2, { app: "web" });
    const started = performance.now();
    await send(stateChangeBody(id, "running", "eu-west-1", devAccount));
    await waitFor(
      "the new instance's profile",
      async () => (await profilesByInstance(devEu.ec2))[id] === "rolecall-web",
      {
        timeoutMs: 15_000,
        intervalMs: 25,
        context,
      },
    );
    const ms = performance.now() - started;
    // The resync is 60 s away; well under it, even on a loaded machine.
    expect(ms, context()).toBeLessThan(15_000);
    expect(await metric("rolecall_instance_events_handled_total", { outcome: "converged" })).toBe(1);
    // The other account's instances are untouched by dev's event.
    expect(await profilesByInstance(prod.ec2)).toEqual({ [firstProd]: "rolecall-api" });
  }, 30_000);

  it("events for no target's account, or a region its target does not select from, are deleted and counted", async () => {
    await send(stateChangeBody("i-0ccccccccccccccc1", "running", "us-east-1", "999999999999"));
    await send(stateChangeBody("i-0ccccccccccccccc2", "running", "us-west-2", prodAccount));
    await waitFor(
      "both to be counted",
      async () => (await metric("rolecall_instance_events_handled_total", { outcome: "no-target" })) === 2,
      {
        timeoutMs: 10_000,
        context,
      },
    );
    await waitFor("the queue to drain", async () => (await queueDepth()) === 0, {
      timeoutMs: 10_000,
      context,
    });
    const logs = daemon.logs();
    expect(logs).toContain('"account":"999999999999"');
  }, 30_000);

  it("an event for the target that cannot be reached stays on the queue", async () => {
    await send(stateChangeBody("i-0ddddddddddddddd1", "running", "us-east-1", brokenAccount));
    // Received, left, received again after the 1 s visibility timeout: never deleted.
    await waitFor(
      "two deliveries of it",
      async () => (await metric("rolecall_instance_events_handled_total", { outcome: "retried" })) >= 2,
      { timeoutMs: 10_000, context },
    );
    expect(await queueDepth()).toBe(1);
    expect(
      await metric("rolecall_instance_events_received_total", { type: "state-change" }),
    ).toBeGreaterThanOrEqual(5);
  }, 30_000);
});
