import { randomUUID } from "node:crypto";
import { pollIntervalMs, type LeaseRecord, type LeaseStore, type LeaseTiming } from "./lease-record.js";

/** Milliseconds that only go forward (performance.now()), never the wall clock a person or NTP can move. */
export interface MonotonicClock {
  now(): number;
}

/** Who leads, as this process last saw it: what /status shows. */
export interface LeadershipView {
  /** This process's holder ID. */
  readonly holderId: string;
  /** Whether this process leads (and may write) now. */
  readonly leading: boolean;
  /** The holder of the lease as last seen; undefined when nobody holds it (released, or not seen yet). */
  readonly leader: string | undefined;
  /** When that holder took the lease (its own clock), if known. */
  readonly since: string | undefined;
  /** When the lease last written by that holder ends (the writer's clock), if known: for people, not decisions. */
  readonly expiresAt: string | undefined;
}

export interface ElectionEvents {
  /** Called on each change between leading and not leading. */
  readonly onChange?: (leading: boolean) => void;
  /** A lease call that failed (the store unreachable, throttled): logged, and the next round tries again. */
  readonly onError?: (error: unknown, during: "renew" | "read" | "take" | "release") => void;
}

type State =
  | {
      readonly kind: "standby";
      /** The holder's last write seen, and when (monotonic) it was first seen unchanged. */
      readonly seen?: { readonly record: LeaseRecord; readonly at: number };
    }
  | {
      readonly kind: "leader";
      readonly version: string;
      readonly renewSentAt: number;
      readonly since: string;
      readonly expiresAt: string;
    };

/**
 * Leader election over one lease item with conditional writes. The leader renews every renewMs and may write
 * only until one renewal interval before its lease could have ended for others (measured from when its last
 * successful renewal was sent); a standby takes the lease when it is free, released, or unchanged for a whole
 * lease duration on the standby's own clock. Each round is one step(), so a test drives it with a fake clock.
 */
export class LeaderElection {
  private state: State = { kind: "standby" };
  private stopped = false;

  constructor(
    private readonly store: LeaseStore,
    readonly holderId: string,
    private readonly timing: LeaseTiming,
    private readonly clock: MonotonicClock,
    private readonly wallClock: () => Date = () => new Date(),
    private readonly events: ElectionEvents = {},
  ) {}

  /** Whether a mutating call may be sent now: this process holds the lease, short of its renewal margin. */
  mayWrite(): boolean {
    return this.state.kind === "leader" && this.clock.now() < this.writeDeadline(this.state);
  }

  view(): LeadershipView {
    const leading = this.mayWrite();
    if (this.state.kind === "leader") {
      const { since, expiresAt } = this.state;
      return { holderId: this.holderId, leading, leader: this.holderId, since, expiresAt };
    }
    const record = this.state.seen?.record;
    const expiresAt = record?.holder === undefined ? undefined : record.expiresAt || undefined;
    return {
      holderId: this.holderId,
      leading,
      leader: record?.holder,
      since: record?.leaderSince,
      expiresAt,
    };
  }

  /** When (on the monotonic clock) this leader must stop writing, as of its last renewal; undefined when it does not lead. */
  writeDeadlineAt(): number | undefined {
    return this.state.kind === "leader" ? this.writeDeadline(this.state) : undefined;
  }

  /**
   * Stops leading now if the write deadline has passed. A round can hang (a black-holed connection is only given
   * up at the request timeout, then retried): the loop calls this at the deadline, so listeners and
   * rolecall_leader learn on time, not when the hung call returns. mayWrite() is right either way.
   */
  expire(): void {
    if (this.state.kind === "leader" && this.clock.now() >= this.writeDeadline(this.state))
      this.become({ kind: "standby" });
  }

  /** One round: renew (leader) or look and maybe take (standby). Answers the milliseconds until the next round. */
  async step(): Promise<number> {
    if (this.stopped) return this.timing.renewMs;
    const state = this.state;
    if (state.kind === "leader") {
      if (this.clock.now() >= this.writeDeadline(state)) this.become({ kind: "standby" });
      else return this.renew(state);
    }
    return this.contend();
  }

