import type { AwsApiError } from "../aws/aws-error.js";
import type { Clock } from "../aws/clock.js";
import type { QueueMessage } from "../aws/sqs-queue.js";
import { parseInstanceEvent, type EventOrigin, type InstanceEvent } from "../events/instance-event.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import type { StatusStore } from "../status/status-store.js";
import type { InstanceHandling } from "./controller.js";
import type { EventRoute, HandleInstances, RouteEvent } from "./event-routes.js";
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
  /** Whose controller reads and converges an event's instance (oneTarget without --targets). */
  readonly route: RouteEvent;
  /** Resolves once there is a snapshot to judge events against (the first resync); run --targets: at once. */
  readonly ready: Promise<void>;
  /** The daemon's region: events from others are ignored. Undefined with --targets: routing decides. */
  readonly region: string | undefined;
  readonly metrics: Metrics;
  readonly status: StatusStore;
  readonly logger: Logger;
  /** --propagation-timeout: how long a pending instance is looked at again. */
  readonly pendingTimeoutMs: number;
  readonly clock: Clock;
  readonly scheduler?: Scheduler;
  /**
   * Whether to receive now (a leader: yes; a standby: no). A standby's receive would hide messages from the
   * leader for the visibility timeout, handling none of them. Absent: always.
   */
  readonly mayReceive?: () => boolean;
}

/** How often a standby looks again whether it leads (and should receive). */
const standbyCheckMs = 1000;

/** One read of EC2 per hundred instances: up to ten receives of ten are gathered while messages keep coming. */
const maxReceivesPerBatch = 10;
const backoffBaseMs = 1000;
const backoffMaxMs = 60_000;
/** Account and region pairs remembered so that each is logged once; forgotten all at once past this many. */
const maxLoggedOrigins = 1000;
export const queueNotice = "InstanceEventsUnavailable";

interface Parsed {
  readonly message: QueueMessage;
  readonly event: InstanceEvent;
}

/** The target that saw an instance pending, whose handler looks at it again. */
interface PendingHandler {
  readonly target: string;
  readonly handle: HandleInstances;
}

