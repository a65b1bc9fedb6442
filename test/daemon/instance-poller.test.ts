import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/aws/clock.js";
import { launchTimePrefixes } from "../../src/aws/launched-instances.js";
import { InstancePoller } from "../../src/daemon/instance-poller.js";
import { createLogger } from "../../src/observability/logger.js";
import { createCallers } from "../../src/aws/aws-clients.js";
import { controllerHarnesses, simSettings } from "../support/controller-harness.js";

const harnesses = controllerHarnesses("instance-poller");
afterEach(() => harnesses.cleanup());

describe("launchTimePrefixes: a window of launch times as EC2 wildcard values", () => {
  const at = (iso: string) => Date.parse(iso);

  it("covers a short window minute by minute, both ends included", () => {
    expect(launchTimePrefixes(at("2026-12-02T01:54:40Z"), at("2026-12-02T01:56:05Z"))).toEqual([
      "2026-12-02T01:54*",
      "2026-12-02T01:55*",
      "2026-12-02T01:56*",
    ]);
  });

  it("turns to hours, then days, before EC2's 200 values per filter", () => {
    const hours = launchTimePrefixes(at("2026-12-01T20:00:00Z"), at("2026-12-02T02:00:00Z"));
    expect(hours[0]).toBe("2026-12-01T20*");
    expect(hours).toHaveLength(7);
    const days = launchTimePrefixes(at("2026-10-01T00:00:00Z"), at("2026-12-02T00:00:00Z"));
    expect(days[0]).toBe("2026-10-01*");
    expect(days.at(-1)).toBe("2026-12-02*");
    expect(launchTimePrefixes(at("2000-01-01T00:00:00Z"), at("2026-12-02T00:00:00Z")).length).toBe(200);
  });

  it("matches every launch time inside the window (EC2's format: 2026-12-02T01:54:40.123Z)", () => {
    const since = at("2026-12-02T01:54:40Z");
    const until = at("2026-12-02T03:10:00Z");
    const prefixes = launchTimePrefixes(since, until).map((prefix) => prefix.slice(0, -1));
    for (let time = since; time <= until; time += 37_000) {
      const iso = new Date(time).toISOString();
      expect(
        prefixes.some((prefix) => iso.startsWith(prefix)),
        iso,
      ).toBe(true);
    }
  });
});

describe("--instance-poll", () => {
  it("finds a launch with one DescribeInstances and converges it; a poll with nothing new costs one call", async () => {
    const harness = await harnesses.start([{ name: "alpha", matchTags: { Team: "alpha" } }]);
    await harness.resync();
    const { ec2 } = createCallers(harness.sim, simSettings, harness.metrics);
    const poller = new InstancePoller({
      ec2,
      handle: (ids) => harness.controller.instancesChanged(ids),
      knows: (id) => harness.controller.knowsInstance(id),
      ready: Promise.resolve(),
      intervalMs: 3_600_000,
      pendingTimeoutMs: 1000,
      logger: createLogger("silent"),
      clock: systemClock,
    });
    harnesses.defer(() => {
      poller.stop();
      return Promise.resolve();
    });
    const id = harness.sim.launchInstance({ tags: { Team: "alpha" } });
    const before = harness.sim.calls.length;
    await poller.poll();
    const calls = harness.sim.calls.slice(before);
    expect(calls).toContain("ec2:AssociateIamInstanceProfile");
    expect(harness.controller.knowsInstance(id)).toBe(true);
    // The poll's read, then the read by ID of the one new instance (and its associations).
    expect(calls.filter((call) => call === "ec2:DescribeInstances")).toHaveLength(2);

    const quiet = harness.sim.calls.length;
    await poller.poll();
    expect(harness.sim.calls.slice(quiet)).toEqual(["ec2:DescribeInstances"]);
  });
});
