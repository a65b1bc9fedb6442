import {
  DescribeIamInstanceProfileAssociationsCommand,
  type DescribeIamInstanceProfileAssociationsCommandOutput,
} from "@aws-sdk/client-ec2";
import { afterEach, describe, expect, it } from "vitest";
import type { SimCloud } from "../../src/aws/sim/sim-cloud.js";
import { systemClock, type Clock } from "../../src/aws/clock.js";
import { compositeName } from "../../src/desired/composite.js";
import { oneTarget } from "../../src/daemon/event-routes.js";
import { InstanceEventConsumer, queueNotice } from "../../src/daemon/instance-event-consumer.js";
import type { Scheduler } from "../../src/daemon/work-queue.js";
import { createLogger } from "../../src/observability/logger.js";
import { controllerHarnesses, within, type ControllerHarness } from "../support/controller-harness.js";
import type { ManifestSpec } from "../support/drift-kit.js";
import { MemoryQueue, stateChangeBody, tagChangeBody } from "../support/event-queue.js";
import { VirtualClock } from "../support/virtual-clock.js";

const harnesses = controllerHarnesses("instance-events");
afterEach(() => harnesses.cleanup());

const alpha: ManifestSpec = { name: "alpha", matchTags: { Team: "alpha" } };
const beta: ManifestSpec = { name: "beta", matchTags: { Team: "beta" } };

async function profileOf(sim: SimCloud, instanceId: string): Promise<string | undefined> {
  const output = (await sim.ec2.send(
    new DescribeIamInstanceProfileAssociationsCommand({
      Filters: [{ Name: "instance-id", Values: [instanceId] }],
    }),
  )) as DescribeIamInstanceProfileAssociationsCommandOutput;
  return output.IamInstanceProfileAssociations?.find((association) => association.State === "associated")
    ?.IamInstanceProfile?.Arn?.split("/")
    .at(-1);
}

/** A scheduler whose timers run only when the test says so, moving `now` to when they were due. */
class ManualScheduler implements Scheduler {
  readonly timers: { ms: number; callback: () => void }[] = [];
  now = 1_000_000;
  readonly clock: Clock = { now: () => this.now, sleep: (ms) => systemClock.sleep(ms) };
  schedule(ms: number, callback: () => void) {
    const timer = { ms, callback };
    this.timers.push(timer);
    return {
      cancel: () => {
        this.timers.splice(this.timers.indexOf(timer), 1);
      },
    };
  }
  runAll(): number {
    const due = this.timers.splice(0);
    this.now += Math.max(0, ...due.map((timer) => timer.ms));
    for (const timer of due) timer.callback();
    return due.length;
  }
}

interface Rig {
  readonly harness: ControllerHarness;
  readonly queue: MemoryQueue;
  readonly consumer: InstanceEventConsumer;
  readonly scheduler: ManualScheduler;
  /** The sim's calls since the last look, read-only ones included. */
  calls(): string[];
  counter(name: string, labels: Record<string, string>): Promise<number>;
}

async function rig(specs: readonly ManifestSpec[], given?: Clock): Promise<Rig> {
  const harness = await harnesses.start(specs, {
    instances: [{ id: "i-0aaaaaaaaaaaaaaa1", tags: { Team: "alpha" } }],
  });
  await harness.resync();
  const queue = new MemoryQueue();
  const scheduler = new ManualScheduler();
  const clock = given ?? scheduler.clock;
  const consumer = new InstanceEventConsumer({
    queue,
    route: oneTarget((ids) => harness.controller.instancesChanged(ids)),
    ready: harness.controller.whenCached(),
    region: "us-east-1",
    metrics: harness.metrics,
    status: harness.status,
    logger: createLogger("silent"),
    pendingTimeoutMs: 120_000,
    clock,
    scheduler,
  });
  harnesses.defer(async () => {
    consumer.stop();
    queue.send("wake");
    await consumer.finished();
  });
  let seen = harness.sim.calls.length;
  return {
    harness,
    queue,
    consumer,
    scheduler,
    calls: () => {
      const fresh = harness.sim.calls.slice(seen);
      seen = harness.sim.calls.length;
      return fresh;
    },
    counter: async (name, labels) => {
      const metric = await harness.metrics.registry.getSingleMetric(name)?.get();
      const sample = metric?.values.find((value) =>
        Object.entries(labels).every(([key, label]) => value.labels[key] === label),
      );
      return sample?.value ?? 0;
    },
  };
}

