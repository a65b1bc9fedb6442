import { systemClock } from "../aws/clock.js";
import type { RunConfig } from "../config/options.js";
import { InstancePoller } from "../daemon/instance-poller.js";
import type { TargetsWatchParts } from "./targets-events-queue.js";
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
export async function targetsInstanceWatch(
  config: RunConfig,
  parts: TargetsWatchParts,
): Promise<TargetsInstanceWatch> {
  const queueUrl = config.instanceEventsQueue;
  // Loaded only with a queue: the SQS client costs memory that a daemon without one never uses.
  const consumer =
    queueUrl === undefined
      ? undefined
      : (await import("./targets-events-queue.js")).targetsQueueWatch(queueUrl, config, parts);
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

function targetPollers(
  config: RunConfig,
  runtime: TargetRuntime,
  parts: TargetsWatchParts,
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