/** One target's share of a batch (grouped by the target's name): its handler, and the messages per instance. */
interface RouteGroup {
  readonly handle: HandleInstances;
  readonly byInstance: Map<string, Parsed[]>;
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
  /** Which target's handler looks again at each pending instance. */
  private readonly pendingHandle = new Map<string, { target: string; handle: HandleInstances }>();
  private readonly loggedOrigins = new Set<string>();
  private readonly loggedUnreached = new Set<string>();

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
    this.pendingHandle.clear();
  }

  /** For tests: the loop's end after stop(). */
  finished(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  private async run(): Promise<void> {
    await this.deps.ready;
    while (!this.stopped) {
      if (this.deps.mayReceive?.() === false) {
        await this.deps.clock.sleep(standbyCheckMs);
        continue;
      }
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

  /** Parses, routes, reads and converges the batch's instances (one read per target), then deletes what was handled. */
  async handleBatch(messages: readonly QueueMessage[]): Promise<void> {
    const deletable: QueueMessage[] = [];
    const groups = new Map<string, RouteGroup>();
    for (const message of messages) {
      const item = { message, event: parseInstanceEvent(message.body, this.deps.region) };
      this.deps.metrics.instanceEventsReceived.inc({ type: item.event.type });
      if ("why" in item.event) {
        this.ignored(item, item.event.why);
        deletable.push(message);
        continue;
      }
      const route = this.deps.route(item.event);
      if (this.unrouted(route, message, item.event)) {
        if (route.kind === "none") deletable.push(message);
        continue;
      }
      if (route.kind !== "target") continue;
      const group: RouteGroup = groups.get(route.target) ?? {
        handle: route.handle,
        byInstance: new Map<string, Parsed[]>(),
      };
      groups.set(route.target, group);
      const id = item.event.instanceId;
      group.byInstance.set(id, [...(group.byInstance.get(id) ?? []), item]);
    }
    await Promise.all(
      [...groups].map(async ([target, { handle, byInstance }]) => {
        const outcomes = await this.converge(handle, [...byInstance.keys()]);
        for (const [id, items] of byInstance) {
          const outcome = outcomes?.get(id) ?? "failed";
          for (const item of items)
            if (this.settled(id, outcome, item, { target, handle })) deletable.push(item.message);
        }
      }),
    );
    await this.deleteMessages(deletable);
  }

  private ignored(item: Parsed, why: string): void {
    this.deps.logger.warn(
      { messageId: item.message.messageId, type: item.event.type },
      `instance event ignored and deleted: ${why}`,
    );
    this.deps.metrics.instanceEventsHandled.inc({ outcome: "ignored" });
  }

  /**
   * Whether the event has no target to go to now: for no target's account and region (deleted, logged once per
   * pair), or for a target not reached yet (left on the queue: it comes back after the visibility timeout, and the
   * target's first resync converges the instance anyway once it is reached).
   */
  private unrouted(route: EventRoute, message: QueueMessage, { account, region }: EventOrigin): boolean {
    const { metrics, logger } = this.deps;
    const { messageId } = message;
    if (route.kind === "none") {
      metrics.instanceEventsHandled.inc({ outcome: "no-target" });
      const origin = `${account ?? "(no account)"} ${region}`;
      if (this.loggedOrigins.size >= maxLoggedOrigins) this.loggedOrigins.clear();
      if (!this.loggedOrigins.has(origin))
        logger.warn(
          { messageId, account, region },
          "instance event for no target's account and region deleted (logged once per account and region)",
        );
      this.loggedOrigins.add(origin);
      return true;
    }
    if (route.kind === "target") {
      this.loggedUnreached.delete(route.target);
      return false;
    }
    metrics.instanceEventsHandled.inc({ outcome: "retried" });
    if (!this.loggedUnreached.has(route.target))
      logger.warn(
        { messageId, target: route.target },
        "instance event for a target not reached yet left on the queue; it will be delivered again",
      );
    this.loggedUnreached.add(route.target);
    return true;
  }

  /** Reads and converges; undefined when EC2 could not be read (the messages come back: nothing is lost). */
  private async converge(
    handle: HandleInstances,
    ids: readonly string[],
  ): Promise<Map<string, InstanceHandling> | undefined> {
    if (ids.length === 0) return new Map();
    try {
      return await handle(ids);
    } catch (error) {
      this.deps.logger.warn(
        { err: error, instances: ids.length },
        "instance events: reading the instances failed; they will be delivered again",
      );
      return undefined;
    }
  }

  /** Whether a message about this instance may go: handled, not needed, or pending (retried here, not by SQS). */
  private settled(
    instanceId: string,
    outcome: InstanceHandling,
    item: Parsed,
    handler: PendingHandler,
  ): boolean {
    const { metrics } = this.deps;
    const since = item.message.sentAt ?? ("at" in item.event ? item.event.at : undefined);
    if (outcome === "failed" || outcome === "notReady") {
      metrics.instanceEventsHandled.inc({ outcome: "retried" });
      return false;
    }
    if (outcome === "pending") {
      this.waitPending(instanceId, since ?? this.deps.clock.now(), handler);
      metrics.instanceEventsHandled.inc({ outcome: "pending" });
      return true;
    }
    this.settlePending(instanceId);
    metrics.instanceEventsHandled.inc({ outcome });
    if (outcome === "converged" && since !== undefined)
      metrics.instanceEventLatency.observe(Math.max(0, this.deps.clock.now() - since) / 1000);
    return true;
  }

  private waitPending(instanceId: string, since: number, handler: PendingHandler): void {
    if (this.pending.add(instanceId, since)) this.pendingHandle.set(instanceId, handler);
    else this.pendingHandle.delete(instanceId);
  }

  private settlePending(instanceId: string): void {
    this.pending.settle(instanceId);
    this.pendingHandle.delete(instanceId);
  }

  /** The pending instances due, each through the target that saw it pending: one read per target. */
  private async recheckPending(due: ReadonlyMap<string, number>): Promise<void> {
    // Those given up on past the timeout (by PendingInstances itself) need no handler any more.
    for (const id of this.pendingHandle.keys()) if (!this.pending.has(id)) this.pendingHandle.delete(id);
    const byTarget = new Map<string, { handler: PendingHandler; ids: string[] }>();
    for (const id of due.keys()) {
      const handler = this.pendingHandle.get(id);
      if (handler === undefined) continue;
      const group = byTarget.get(handler.target) ?? { handler, ids: [] };
      group.ids.push(id);
      byTarget.set(handler.target, group);
    }
    await Promise.all(
      [...byTarget.values()].map(async ({ handler, ids }) => {
        const outcomes = await this.converge(handler.handle, ids);
        for (const id of ids) this.recheckedPending(id, due.get(id) ?? 0, outcomes?.get(id), handler);
      }),
    );
  }

  private recheckedPending(
    id: string,
    since: number,
    outcome: InstanceHandling | undefined,
    handler: PendingHandler,
  ): void {
    if (outcome === "pending") this.waitPending(id, since, handler);
    else if (outcome !== undefined && outcome !== "failed" && outcome !== "notReady") {
      this.settlePending(id);
      if (outcome === "converged")
        this.deps.metrics.instanceEventLatency.observe(Math.max(0, this.deps.clock.now() - since) / 1000);
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
