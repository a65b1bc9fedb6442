import type { LeaderElection, MonotonicClock } from "./leader-election.js";

/**
 * Runs the election's rounds one after another, each after the delay the last one asked for. stop() ends the
 * loop, waits for the round in flight (so a renewal cannot land after the release), then releases the lease.
 */
export class ElectionLoop {
  private running: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;
  private readonly stopped = new Promise<void>((resolve) => {
    this.wake = resolve;
  });

  constructor(
    private readonly election: LeaderElection,
    private readonly sleep: (milliseconds: number) => Promise<void>,
    private readonly clock: MonotonicClock,
  ) {}

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
    await this.election.release();
  }

  private async loop(): Promise<void> {
    for (;;) {
      this.watchWriteDeadline();
      const delay = await this.election.step();
      if (this.isStopping()) return;
      await Promise.race([this.sleep(delay), this.stopped]);
      if (this.isStopping()) return;
    }
  }

  /**
   * A leader's round may hang past the moment it must stop writing: a watcher ends its leadership at that moment
   * instead. Node can fire a timer a few milliseconds early (it counts from the event loop's cached time, in whole
   * milliseconds), so the watcher sleeps again until the clock says the deadline has come. It is not cancelled:
   * once the lease is renewed (the deadline moved), expire() finds nothing to do.
   */
  private watchWriteDeadline(): void {
    const deadline = this.election.writeDeadlineAt();
    if (deadline === undefined) return;
    const watch = async () => {
      while (this.clock.now() < deadline) await this.sleep(deadline - this.clock.now());
      this.election.expire();
    };
    void watch();
  }

  /** Read through a method: stop() sets it while the loop awaits. */
  private isStopping(): boolean {
    return this.stopping;
  }
}
