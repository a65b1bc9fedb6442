import { connectToSqs } from "../aws/aws-clients.js";
import { systemClock } from "../aws/clock.js";
import { deleteMessages, queueLabel, receiveMessages } from "../aws/sqs-queue.js";
import type { RunConfig } from "../config/options.js";
import type { Controller } from "../daemon/controller.js";
import { oneTarget } from "../daemon/event-routes.js";
import { InstanceEventConsumer } from "../daemon/instance-event-consumer.js";
import { InstancePoller } from "../daemon/instance-poller.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import type { StatusStore } from "../status/status-store.js";
import { awsSettingsFrom, type Cloud } from "./connect.js";

/** What --instance-events-queue and --instance-poll start; stop() ends both. */
export interface InstanceWatch {
  start(): void;
  stop(): void;
}

/** The instance-events consumer and the launch poller, when configured; nothing otherwise (behaviour as before). */
export function instanceWatch(
  config: RunConfig,
  parts: {
    readonly cloud: Cloud;
    readonly controller: Controller;
    readonly metrics: Metrics;
    readonly status: StatusStore;
    readonly logger: Logger;
  },
): InstanceWatch {
  const { cloud, controller, metrics, status, logger } = parts;
  const watchers: InstanceWatch[] = [];
  const handle = (ids: readonly string[]) => controller.instancesChanged(ids);
  const queueUrl = config.instanceEventsQueue;
  if (queueUrl !== undefined) {
    if (config.cloud === "sim")
      throw new Error(
        "--instance-events-queue reads a real SQS queue: it cannot be combined with --cloud sim",
      );
    const sqs = connectToSqs(
      awsSettingsFrom(config),
      cloud.region,
      metrics,
      logger.child({ component: "aws" }),
    );
    const consumer = new InstanceEventConsumer({
      queue: {
        label: queueLabel(queueUrl),
        receive: (waitSeconds) => receiveMessages(sqs, queueUrl, waitSeconds),
        delete: (messages) => deleteMessages(sqs, queueUrl, messages),
      },
      route: oneTarget(handle),
      ready: controller.whenCached(),
      region: cloud.region,
      metrics,
      status,
      logger: logger.child({ component: "instance-events" }),
      pendingTimeoutMs: config.propagationTimeout,
      clock: systemClock,
    });
    watchers.push({
      start: () => {
        consumer.start();
      },
      stop: () => {
        sqs.stop();
        consumer.stop();
      },
    });
  }
  if (config.instancePoll > 0) {
    watchers.push(
      new InstancePoller({
        ec2: cloud.ec2,
        handle,
        knows: (id) => controller.knowsInstance(id),
        ready: controller.whenCached(),
        intervalMs: config.instancePoll,
        pendingTimeoutMs: config.propagationTimeout,
        logger: logger.child({ component: "instance-poll" }),
        clock: systemClock,
      }),
    );
  }
  return {
    start: () => {
      for (const watcher of watchers) watcher.start();
    },
    stop: () => {
      for (const watcher of watchers) watcher.stop();
    },
  };
}
