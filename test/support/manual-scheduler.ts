import type { Clock } from "../../src/aws/clock.js";
import type { Scheduler } from "../../src/daemon/work-queue.js";

/** Timers that run only when the test says so, with a clock that moves only as they run. */
export class ManualScheduler implements Scheduler {
  readonly timers: { ms: number; callback: () => void }[] = [];
  now = 1_000_000;
  readonly clock: Clock = { now: () => this.now, sleep: () => Promise.resolve() };
  schedule(ms: number, callback: () => void) {
    const timer = { ms, callback };
    this.timers.push(timer);
    return {
      cancel: () => {
        this.timers.splice(this.timers.indexOf(timer), 1);
      },
    };
  }
  /** Runs every timer set so far, the clock moved on by the longest of them. */
  runAll(): void {
    const due = this.timers.splice(0);
    this.now += Math.max(0, ...due.map((timer) => timer.ms));
    for (const timer of due) timer.callback();
  }
}
