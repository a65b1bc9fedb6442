import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { InstanceHandling } from "../../src/daemon/controller.js";
import { routeByTarget, type HandleInstances } from "../../src/daemon/event-routes.js";
import { InstanceEventConsumer } from "../../src/daemon/instance-event-consumer.js";
import { queueRegion } from "../../src/main/targets-events-queue.js";
import { Metrics } from "../../src/observability/metrics.js";
import { StatusStore } from "../../src/status/status-store.js";
import { MemoryQueue, stateChangeBody, tagChangeBody } from "../support/event-queue.js";
import { ManualScheduler } from "../support/manual-scheduler.js";

const prod = "111111111111";
const dev = "222222222222";

/** A target's controller as routing sees it: records each read, answers with the outcomes it is given. */
class FakeTarget {
  readonly reads: string[][] = [];
  reached = true;
  outcome: InstanceHandling = "converged";
  readonly handle: HandleInstances = (ids) => {
    this.reads.push([...ids]);
    return Promise.resolve(new Map(ids.map((id) => [id, this.outcome])));
  };
}

function rig(mayReceive?: () => boolean) {
  const targets = { prod: new FakeTarget(), dev: new FakeTarget() };
  const queue = new MemoryQueue();
  const metrics = new Metrics({ defaultMetrics: false });
  const logs: { msg: string; account?: string; target?: string }[] = [];
  const logger = pino(
    { level: "info" },
    { write: (line: string) => logs.push(JSON.parse(line) as (typeof logs)[number]) },
  );
  const scheduler = new ManualScheduler();
  const consumer = new InstanceEventConsumer({
    queue,
    route: routeByTarget([
      {
        name: "prod",
        account: prod,
        regions: ["us-east-1", "eu-west-1"],
        handle: () => (targets.prod.reached ? targets.prod.handle : undefined),
      },
      {
        name: "dev",
        account: dev,
        regions: ["us-east-1"],
        handle: () => (targets.dev.reached ? targets.dev.handle : undefined),
      },
    ]),
    ready: Promise.resolve(),
    region: undefined,
    metrics,
    status: new StatusStore(),
    logger,
    pendingTimeoutMs: 120_000,
    // Sleeps are short real waits: the standby's loop sleeps between its looks at the lease.
    clock: { now: () => scheduler.now, sleep: () => new Promise((resolve) => setTimeout(resolve, 5)) },
    scheduler,
    ...(mayReceive === undefined ? {} : { mayReceive }),
  });
  /** Receives what is on the queue (as the loop would) and handles it as one batch. */
  const handleQueued = async () => consumer.handleBatch(await queue.receive(0));
  const handled = async (outcome: string) => {
    const metric = await metrics.registry.getSingleMetric("rolecall_instance_events_handled_total")?.get();
    return metric?.values.find((value) => value.labels.outcome === outcome)?.value ?? 0;
  };
  return { targets, queue, logs, scheduler, consumer, handleQueued, handled };
}

