import type { Ec2Caller } from "../aws/region-router.js";
import { readLaunchedInstances } from "../aws/launched-instances.js";
import type { Clock } from "../aws/clock.js";
import type { Logger } from "../observability/logger.js";
import type { InstanceHandling } from "./controller.js";
import { PendingInstances } from "./pending-instances.js";
import { systemScheduler, type Scheduler } from "./work-queue.js";

export interface PollerDeps {
  readonly ec2: Ec2Caller;
  readonly handle: (instanceIds: readonly string[]) => Promise<Map<string, InstanceHandling>>;
  /** Whether the cache already holds this instance (running or stopped): nothing new to look at. */
  readonly knows: (instanceId: string) => boolean;
  readonly ready: Promise<void>;
  readonly intervalMs: number;
  readonly pendingTimeoutMs: number;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly scheduler?: Scheduler;
}

/** A launch seen at the edge of a poll's window is looked for again by the next one (clocks are not exact). */
const overlapMs = 60_000;

/**
 * --instance-poll, for accounts without the EventBridge rule: every interval, one DescribeInstances for the
 * instances launched since the last poll; those the cache does not know are read and converged as an event's
 * would be, and pending ones are looked at again until they run. It sees launches, not tag changes.
 */
export class InstancePoller {
  private stopped = false;
  private since: number;
  private readonly pending: PendingInstances;
  private timer: { cancel(): void } | undefined;

  constructor(private readonly deps: PollerDeps) {
    this.since = deps.clock.now();
    this.pending = new PendingInstances(
      async (due) => {
        await this.converge([...due.keys()]);
      },
      { timeoutMs: deps.pendingTimeoutMs },
      deps.clock,
      deps.scheduler ?? systemScheduler,
    );
  }

  start(): void {
    void this.deps.ready.then(() => {
      this.schedule();
    });
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.pending.stop();
  }

  /** One poll; exposed so tests need not wait for the interval. */
  async poll(): Promise<void> {
    const until = this.deps.clock.now();
    let launched;
    try {
      launched = await readLaunchedInstances(this.deps.ec2, this.since - overlapMs, until);
    } catch (error) {
      this.deps.logger.warn({ err: error }, "instance poll failed; the next one covers the same launches");
      return;
    }
    this.since = until;
    const unknown = launched
      .filter((instance) => !this.deps.knows(instance.id))
      .map((instance) => instance.id);
    await this.converge(unknown);
  }

  private async converge(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    try {
      const outcomes = await this.deps.handle(ids);
      for (const [id, outcome] of outcomes)
        if (outcome === "pending") this.pending.add(id, this.deps.clock.now());
        else if (outcome !== "failed") this.pending.settle(id);
    } catch (error) {
      this.deps.logger.warn({ err: error }, "instance poll: reading the new instances failed");
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = (this.deps.scheduler ?? systemScheduler).schedule(this.deps.intervalMs, () => {
      void this.poll().finally(() => {
        this.schedule();
      });
    });
  }
}
