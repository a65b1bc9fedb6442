import { systemClock } from "../aws/clock.js";
import { connectToSqs } from "../aws/sqs-client.js";
import { deleteMessages, queueLabel, receiveMessages } from "../aws/sqs-queue.js";
import type { RunConfig } from "../config/options.js";
import type { Controller } from "../daemon/controller.js";
import { oneTarget } from "../daemon/event-routes.js";
import { InstanceEventConsumer } from "../daemon/instance-event-consumer.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import type { StatusStore } from "../status/status-store.js";
import { awsSettingsFrom, type Cloud } from "./connect.js";

/** --instance-events-queue: the consumer of instance events from SQS, over its own SQS caller. */
export function queueWatch(
  queueUrl: string,
  config: RunConfig,
  parts: {
    readonly cloud: Cloud;
    readonly controller: Controller;
    readonly metrics: Metrics;
    readonly status: StatusStore;
    readonly logger: Logger;
    readonly leadership?: { mayWrite(): boolean } | undefined;
  },
): { start(): void; stop(): void } {
  const { cloud, controller, metrics, status, logger } = parts;
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
    route: oneTarget((ids) => controller.instancesChanged(ids)),
    ready: controller.whenCached(),
    region: cloud.region,
    metrics,
    status,
    logger: logger.child({ component: "instance-events" }),
    pendingTimeoutMs: config.propagationTimeout,
    clock: systemClock,
    // A standby's receive would hide each message from the leader for the visibility timeout, and handle none.
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
