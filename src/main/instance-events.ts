import { systemClock } from "../aws/clock.js";
import type { RunConfig } from "../config/options.js";
import type { Controller } from "../daemon/controller.js";
import { InstancePoller } from "../daemon/instance-poller.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import type { StatusStore } from "../status/status-store.js";
import type { Cloud } from "./connect.js";

/** What --instance-events-queue and --instance-poll start; stop() ends both. */
export interface InstanceWatch {
  start(): void;
  stop(): void;
}

/** The instance-events consumer and the launch poller, when configured; nothing otherwise (behaviour as before). */
export async function instanceWatch(
  config: RunConfig,
  parts: {
    readonly cloud: Cloud;
    readonly controller: Controller;
    readonly metrics: Metrics;
    readonly status: StatusStore;
    readonly logger: Logger;
    /** --lease-table: only the leader receives (a standby's receive would hide messages from it). */
    readonly leadership?: { mayWrite(): boolean } | undefined;
  },
): Promise<InstanceWatch> {
  const { cloud, controller, logger } = parts;
  const watchers: InstanceWatch[] = [];
  const handle = (ids: readonly string[]) => controller.instancesChanged(ids);
  const queueUrl = config.instanceEventsQueue;
  if (queueUrl !== undefined) {
    if (config.cloud === "sim")
      throw new Error(
        "--instance-events-queue reads a real SQS queue: it cannot be combined with --cloud sim",
      );
    // Loaded only with a queue: the SQS client costs memory that a daemon without one never uses.
    const { queueWatch } = await import("./instance-events-queue.js");
    watchers.push(queueWatch(queueUrl, config, parts));
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
