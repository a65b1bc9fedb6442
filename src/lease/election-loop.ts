import type { LeaderElection } from "./leader-election.js";

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
   * A leader's round may hang past the moment it must stop writing: a timer ends its leadership at that moment
   * instead. The timer is not cancelled; once the lease is renewed (the deadline moved), it finds nothing to do.
   */
  private watchWriteDeadline(): void {
    const left = this.election.writeDeadlineIn();
    if (left === undefined) return;
    void this.sleep(left).then(() => {
      this.election.expire();
    });
  }

  /** Read through a method: stop() sets it while the loop awaits. */
  private isStopping(): boolean {
    return this.stopping;
  }
}
