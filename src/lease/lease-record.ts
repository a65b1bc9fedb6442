/** The lease item as rolecall keeps it in the table, one per lease name. */
export interface LeaseRecord {
  /** The holder ID of the process that leads; undefined once the lease is released. */
  readonly holder: string | undefined;
  /**
   * A fresh random value on every write. A contender that sees the same version for a whole lease duration, on its
   * own monotonic clock, knows the holder stopped renewing: no host's wall clock is trusted for that decision.
   */
  readonly version: string;
  /** When the holder took the lease (ISO 8601, the holder's clock): what /status shows as "since". */
  readonly leaderSince: string | undefined;
  /** When this write's lease ends (ISO 8601, the writer's clock): for people reading the table, not for decisions. */
  readonly expiresAt: string;
  /** The writer's --lease-duration: a contender waits the longer of this and its own before taking over. */
  readonly durationMs: number;
}

/** Where the lease lives: the DynamoDB table in production, a map in unit tests. */
export interface LeaseStore {
  /** The item, read consistently; undefined when there is none yet. */
  read(): Promise<LeaseRecord | undefined>;
  /**
   * Writes `next` only if the item's version is still `expected` (undefined: only if there is no item). Answers
   * false when that condition failed (someone else wrote first); throws when the store could not be reached.
   */
  write(next: LeaseRecord, expected: string | undefined): Promise<boolean>;
}

export interface LeaseTiming {
  /** How long a lease lasts after the write that renewed it (--lease-duration). */
  readonly durationMs: number;
  /** How often the leader renews it (--lease-renew). */
  readonly renewMs: number;
}

/**
 * Why a pair of durations cannot work, or undefined. The leader stops writing one renewal interval before its
 * lease ends, so that interval must leave room for at least one more renewal attempt before that point.
 */
export function leaseTimingProblem(timing: LeaseTiming): string | undefined {
  const { durationMs, renewMs } = timing;
  if (!(renewMs > 0) || !(durationMs > 0)) return "--lease-duration and --lease-renew must be positive";
  if (renewMs * 2 >= durationMs)
    return `--lease-renew (${renewMs} ms) must be less than half of --lease-duration (${durationMs} ms): the leader stops writing one renewal interval before its lease ends`;
  return undefined;
}

/** How often a standby looks at the lease: often enough that a released lease is taken within a second. */
export function pollIntervalMs(timing: LeaseTiming): number {
  return Math.min(timing.renewMs, 1000);
}
