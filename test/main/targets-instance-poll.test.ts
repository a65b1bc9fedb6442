import type { DescribeInstancesCommandInput } from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import type { AwsCommand } from "../../src/aws/aws-caller.js";
import type { Ec2Caller } from "../../src/aws/region-router.js";
import type { TargetConnection } from "../../src/aws/target-connection.js";
import type { RunConfig } from "../../src/config/options.js";
import type { Controller, InstanceHandling } from "../../src/daemon/controller.js";
import { targetsInstanceWatch } from "../../src/main/targets-instance-events.js";
import type { TargetRuntime } from "../../src/main/targets-lifecycle.js";
import { createLogger } from "../../src/observability/logger.js";
import { Metrics } from "../../src/observability/metrics.js";
import { StatusStore } from "../../src/status/status-store.js";
import { ManualScheduler } from "../support/manual-scheduler.js";

/** One region's EC2 as the poller sees it: records each DescribeInstances and answers with its launches. */
function regionEc2(launched: readonly string[]): Ec2Caller & { readonly sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    send: <Output>(command: AwsCommand) => {
      const input = command.input as DescribeInstancesCommandInput;
      sent.push(input.Filters?.map((filter) => filter.Name).join(",") ?? "");
      const instances = launched.map((id) => ({ InstanceId: id, State: { Name: "running" } }));
      return Promise.resolve({ Reservations: [{ Instances: instances }] } as Output);
    },
    stop: () => undefined,
    guardMutations: () => undefined,
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe("--instance-poll with --targets", () => {
  it("polls each region of a target once it is reached, through that region's caller, and converges what is new", async () => {
    const us = regionEc2(["i-0aaaaaaaaaaaaaaa1"]);
    const eu = regionEc2(["i-0bbbbbbbbbbbbbbb1", "i-0bbbbbbbbbbbbbbb2"]);
    const handled: string[][] = [];
    const controller = {
      instancesChanged: (ids: readonly string[]) => {
        handled.push([...ids]);
        return Promise.resolve(new Map<string, InstanceHandling>(ids.map((id) => [id, "converged"])));
      },
      // Already in the cache: not read again.
      knowsInstance: (id: string) => id === "i-0bbbbbbbbbbbbbbb2",
      whenCached: () => Promise.resolve(),
    } as unknown as Controller;
    const connection = {
      ec2ByRegion: new Map([
        ["us-east-1", us],
        ["eu-west-1", eu],
      ]),
    } as unknown as TargetConnection;
    const runtime: TargetRuntime = {
      spec: { name: "dev", manifests: "dev", account: "222222222222", regions: ["us-east-1", "eu-west-1"] },
      metrics: new Metrics({ defaultMetrics: false }),
      status: new StatusStore(),
    };
    const scheduler = new ManualScheduler();
    const watch = await targetsInstanceWatch(
      { instancePoll: 5000, propagationTimeout: 60_000 } as RunConfig,
      {
        runtimes: [runtime],
        metrics: new Metrics({ defaultMetrics: false }),
        status: new StatusStore(),
        logger: createLogger("silent"),
        clock: scheduler.clock,
        scheduler,
      },
    );
    watch.start();
    await settle();
    expect(scheduler.timers).toHaveLength(0);
    runtime.controller = controller;
    runtime.connection = connection;
    watch.targetReached(runtime);
    await settle();
    expect(scheduler.timers.map((timer) => timer.ms)).toEqual([5000, 5000]);
    scheduler.runAll();
    await settle();
    expect(us.sent).toEqual(["launch-time,instance-state-name"]);
    expect(eu.sent).toEqual(["launch-time,instance-state-name"]);
    expect(handled.sort()).toEqual([["i-0aaaaaaaaaaaaaaa1"], ["i-0bbbbbbbbbbbbbbb1"]]);
    watch.stop();
    await settle();
    expect(scheduler.timers).toHaveLength(0);
  });
});