/** Runs the consumer until the queue is empty (every message deleted). */
async function drain(test: Rig): Promise<void> {
  test.consumer.start();
  await within(
    "the queue to drain",
    5000,
    (async () => {
      while (test.queue.depth() > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    })(),
  );
}

describe("instance events", () => {
  it("a launch event converges the new instance with one read of it, not of the fleet", async () => {
    const test = await rig([alpha]);
    const id = test.harness.sim.launchInstance({ tags: { Team: "alpha" } });
    test.calls();
    test.queue.send(stateChangeBody(id, "running"));
    await drain(test);
    expect(await profileOf(test.harness.sim, id)).toBe("rolecall-alpha");
    const calls = test.calls();
    expect(calls.filter((call) => call === "ec2:DescribeInstances")).toHaveLength(1);
    expect(calls.filter((call) => call.startsWith("iam:"))).toEqual([]);
    expect(calls).toContain("ec2:AssociateIamInstanceProfile");
    expect(await test.counter("rolecall_instance_events_received_total", { type: "state-change" })).toBe(1);
    expect(await test.counter("rolecall_instance_events_handled_total", { outcome: "converged" })).toBe(1);
    const latency = await test.harness.metrics.registry
      .getSingleMetric("rolecall_instance_event_to_converged_seconds")
      ?.get();
    const count = latency?.values.find(
      (value) => (value as { metricName?: string }).metricName?.endsWith("_count") === true,
    );
    expect(count?.value).toBe(1);
  });

  it("a tag added converges the instance; a tag removed takes the profile away", async () => {
    const test = await rig([alpha, beta]);
    const id = test.harness.sim.launchInstance({ tags: { Team: "none" } });
    test.harness.sim.setInstanceTags(id, { Team: "beta" });
    test.queue.send(tagChangeBody(id, { Team: "beta" }));
    await drain(test);
    expect(await profileOf(test.harness.sim, id)).toBe("rolecall-beta");
    test.harness.sim.setInstanceTags(id, { Team: "alpha" });
    test.queue.send(tagChangeBody(id, { Team: "alpha" }));
    await drain(test);
    expect(await profileOf(test.harness.sim, id)).toBe("rolecall-alpha");
    test.harness.sim.setInstanceTags(id, {});
    test.queue.send(tagChangeBody(id, {}));
    await drain(test);
    expect(await profileOf(test.harness.sim, id)).toBeUndefined();
  });

  it("an instance selected by two manifests gets their composite; losing one tag moves it back", async () => {
    const ops: ManifestSpec = { name: "ops", matchTags: { Env: "prod" } };
    const test = await rig([alpha, ops]);
    const id = test.harness.sim.launchInstance({ tags: { Team: "alpha", Env: "prod" } });
    test.queue.send(stateChangeBody(id, "running"));
    await drain(test);
    expect(await profileOf(test.harness.sim, id)).toBe(compositeName(["alpha", "ops"], "/rolecall/"));
    test.harness.sim.setInstanceTags(id, { Env: "prod" });
    test.queue.send(tagChangeBody(id, { Env: "prod" }));
    await drain(test);
    expect(await profileOf(test.harness.sim, id)).toBe("rolecall-ops");
  });

  it("duplicates and out-of-order events are harmless: the instance is read, not the event trusted", async () => {
    const test = await rig([alpha]);
    const id = test.harness.sim.launchInstance({ tags: { Team: "alpha" } });
    // The "stopped" event of an earlier life arrives after "running", and "running" twice.
    test.queue.send(stateChangeBody(id, "running"));
    test.queue.send(stateChangeBody(id, "running"));
    test.queue.send(stateChangeBody(id, "stopped"));
    test.calls();
    await drain(test);
    expect(await profileOf(test.harness.sim, id)).toBe("rolecall-alpha");
    const calls = test.calls();
    expect(calls.filter((call) => call === "ec2:AssociateIamInstanceProfile")).toHaveLength(1);
    expect(calls.filter((call) => call === "ec2:DescribeInstances")).toHaveLength(1);
    expect(test.queue.deleted).toHaveLength(3);
  });

  it("garbage, other regions and unknown types are counted and deleted, and nothing is read for them", async () => {
    const test = await rig([alpha]);
    test.queue.send("{ not json");
    test.queue.send(stateChangeBody("i-0bbbbbbbbbbbbbbb1", "running", "eu-west-1"));
    test.queue.send(JSON.stringify({ "detail-type": "Something Else", region: "us-east-1" }));
    test.calls();
    await drain(test);
    expect(test.queue.deleted).toHaveLength(3);
    expect(test.calls().filter((call) => call.startsWith("ec2:"))).toEqual([]);
    for (const type of ["unparseable", "other-region", "unknown"])
      expect(await test.counter("rolecall_instance_events_received_total", { type })).toBe(1);
  });

  it("a terminated instance leaves the cache; one that never existed needs nothing", async () => {
    const test = await rig([alpha]);
    expect(test.harness.controller.knowsInstance("i-0aaaaaaaaaaaaaaa1")).toBe(true);
    test.harness.sim.setInstanceState("i-0aaaaaaaaaaaaaaa1", "terminated");
    test.queue.send(stateChangeBody("i-0aaaaaaaaaaaaaaa1", "terminated"));
    test.queue.send(stateChangeBody("i-0fffffffffffffff9", "running"));
    await drain(test);
    expect(test.harness.controller.knowsInstance("i-0aaaaaaaaaaaaaaa1")).toBe(false);
    expect(await test.counter("rolecall_instance_events_handled_total", { outcome: "gone" })).toBe(2);
  });

  it("a pending instance is looked at again until it runs, then converged", async () => {
    const test = await rig([alpha]);
    const id = test.harness.sim.launchInstance({ tags: { Team: "alpha" }, state: "pending" });
    test.queue.send(stateChangeBody(id, "pending"));
    await drain(test);
    expect(await profileOf(test.harness.sim, id)).toBeUndefined();
    expect(test.harness.controller.knowsInstance(id)).toBe(false);
    // Still pending at the first recheck: looked at again later.
    expect(test.scheduler.runAll()).toBe(1);
    await within(
      "a recheck",
      2000,
      (async () => {
        while (test.scheduler.timers.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      })(),
    );
    test.harness.sim.setInstanceState(id, "running");
    test.scheduler.runAll();
    await within(
      "the instance to converge",
      2000,
      (async () => {
        while ((await profileOf(test.harness.sim, id)) === undefined)
          await new Promise((resolve) => setTimeout(resolve, 5));
      })(),
    );
    expect(await test.counter("rolecall_instance_events_handled_total", { outcome: "pending" })).toBe(1);
  });

  it("a burst is read a hundred instances at a time", async () => {
    const test = await rig([alpha]);
    const ids = Array.from({ length: 150 }, () =>
      test.harness.sim.launchInstance({ tags: { Team: "alpha" } }),
    );
    for (const id of ids) test.queue.send(stateChangeBody(id, "running"));
    test.calls();
    await drain(test);
    for (const id of ids.slice(0, 3)) expect(await profileOf(test.harness.sim, id)).toBe("rolecall-alpha");
    const calls = test.calls();
    expect(calls.filter((call) => call === "ec2:DescribeInstances")).toHaveLength(2);
    expect(calls.filter((call) => call === "ec2:AssociateIamInstanceProfile")).toHaveLength(150);
  });

  it("an unreadable queue is a notice, a metric and a backoff; readable again, the notice goes", async () => {
    const clock = new VirtualClock(1_000_000);
    const test = await rig([alpha], clock);
    test.queue.failWith = Object.assign(new Error("The specified queue does not exist."), {
      code: "QueueDoesNotExist",
    });
    test.consumer.start();
    await within(
      "three failed receives",
      2000,
      (async () => {
        while (test.queue.receives < 3) await new Promise((resolve) => setTimeout(resolve, 1));
      })(),
    );
    const notices = (await test.harness.statusDocument()).notices;
    expect(notices.find((notice) => notice.reason === queueNotice)?.message).toMatch(
      /queue\/test-events.*QueueDoesNotExist/,
    );
    expect(
      await test.counter("rolecall_instance_events_queue_errors_total", { code: "QueueDoesNotExist" }),
    ).toBeGreaterThanOrEqual(3);
    expect(clock.sleeps.slice(0, 3)).toEqual([1000, 2000, 4000]);
    test.queue.failWith = undefined;
    await within(
      "the notice to clear",
      2000,
      (async () => {
        while ((await test.harness.statusDocument()).notices.some((notice) => notice.reason === queueNotice))
          await new Promise((resolve) => setTimeout(resolve, 1));
      })(),
    );
  });

  it("a failed read of EC2 deletes nothing: the messages come back", async () => {
    const test = await rig([alpha]);
    const id = test.harness.sim.launchInstance({ tags: { Team: "alpha" } });
    const failing = new InstanceEventConsumer({
      queue: test.queue,
      route: oneTarget(() => Promise.reject(new Error("EC2 is down"))),
      ready: Promise.resolve(),
      region: "us-east-1",
      metrics: test.harness.metrics,
      status: test.harness.status,
      logger: createLogger("silent"),
      pendingTimeoutMs: 1000,
      clock: systemClock,
    });
    test.queue.send(stateChangeBody(id, "running"));
    await failing.handleBatch(await test.queue.receive(0));
    expect(test.queue.deleted).toEqual([]);
    test.queue.redeliver();
    await drain(test);
    expect(await profileOf(test.harness.sim, id)).toBe("rolecall-alpha");
  });
});
