import { connectToSqs } from "../aws/aws-clients.js";
import { systemClock, type Clock } from "../aws/clock.js";
import { deleteMessages, queueLabel, receiveMessages } from "../aws/sqs-queue.js";
import type { RunConfig } from "../config/options.js";
import { routeByTarget } from "../daemon/event-routes.js";
import { InstanceEventConsumer } from "../daemon/instance-event-consumer.js";
import { InstancePoller } from "../daemon/instance-poller.js";
import type { Scheduler } from "../daemon/work-queue.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import type { StatusStore } from "../status/status-store.js";
import { awsSettingsFrom } from "./connect.js";
import type { Leadership } from "./leadership.js";
import type { TargetRuntime } from "./targets-lifecycle.js";

/** What --instance-events-queue and --instance-poll start with --targets. */
export interface TargetsInstanceWatch {
  /** Starts the queue's consumer: events for targets not reached yet stay on the queue until they are. */
  start(): void;
  /** A target was reached (its controller is running): its launch pollers start, one per region. */
  targetReached(runtime: TargetRuntime): void;
  stop(): void;
}

/**
 * run --targets: one consumer of the organisation's one queue, read with the process's own credentials (the
 * queue is in the account rolecall runs in, not a target's), each event handed to the target of its account and
 * region; and with --instance-poll, a poller per region of each reached target, through that target's callers.
 */
export function targetsInstanceWatch(
  config: RunConfig,
  parts: {
    readonly runtimes: readonly TargetRuntime[];
    readonly metrics: Metrics;
    readonly status: StatusStore;
    readonly logger: Logger;
    /** With --lease-table: only the leader receives from the queue. */
    readonly leadership?: Pick<Leadership, "mayWrite">;
    /** For tests; the system's otherwise. */
    readonly clock?: Clock;
    readonly scheduler?: Scheduler;
  },
): TargetsInstanceWatch {
  const consumer = queueConsumer(config, parts);
  const pollers: InstancePoller[] = [];
  let stopped = false;
  return {
    start: () => {
      consumer?.start();
    },
    targetReached: (runtime) => {
      if (stopped || config.instancePoll <= 0) return;
      for (const poller of targetPollers(config, runtime, parts)) {
        pollers.push(poller);
        poller.start();
      }
    },
    stop: () => {
      stopped = true;
      consumer?.stop();
      for (const poller of pollers) poller.stop();
    },
  };
}

function queueConsumer(
  config: RunConfig,
  parts: Parameters<typeof targetsInstanceWatch>[1],
): { start(): void; stop(): void } | undefined {
  const queueUrl = config.instanceEventsQueue;
  if (queueUrl === undefined) return undefined;
  const { runtimes, metrics, status, logger } = parts;
  const region = queueRegion(queueUrl) ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  const home = region ?? runtimes[0]?.spec.regions[0] ?? "us-east-1";
  const sqs = connectToSqs(awsSettingsFrom(config), home, metrics, logger.child({ component: "aws" }));
  const consumer = new InstanceEventConsumer({
    queue: {
      label: queueLabel(queueUrl),
      receive: (waitSeconds) => receiveMessages(sqs, queueUrl, waitSeconds),
      delete: (messages) => deleteMessages(sqs, queueUrl, messages),
    },
    route: routeByTarget(
      runtimes.map((runtime) => ({
        name: runtime.spec.name,
        account: runtime.spec.account,
        regions: runtime.spec.regions,
        handle: () => {
          const controller = runtime.controller;
          return controller === undefined ? undefined : (ids) => controller.instancesChanged(ids);
        },
      })),
    ),
    // Each target's controller says "notReady" until its first resync: those messages are delivered again.
    ready: Promise.resolve(),
    region: undefined,
    metrics,
    status,
    logger: logger.child({ component: "instance-events" }),
    pendingTimeoutMs: config.propagationTimeout,
    clock: parts.clock ?? systemClock,
    ...(parts.scheduler === undefined ? {} : { scheduler: parts.scheduler }),
    mayReceive: () => parts.leadership?.mayWrite() ?? true,
  });
  return {
    start: () => {
      consumer.start();
    },
    stop: () => {
      sqs.stop();
      consumer.stop();
    },
  };
}

/** The region in an SQS queue URL (https://sqs.REGION.amazonaws.com/… or the legacy REGION.queue.amazonaws.com). */
export function queueRegion(queueUrl: string): string | undefined {
  let host: string;
  try {
    host = new URL(queueUrl).hostname;
  } catch {
    return undefined;
  }
  return (
    /^sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/.exec(host)?.[1] ??
    /^([a-z0-9-]+)\.queue\.amazonaws\.com(?:\.cn)?$/.exec(host)?.[1]
  );
}

function targetPollers(
  config: RunConfig,
  runtime: TargetRuntime,
  parts: Parameters<typeof targetsInstanceWatch>[1],
): InstancePoller[] {
  const { controller, connection } = runtime;
  if (controller === undefined || connection === undefined) return [];
  return [...connection.ec2ByRegion].map(
    ([region, ec2]) =>
      new InstancePoller({
        ec2,
        handle: (ids) => controller.instancesChanged(ids),
        knows: (id) => controller.knowsInstance(id),
        ready: controller.whenCached(),
        intervalMs: config.instancePoll,
        pendingTimeoutMs: config.propagationTimeout,
        logger: parts.logger.child({ component: "instance-poll", target: runtime.spec.name, region }),
        clock: parts.clock ?? systemClock,
        ...(parts.scheduler === undefined ? {} : { scheduler: parts.scheduler }),
      }),
  );
}