  /**
   * Stops competing; a leader stops writing at once and then releases the lease, so a standby takes it at its next
   * look instead of waiting for it to expire. Call it once the mutating calls in flight have finished.
   */
  async release(): Promise<void> {
    this.stopped = true;
    const state = this.state;
    if (state.kind !== "leader") return;
    this.become({ kind: "standby" });
    try {
      await this.store.write(this.recordOf(undefined, undefined), state.version);
    } catch (error) {
      this.events.onError?.(error, "release");
    }
  }

  private async renew(state: Extract<State, { kind: "leader" }>): Promise<number> {
    const sentAt = this.clock.now();
    const next = this.recordOf(this.holderId, state.since);
    let written: boolean;
    try {
      written = await this.store.write(next, state.version);
    } catch (error) {
      this.events.onError?.(error, "renew");
      // Try again soon, and in any case wake up when writing has to stop.
      const left = this.writeDeadline(state) - this.clock.now();
      return Math.max(0, Math.min(pollIntervalMs(this.timing), left));
    }
    if (this.state !== state || this.stopped) return this.timing.renewMs;
    if (!written) {
      this.become({ kind: "standby" });
      return 0;
    }
    this.state = { ...state, version: next.version, renewSentAt: sentAt, expiresAt: next.expiresAt };
    return this.timing.renewMs;
  }

  private async contend(): Promise<number> {
    let record: LeaseRecord | undefined;
    try {
      record = await this.store.read();
    } catch (error) {
      this.events.onError?.(error, "read");
      return pollIntervalMs(this.timing);
    }
    // Taken after the answer: the holder sent the write we saw before this moment, so its lease ends sooner.
    const at = this.clock.now();
    if (this.stopped) return this.timing.renewMs;
    if (record === undefined || record.holder === undefined || record.holder === this.holderId)
      return this.take(record);
    const seen = this.state.kind === "standby" ? this.state.seen : undefined;
    if (seen === undefined || seen.record.version !== record.version) {
      this.state = { kind: "standby", seen: { record, at } };
      return pollIntervalMs(this.timing);
    }
    if (at - seen.at >= Math.max(this.timing.durationMs, record.durationMs)) return this.take(record);
    return pollIntervalMs(this.timing);
  }

  /** Takes a free, released, expired or (after a restart of renewals) own lease with a conditional write. */
  private async take(record: LeaseRecord | undefined): Promise<number> {
    const since =
      record?.holder === this.holderId && record.leaderSince !== undefined
        ? record.leaderSince
        : this.wallClock().toISOString();
    const next = this.recordOf(this.holderId, since);
    const sentAt = this.clock.now();
    let written: boolean;
    try {
      written = await this.store.write(next, record?.version);
    } catch (error) {
      this.events.onError?.(error, "take");
      return pollIntervalMs(this.timing);
    }
    if (this.stopped) return this.timing.renewMs;
    if (!written) {
      // Another contender was first: look again soon, from scratch.
      this.state = { kind: "standby" };
      return pollIntervalMs(this.timing);
    }
    this.become({
      kind: "leader",
      version: next.version,
      renewSentAt: sentAt,
      since,
      expiresAt: next.expiresAt,
    });
    return this.timing.renewMs;
  }

  /** The last moment a mutating call may be sent: one renewal interval before the lease can end for others. */
  private writeDeadline(state: Extract<State, { kind: "leader" }>): number {
    return state.renewSentAt + this.timing.durationMs - this.timing.renewMs;
  }

  private become(next: State): void {
    const was = this.state.kind === "leader";
    this.state = next;
    const is = next.kind === "leader";
    if (was !== is) this.events.onChange?.(is);
  }

  private recordOf(holder: string | undefined, since: string | undefined): LeaseRecord {
    const now = this.wallClock();
    return {
      holder,
      version: randomUUID(),
      leaderSince: since,
      expiresAt: new Date(now.getTime() + this.timing.durationMs).toISOString(),
      durationMs: this.timing.durationMs,
    };
  }
}
