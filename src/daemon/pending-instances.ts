import type { Clock } from "../aws/clock.js";
import type { Scheduler } from "./work-queue.js";

interface Entry {
  /** When rolecall first heard of the instance (the event's time): the latency metric counts from here. */
  readonly since: number;
  readonly firstSeen: number;
  attempts: number;
  dueAt: number;
}

export interface PendingOptions {
  /** How long to keep looking at an instance that stays pending (--propagation-timeout). */
  readonly timeoutMs: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
}

/**
 * Instances seen in `pending`, which cannot take a profile until they run: looked at again with backoff (1 s,
 * 2 s, 4 s … capped) until they do or the timeout passes, all those due in one read. One timer for all of them.
 */
export class PendingInstances {
  private readonly entries = new Map<string, Entry>();
  private timer: { cancel(): void } | undefined;

  constructor(
    private readonly recheck: (due: ReadonlyMap<string, number>) => Promise<void>,
    private readonly options: PendingOptions,
    private readonly clock: Pick<Clock, "now">,
    private readonly scheduler: Scheduler,
  ) {}

  size(): number {
    return this.entries.size;
  }

  has(instanceId: string): boolean {
    return this.entries.has(instanceId);
  }

  /** Still pending after a read: look again later, or give up past the timeout (the resync still covers it). */
  add(instanceId: string, since: number): boolean {
    const now = this.clock.now();
    const entry = this.entries.get(instanceId) ?? { since, firstSeen: now, attempts: 0, dueAt: now };
    if (now - entry.firstSeen >= this.options.timeoutMs) {
      this.entries.delete(instanceId);
      return false;
    }
    entry.attempts += 1;
    const base = this.options.baseDelayMs ?? 1000;
    entry.dueAt = now + Math.min(this.options.maxDelayMs ?? 10_000, base * 2 ** (entry.attempts - 1));
    this.entries.set(instanceId, entry);
    this.arm();
    return true;
  }

  /** The instance ran, or went: nothing more to wait for. */
  settle(instanceId: string): void {
    this.entries.delete(instanceId);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.entries.clear();
  }

  private arm(): void {
    if (this.timer !== undefined || this.entries.size === 0) return;
    const next = Math.min(...[...this.entries.values()].map((entry) => entry.dueAt));
    this.timer = this.scheduler.schedule(next - this.clock.now(), () => {
      this.timer = undefined;
      void this.fire();
    });
  }

  private async fire(): Promise<void> {
    const now = this.clock.now();
    const due = new Map(
      [...this.entries].filter(([, entry]) => entry.dueAt <= now).map(([id, entry]) => [id, entry.since]),
    );
    // Pushed past any recheck, so that a slow read is not started twice for the same instances.
    for (const id of due.keys()) {
      const entry = this.entries.get(id);
      if (entry !== undefined) entry.dueAt = Number.POSITIVE_INFINITY;
    }
    try {
      if (due.size > 0) await this.recheck(due);
    } finally {
      for (const [id, entry] of this.entries)
        if (due.has(id) && entry.dueAt === Number.POSITIVE_INFINITY) this.add(id, entry.since);
      this.arm();
    }
  }
}