describe("instance events with --targets: routed by account and region", () => {
  it("each event goes to the target of its account, if it has the event's region: one read per target", async () => {
    const test = rig();
    test.queue.send(stateChangeBody("i-0aaaaaaaaaaaaaaa1", "running", "us-east-1", prod));
    test.queue.send(tagChangeBody("i-0aaaaaaaaaaaaaaa2", { app: "web" }, "eu-west-1", prod));
    test.queue.send(stateChangeBody("i-0bbbbbbbbbbbbbbb1", "running", "us-east-1", dev));
    await test.handleQueued();
    expect(test.targets.prod.reads).toEqual([["i-0aaaaaaaaaaaaaaa1", "i-0aaaaaaaaaaaaaaa2"]]);
    expect(test.targets.dev.reads).toEqual([["i-0bbbbbbbbbbbbbbb1"]]);
    expect(test.queue.depth()).toBe(0);
    expect(await test.handled("converged")).toBe(3);
  });

  it("an event for no target's account and region is deleted, counted, and logged once per pair", async () => {
    const test = rig();
    test.queue.send(stateChangeBody("i-0ccccccccccccccc1", "running", "us-east-1", "999999999999"));
    test.queue.send(stateChangeBody("i-0ccccccccccccccc2", "running", "us-east-1", "999999999999"));
    // dev's account, but not one of dev's regions.
    test.queue.send(stateChangeBody("i-0ccccccccccccccc3", "running", "eu-west-1", dev));
    await test.handleQueued();
    expect(test.queue.depth()).toBe(0);
    expect(test.queue.deleted).toHaveLength(3);
    expect(await test.handled("no-target")).toBe(3);
    expect(test.targets.prod.reads).toEqual([]);
    expect(test.targets.dev.reads).toEqual([]);
    const logged = test.logs.filter((line) => line.msg.includes("no target's account and region"));
    expect(logged.map((line) => line.account)).toEqual(["999999999999", dev]);
  });

  it("an event for a target not reached yet stays on the queue, and is handled once it is reached", async () => {
    const test = rig();
    test.targets.dev.reached = false;
    test.queue.send(stateChangeBody("i-0bbbbbbbbbbbbbbb1", "running", "us-east-1", dev));
    test.queue.send(stateChangeBody("i-0aaaaaaaaaaaaaaa1", "running", "us-east-1", prod));
    await test.handleQueued();
    expect(test.queue.deleted).toHaveLength(1);
    expect(test.queue.depth()).toBe(1);
    expect(await test.handled("retried")).toBe(1);
    expect(test.logs.filter((line) => line.target === "dev")).toHaveLength(1);
    test.targets.dev.reached = true;
    test.queue.redeliver();
    await test.handleQueued();
    expect(test.queue.depth()).toBe(0);
    expect(test.targets.dev.reads).toEqual([["i-0bbbbbbbbbbbbbbb1"]]);
  });

  it("a target whose controller is not cached yet (notReady) leaves the message for redelivery", async () => {
    const test = rig();
    test.targets.prod.outcome = "notReady";
    test.queue.send(stateChangeBody("i-0aaaaaaaaaaaaaaa1", "running", "us-east-1", prod));
    await test.handleQueued();
    expect(test.queue.depth()).toBe(1);
    expect(test.queue.deleted).toEqual([]);
  });

  it("a pending instance is looked at again through the target that saw it, not another", async () => {
    const test = rig();
    test.targets.dev.outcome = "pending";
    test.queue.send(stateChangeBody("i-0bbbbbbbbbbbbbbb1", "pending", "us-east-1", dev));
    test.queue.send(stateChangeBody("i-0bbbbbbbbbbbbbbb2", "pending", "us-east-1", dev));
    await test.handleQueued();
    expect(test.queue.depth()).toBe(0);
    test.targets.dev.outcome = "converged";
    test.scheduler.runAll();
    await new Promise((resolve) => setImmediate(resolve));
    expect(test.targets.dev.reads).toEqual([
      ["i-0bbbbbbbbbbbbbbb1", "i-0bbbbbbbbbbbbbbb2"],
      ["i-0bbbbbbbbbbbbbbb1", "i-0bbbbbbbbbbbbbbb2"],
    ]);
    expect(test.targets.prod.reads).toEqual([]);
  });
});

describe("instance events under a lease", () => {
  it("a standby does not receive (it would hide the messages from the leader); once leading, it does", async () => {
    let leading = false;
    const test = rig(() => leading);
    test.queue.send(stateChangeBody("i-0aaaaaaaaaaaaaaa1", "running", "us-east-1", prod));
    test.consumer.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(test.queue.receives).toBe(0);
    leading = true;
    const deadline = Date.now() + 5000;
    while (test.queue.depth() > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 5));
    expect(test.queue.deleted).toHaveLength(1);
    expect(test.targets.prod.reads).toEqual([["i-0aaaaaaaaaaaaaaa1"]]);
    test.consumer.stop();
    test.queue.send("wake");
    await test.consumer.finished();
  });
});

describe("queueRegion", () => {
  it("reads the region from an SQS queue URL, and none from an endpoint that does not say", () => {
    expect(queueRegion("https://sqs.eu-west-1.amazonaws.com/111111111111/rolecall-instance-events")).toBe(
      "eu-west-1",
    );
    expect(queueRegion("https://us-west-2.queue.amazonaws.com/111111111111/q")).toBe("us-west-2");
    expect(queueRegion("http://127.0.0.1:5000/123456789012/q")).toBeUndefined();
    expect(queueRegion("not a url")).toBeUndefined();
  });
});
