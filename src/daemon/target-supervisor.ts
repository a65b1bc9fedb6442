import { systemScheduler, type Backoff, type Scheduler } from "./work-queue.js";

type Timer = ReturnType<Scheduler["schedule"]>;

/** Why a target cannot be reached: a stable code (AssumeRoleFailed, AccountMismatch, …) and prose. */
export interface Unreachable {
  readonly code: string;
  readonly message: string;
}

/** Where one target stands: not tried yet (or trying), connected, or failed and waiting to try again. */
export type TargetState =
  | { readonly kind: "connecting"; readonly attempts: number }
  | { readonly kind: "reachable"; readonly since: string }
  | {
      readonly kind: "unavailable";
      readonly why: Unreachable;
      readonly attempts: number;
      /** When the next attempt is due (ISO 8601). */
      readonly retryAt: string;
    };

export interface SupervisorDeps<Connection> {
  readonly targets: readonly string[];
  /** One attempt to reach a target; a rejection is an unreachable target (see `describe`). */
  readonly connect: (target: string) => Promise<Connection>;
  /** Turns a failed attempt into its code and message. */
  readonly describe: (error: unknown) => Unreachable;
  /** A target was reached: its controller starts here. Called once per target. */
  readonly onReachable: (target: string, connection: Connection) => void;
  /**
   * A target lost after it was reached (see `lost`) is reached again: its controller goes on with the first
   * connection, so this one only proved the role can be assumed again, and is the caller's to dispose of.
   */
  readonly onRecovered?: (target: string, connection: Connection) => void;
  /** Every change of state (also each failed retry), in order. */
  readonly onChange?: (target: string, state: TargetState, previous: TargetState) => void;
  readonly backoff?: Backoff;
  readonly scheduler?: Scheduler;
  readonly now?: () => Date;
}

/** A role that cannot be assumed is usually fixed by a person: retries slow down to a few a minute, no slower. */
export const defaultTargetBackoff: Backoff = { baseMs: 1000, maxMs: 5 * 60_000 };

/** The wait after the n-th failed attempt (1-based): doubling from baseMs, capped at maxMs. */
export function targetRetryDelay(attempts: number, backoff: Backoff = defaultTargetBackoff): number {
  const { baseMs, maxMs } = backoff;
  return Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));
}

/**
 * Connects every target of run --targets, each on its own: a target that cannot be reached is retried with
 * exponential backoff (capped) while the others are connected and go on. A reached target whose credentials
 * fail later (its role can no longer be assumed when the SDK renews the session, or AWS refuses the session)
 * is reported `lost` and is unavailable again, retried the same way: meanwhile its manifests are protected from
 * removal in the other targets, as before it was first reached. Other AWS errors are its controller's to report.
 */
export class TargetSupervisor<Connection> {
  private readonly states = new Map<string, TargetState>();
  private readonly timers = new Map<string, Timer>();
  private readonly reachedOnce = new Set<string>();
  private stopped = false;

  constructor(private readonly deps: SupervisorDeps<Connection>) {
    for (const target of deps.targets) this.states.set(target, { kind: "connecting", attempts: 0 });
  }

  /** Tries every target at once. */
  start(): void {
    for (const target of this.deps.targets) void this.attempt(target);
  }

  /** Cancels the retries waiting; an attempt in flight is not taken into account once it ends. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) timer.cancel();
    this.timers.clear();
  }

  /**
   * A reached target's credentials failed: it is unavailable from now on, and tried again after the first
   * backoff. Ignored unless the target is reachable (a target already retrying is tried on its own schedule).
   */
  lost(target: string, why: Unreachable): void {
    if (this.stopped || this.states.get(target)?.kind !== "reachable") return;
    this.failed(target, 1, why);
  }

  state(target: string): TargetState | undefined {
    return this.states.get(target);
  }

  /** Targets not reached (yet): their manifests must not be removed from anywhere else. */
  notReachable(): string[] {
    return [...this.states].filter(([, state]) => state.kind !== "reachable").map(([target]) => target);
  }

  /** Whether every target has been tried at least once (reached or not). */
  allTried(): boolean {
    return [...this.states.values()].every((state) => state.kind !== "connecting" || state.attempts > 0);
  }

  private async attempt(target: string): Promise<void> {
    this.timers.delete(target);
    const before = this.states.get(target);
    const attempts = (before?.kind === "unavailable" ? before.attempts : 0) + 1;
    let connection: Connection;
    try {
      connection = await this.deps.connect(target);
    } catch (error) {
      if (this.stopped) return;
      this.failed(target, attempts, this.deps.describe(error));
      return;
    }
    if (this.stopped) return;
    this.set(target, { kind: "reachable", since: this.now().toISOString() });
    if (this.reachedOnce.has(target)) {
      this.deps.onRecovered?.(target, connection);
      return;
    }
    this.reachedOnce.add(target);
    this.deps.onReachable(target, connection);
  }

  private failed(target: string, attempts: number, why: Unreachable): void {
    const delay = targetRetryDelay(attempts, this.deps.backoff);
    const retryAt = new Date(this.now().getTime() + delay).toISOString();
    this.set(target, { kind: "unavailable", why, attempts, retryAt });
    const scheduler = this.deps.scheduler ?? systemScheduler;
    this.timers.set(
      target,
      scheduler.schedule(delay, () => void this.attempt(target)),
    );
  }

  private set(target: string, state: TargetState): void {
    const previous = this.states.get(target) ?? { kind: "connecting", attempts: 0 };
    this.states.set(target, state);
    this.deps.onChange?.(target, state, previous);
  }

  private now(): Date {
    return (this.deps.now ?? (() => new Date()))();
  }
}
