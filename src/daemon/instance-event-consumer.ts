import type { AwsApiError } from "../aws/aws-error.js";
import type { Clock } from "../aws/clock.js";
import type { QueueMessage } from "../aws/sqs-queue.js";
import { parseInstanceEvent, type InstanceEvent } from "../events/instance-event.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import type { StatusStore } from "../status/status-store.js";
import type { InstanceHandling } from "./controller.js";
import { PendingInstances } from "./pending-instances.js";
import { systemScheduler, type Scheduler } from "./work-queue.js";

/** The queue as the consumer uses it (SQS in production: see sqs-queue.ts). */
export interface EventQueue {
  /** Up to ten messages; waits up to `waitSeconds` for the first. */
  receive(waitSeconds: number): Promise<QueueMessage[]>;
  /** Returns the IDs of messages that could not be deleted. */
  delete(messages: readonly QueueMessage[]): Promise<string[]>;
  /** For messages: "queue/NAME". */
  readonly label: string;
}

export interface ConsumerDeps {
  readonly queue: EventQueue;
  /** The controller's instancesChanged: reads the instances and converges what they concern. */
  readonly handle: (instanceIds: readonly string[]) => Promise<Map<string, InstanceHandling>>;
  /** Resolves once there is a snapshot to judge events against (the first resync). */
  readonly ready: Promise<void>;
  readonly region: string;
  readonly metrics: Metrics;
  readonly status: StatusStore;
  readonly logger: Logger;
  /** --propagation-timeout: how long a pending instance is looked at again. */
  readonly pendingTimeoutMs: number;
  readonly clock: Clock;
  readonly scheduler?: Scheduler;
}

/** One read of EC2 per hundred instances: up to ten receives of ten are gathered while messages keep coming. */
const maxReceivesPerBatch = 10;
const backoffBaseMs = 1000;
const backoffMaxMs = 60_000;
export const queueNotice = "InstanceEventsUnavailable";

interface Parsed {
  readonly message: QueueMessage;
  readonly event: InstanceEvent;
}

/**
 * Long-polls the instance-events queue and turns each batch of messages into one read of the instances they name
 * and one reconcile of what those instances concern. A message is deleted only once its instance is handled (or
 * needs nothing), so a crash loses no event; a queue that cannot be read is a notice, a metric and a backoff,
 * and nothing else stops.
 */
export class InstanceEventConsumer {
  private stopped = false;
  private failures = 0;
  private loop: Promise<void> | undefined;
  private readonly pending: PendingInstances;

