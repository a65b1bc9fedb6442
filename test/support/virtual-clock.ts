import type { Clock } from "../../src/aws/clock.js";

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly resolve: () => void;
}

/**
 * A Clock whose time only moves when every sleeper is waiting: when nothing else can run (all microtasks done),
 * the earliest timer fires and virtual time jumps to it. Tests never wait for real, and concurrent callers see
 * the same ordering they would on a real clock.
 */
export class VirtualClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly timers: Timer[] = [];
  private scheduled = false;
  /** Every sleep requested, in milliseconds, in the order asked. */
  readonly sleeps: number[] = [];

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  sleep(milliseconds: number): Promise<void> {
    this.sleeps.push(milliseconds);
    return new Promise((resolve) => {
      this.timers.push({ at: this.time + Math.max(0, milliseconds), seq: this.seq++, resolve });
      this.schedule();
    });
  }

  /** Total virtual time asleep, however many sleepers. */
  get slept(): number {
    return this.sleeps.reduce((sum, ms) => sum + ms, 0);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // setImmediate runs after every pending microtask: by then each runnable promise chain has settled.
    setImmediate(() => {
      this.scheduled = false;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift();
      if (next === undefined) return;
      this.time = Math.max(this.time, next.at);
      next.resolve();
      if (this.timers.length > 0) this.schedule();
    });
  }
}
