export interface Backoff {
  readonly baseMs: number;
  readonly maxMs: number;
}

export const defaultBackoff: Backoff = { baseMs: 1000, maxMs: 5 * 60_000 };

/** What a handler asks of the queue after processing a key. */
export type HandlerResult =
  | { readonly kind: "done" }
  | { readonly kind: "retry" }
  | { readonly kind: "requeueAfter"; readonly ms: number };

export type KeyHandler = (key: string) => Promise<HandlerResult>;

interface Timer {
  cancel(): void;
}

export interface Scheduler {
  /** Runs `callback` after `ms`; returns a handle to cancel it. */
  schedule(ms: number, callback: () => void): Timer;
}

export const systemScheduler: Scheduler = {
  schedule(ms, callback) {
    const handle = setTimeout(callback, Math.max(0, ms));
    handle.unref();
    return {
      cancel: () => {
        clearTimeout(handle);
      },
    };
  },
};

/**
 * A keyed work queue in the manner of client-go's workqueue: a key waits at most once, is never processed by two
 * workers at once (an add while it is processed marks it to run again afterwards), and failures back off per key
 * (exponential, capped) without holding up other keys.
 */
export class WorkQueue {
  private readonly waiting: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, Timer>();
  private readonly idleWaiters: (() => void)[] = [];
  private active = 0;
  private stopped = false;

  constructor(
    private readonly handler: KeyHandler,
    private readonly concurrency: number,
    private readonly backoff: Backoff = defaultBackoff,
    private readonly scheduler: Scheduler = systemScheduler,
    private readonly onError: (key: string, error: unknown) => void = () => undefined,
  ) {}

  /** Keys waiting or being processed (what the depth metric shows). */
  depth(): number {
    return this.queued.size + this.processing.size + this.delayed.size;
  }

  add(key: string): void {
    if (this.stopped) return;
    const timer = this.delayed.get(key);
    if (timer !== undefined) {
      // An explicit event beats a pending backoff: look now.
      timer.cancel();
      this.delayed.delete(key);
    }
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.waiting.push(key);
    this.pump();
  }

  addAfter(key: string, ms: number): void {
    if (this.stopped || this.queued.has(key) || this.delayed.has(key)) return;
    this.delayed.set(
      key,
      this.scheduler.schedule(ms, () => {
        this.delayed.delete(key);
        this.add(key);
      }),
    );
  }

  /** Backs the key off: 1 s, 2 s, 4 s … up to the cap. */
  addRateLimited(key: string): void {
    const failures = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, failures);
    this.addAfter(key, this.delayFor(failures));
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  delayFor(failures: number): number {
    return Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** (failures - 1));
  }

  /** Resolves when nothing is waiting or in progress (delayed retries do not count). */
  idle(): Promise<void> {
    if (this.queued.size === 0 && this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Takes no more work; resolves when the keys in progress are done. */
  async shutDown(): Promise<void> {
    this.stopped = true;
    for (const timer of this.delayed.values()) timer.cancel();
    this.delayed.clear();
    this.waiting.length = 0;
    this.queued.clear();
    this.dirty.clear();
    await this.idle();
  }

  private pump(): void {
    while (!this.stopped && this.active < this.concurrency && this.waiting.length > 0) {
      const key = this.waiting.shift();
      if (key === undefined) break;
      this.queued.delete(key);
      this.processing.add(key);
      this.active += 1;
      void this.process(key);
    }
  }

  private async process(key: string): Promise<void> {
    let result: HandlerResult;
    try {
      result = await this.handler(key);
    } catch (error) {
      this.onError(key, error);
      result = { kind: "retry" };
    }
    this.processing.delete(key);
    this.active -= 1;
    if (!this.stopped) {
      if (result.kind === "done") this.forget(key);
      if (this.dirty.delete(key)) this.add(key);
      else if (result.kind === "retry") this.addRateLimited(key);
      else if (result.kind === "requeueAfter") this.addAfter(key, result.ms);
    }
    this.pump();
    if (this.queued.size === 0 && this.processing.size === 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }
}