  constructor(private readonly deps: ConsumerDeps) {
    this.pending = new PendingInstances(
      (due) => this.recheckPending(due),
      { timeoutMs: deps.pendingTimeoutMs },
      deps.clock,
      deps.scheduler ?? systemScheduler,
    );
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops polling. A receive in flight is not waited for: its messages come back after the visibility timeout. */
  stop(): void {
    this.stopped = true;
    this.pending.stop();
  }

  /** For tests: the loop's end after stop(). */
  finished(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  private async run(): Promise<void> {
    await this.deps.ready;
    while (!this.stopped) {
      let messages: QueueMessage[];
      try {
        messages = await this.collect();
        this.queueReadable();
      } catch (error) {
        await this.queueFailed(error);
        continue;
      }
      if (messages.length > 0) await this.handleBatch(messages);
    }
  }

  /** One long poll; while full batches keep coming, more without waiting, up to a hundred messages. */
  private async collect(): Promise<QueueMessage[]> {
    const messages = await this.deps.queue.receive(20);
    for (let receives = 1; receives < maxReceivesPerBatch && messages.length === receives * 10; receives++) {
      if (this.stopped) break;
      messages.push(...(await this.deps.queue.receive(0)));
    }
    return messages;
  }

  /** Parses, reads and converges the batch's instances, then deletes what was handled. */
  async handleBatch(messages: readonly QueueMessage[]): Promise<void> {
    const { metrics, logger } = this.deps;
    const parsed: Parsed[] = messages.map((message) => ({
      message,
      event: parseInstanceEvent(message.body, this.deps.region),
    }));
    const deletable: QueueMessage[] = [];
    const byInstance = new Map<string, Parsed[]>();
    for (const item of parsed) {
      metrics.instanceEventsReceived.inc({ type: item.event.type });
      if ("why" in item.event) {
        logger.warn(
          { messageId: item.message.messageId, type: item.event.type },
          `instance event ignored and deleted: ${item.event.why}`,
        );
        metrics.instanceEventsHandled.inc({ outcome: "ignored" });
        deletable.push(item.message);
        continue;
      }
      byInstance.set(item.event.instanceId, [...(byInstance.get(item.event.instanceId) ?? []), item]);
    }
    const outcomes = await this.converge([...byInstance.keys()]);
    for (const [id, items] of byInstance) {
      const outcome = outcomes?.get(id) ?? "failed";
      for (const item of items) if (this.settled(id, outcome, item)) deletable.push(item.message);
    }
    await this.deleteMessages(deletable);
  }

  /** Reads and converges; undefined when EC2 could not be read (the messages come back: nothing is lost). */
  private async converge(ids: readonly string[]): Promise<Map<string, InstanceHandling> | undefined> {
    if (ids.length === 0) return new Map();
    try {
      return await this.deps.handle(ids);
    } catch (error) {
      this.deps.logger.warn(
        { err: error, instances: ids.length },
        "instance events: reading the instances failed; they will be delivered again",
      );
      return undefined;
    }
  }

  /** Whether a message about this instance may go: handled, not needed, or pending (retried here, not by SQS). */
  private settled(instanceId: string, outcome: InstanceHandling, item: Parsed): boolean {
    const { metrics } = this.deps;
    const since = item.message.sentAt ?? ("at" in item.event ? item.event.at : undefined);
    if (outcome === "failed" || outcome === "notReady") {
      metrics.instanceEventsHandled.inc({ outcome: "retried" });
      return false;
    }
    if (outcome === "pending") {
      this.pending.add(instanceId, since ?? this.deps.clock.now());
      metrics.instanceEventsHandled.inc({ outcome: "pending" });
      return true;
    }
    this.pending.settle(instanceId);
    metrics.instanceEventsHandled.inc({ outcome });
    if (outcome === "converged" && since !== undefined)
      metrics.instanceEventLatency.observe(Math.max(0, this.deps.clock.now() - since) / 1000);
    return true;
  }

  private async recheckPending(due: ReadonlyMap<string, number>): Promise<void> {
    const outcomes = await this.converge([...due.keys()]);
    for (const [id, since] of due) {
      const outcome = outcomes?.get(id);
      if (outcome === "pending") this.pending.add(id, since);
      else if (outcome !== undefined && outcome !== "failed" && outcome !== "notReady") {
        this.pending.settle(id);
        if (outcome === "converged")
          this.deps.metrics.instanceEventLatency.observe(Math.max(0, this.deps.clock.now() - since) / 1000);
      }
    }
  }

  private async deleteMessages(messages: readonly QueueMessage[]): Promise<void> {
    if (messages.length === 0) return;
    try {
      const refused = await this.deps.queue.delete(messages);
      for (const messageId of refused)
        this.deps.logger.warn(
          { messageId },
          "instance event could not be deleted; it will be delivered again",
        );
    } catch (error) {
      // Harmless: redelivered messages are handled again, at the cost of one read.
      this.deps.logger.warn(
        { err: error },
        "instance events could not be deleted; they will be delivered again",
      );
    }
  }

  private queueReadable(): void {
    if (this.failures === 0) return;
    this.failures = 0;
    this.deps.status.setNotice(queueNotice, undefined);
    this.deps.logger.info({ queue: this.deps.queue.label }, "instance-events queue readable again");
  }

  /** A notice, a metric, one log line per run of failures, and a backoff (1 s doubling to a minute). */
  private async queueFailed(error: unknown): Promise<void> {
    const code = (error as Partial<AwsApiError>).code ?? "Error";
    this.failures += 1;
    this.deps.metrics.instanceEventsQueueErrors.inc({ code });
    const delay = Math.min(backoffMaxMs, backoffBaseMs * 2 ** (this.failures - 1));
    this.deps.status.setNotice(
      queueNotice,
      `the instance-events queue ${this.deps.queue.label} cannot be read (${code}); retrying every ${Math.round(delay / 1000)} s at most, the resync still converges everything`,
    );
    if (this.failures === 1)
      this.deps.logger.error(
        { err: error, queue: this.deps.queue.label, code },
        "instance-events queue cannot be read",
      );
    await this.deps.clock.sleep(delay);
  }
}
