import { systemClock } from "../aws/clock.js";
import { connectToSqs } from "../aws/sqs-client.js";
import { deleteMessages, queueLabel, receiveMessages } from "../aws/sqs-queue.js";
import type { RunConfig } from "../config/options.js";
import { routeByTarget } from "../daemon/event-routes.js";
import { InstanceEventConsumer } from "../daemon/instance-event-consumer.js";
import { awsSettingsFrom } from "./connect.js";
import type { Clock } from "../aws/clock.js";
import type { Scheduler } from "../daemon/work-queue.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import type { StatusStore } from "../status/status-store.js";
import type { Leadership } from "./leadership.js";
import type { TargetRuntime } from "./targets-lifecycle.js";

/** What the instance watch of run --targets is given (see targets-instance-events.ts). */
export interface TargetsWatchParts {
  readonly runtimes: readonly TargetRuntime[];
  readonly metrics: Metrics;
  readonly status: StatusStore;
  readonly logger: Logger;
  /** With --lease-table: only the leader receives from the queue. */
  readonly leadership?: Pick<Leadership, "mayWrite">;
  /** For tests; the system's otherwise. */
  readonly clock?: Clock;
  readonly scheduler?: Scheduler;
}

/**
 * run --targets --instance-events-queue: one consumer of the organisation's queue, with the process's own
 * credentials, each event routed to the target of its account and region.
 */
export function targetsQueueWatch(
  queueUrl: string,
  config: RunConfig,
  parts: TargetsWatchParts,
): { start(): void; stop(): void } {
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
