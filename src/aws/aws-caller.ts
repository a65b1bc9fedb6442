import { AwsApiError, classifyAwsError, type AwsService } from "./aws-error.js";
import { isMutatingOperation, type CallObserver } from "./call-observer.js";
import type { Clock } from "./clock.js";
import type { TokenBucket } from "./token-bucket.js";

/** The one thing rolecall needs of an SDK v3 client (and what the simulator and test doubles provide). */
export interface CommandSender {
  send(command: never): Promise<unknown>;
}

/** A command object as the SDK builds it: its class names the operation. */
export interface AwsCommand {
  readonly input: unknown;
}

export interface RetryPolicy {
  /** Attempts per call for throttling and transient errors, the first included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** How long to keep retrying while IAM propagates a new resource to EC2. */
  readonly propagationBudgetMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 8,
  baseDelayMs: 100,
  maxDelayMs: 10_000,
  propagationBudgetMs: 120_000,
};

/** Answers why a mutating call must not be sent now (this process does not lead), or undefined to send it. */
export type MutationGuard = () => string | undefined;

export interface CallLogger {
  debug(object: object, message: string): void;
}

export interface CallOptions {
  /** Resource named in errors ("role/DEV_ROLE"). */
  readonly resource?: string;
  /** The call uses something created moments ago: "not found" then means "not yet propagated". */
  readonly dependsOnNewResource?: boolean;
  /**
   * For calls that are not idempotent (CreatePolicyVersion adds a version each time it is sent): a failure that may
   * hide a success (a 5xx, a dropped connection, a timeout) is followed by this check before the call is sent
   * again. A value means the earlier attempt did take effect, and is returned as the call's output.
   */
  readonly confirmApplied?: () => Promise<unknown>;
}

/**
 * Sends SDK commands for one service: waits for the shared rate limit, counts each attempt, classifies errors,
 * retries what retrying can fix, and throws an AwsApiError for the rest. The SDK's own retries are disabled
 * (maxAttempts 1) because it would retry quota errors such as IAM's LimitExceeded as if they were throttling.
 */
export class AwsCaller {
  private stopRequested: (() => void) | undefined;
  private readonly stopped = new Promise<void>((resolve) => {
    this.stopRequested = resolve;
  });
  private isStopped = false;
  private mutationGuard: MutationGuard | undefined;

  constructor(
    private readonly service: AwsService,
    private readonly client: CommandSender,
    private readonly limiter: TokenBucket,
    private readonly clock: Clock,
    private readonly observer: CallObserver,
    private readonly retry: RetryPolicy = defaultRetryPolicy,
    private readonly logger?: CallLogger,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * Shutting down: the request in flight completes, but no retry and no backoff wait (up to the propagation
   * budget of two minutes) holds the process past its deadline; the caller gets the last error at once.
   */
  stop(): void {
    this.isStopped = true;
    this.stopRequested?.();
  }

  /**
   * Leader election: every attempt of a mutating operation (retries included: a backoff can outlast the lease)
   * first asks the guard, and is not sent when it answers a reason.
   */
  guardMutations(guard: MutationGuard): void {
    this.mutationGuard = guard;
  }

  async send<Output>(command: AwsCommand, options: CallOptions = {}): Promise<Output> {
    const operation = command.constructor.name.replace(/Command$/, "");
    const started = this.clock.now();
    // Counted apart: maxAttempts bounds throttling and transient failures, the budget bounds propagation waits.
    let failures = 0;
    let propagationWaits = 0;
    for (let attempt = 1; ; attempt += 1) {
      await this.limiter.acquire();
      this.refuseUnlessAllowed(operation, options.resource);
      this.observer.request(this.service, operation);
      const sentAt = this.clock.now();
      try {
        const output = (await this.client.send(command as never)) as Output;
        this.logger?.debug(
          {
            service: this.service,
            operation,
            attempt,
            durationMs: this.clock.now() - sentAt,
            resource: options.resource,
          },
          "aws call",
        );
        return output;
      } catch (raw) {
        let error: AwsApiError = classifyAwsError(raw, {
          service: this.service,
          operation,
          dependsOnNewResource: options.dependsOnNewResource ?? false,
        });
        if (options.resource !== undefined) error = error.withResource(options.resource);
        this.observer.error(this.service, operation, error.code);
        this.logger?.debug(
          {
            service: this.service,
            operation,
            attempt,
            code: error.code,
            kind: error.kind,
            resource: options.resource,
          },
          "aws call failed",
        );
        if (error.kind === "throttled" || error.kind === "transient") {
          failures += 1;
          if (failures >= this.retry.maxAttempts) throw error;
          const delay = this.backoff(failures, this.retry.baseDelayMs);
          if (error.kind === "throttled") this.limiter.pauseFor(delay);
          await this.pause(delay, error);
          // Throttling refuses a request before acting on it; any other transient failure may have come after.
          if (error.kind === "transient" && options.confirmApplied !== undefined) {
            const applied = await options.confirmApplied();
            if (applied !== undefined) {
              this.logger?.debug(
                { service: this.service, operation, attempt, resource: options.resource },
                "aws call had taken effect despite the failure; not sent again",
              );
              return applied as Output;
            }
          }
          continue;
        }
        if (error.kind === "eventual-consistency") {
          propagationWaits += 1;
          const delay = this.backoff(propagationWaits, 1000);
          if (this.clock.now() - started + delay > this.retry.propagationBudgetMs) throw error;
          await this.pause(delay, error);
          continue;
        }
        throw error;
      }
    }
  }

  private refuseUnlessAllowed(operation: string, resource: string | undefined): void {
    if (this.mutationGuard === undefined || !isMutatingOperation(operation)) return;
    const refusal = this.mutationGuard();
    if (refusal === undefined) return;
    throw new AwsApiError(this.service, operation, "NotLeader", "not-leader", undefined, refusal, resource);
  }

  /** Waits before a retry, unless shutting down: then the error that would have been retried is thrown. */
  private async pause(delay: number, error: AwsApiError): Promise<void> {
    if (this.isStopped) throw error;
    const woken = await Promise.race([
      this.clock.sleep(delay).then(() => "slept"),
      this.stopped.then(() => "stopped"),
    ]);
    if (woken === "stopped") throw error;
  }

  /** Exponential backoff with jitter (between half and all of the exponential step). */
  private backoff(attempt: number, base: number): number {
    const step = Math.min(this.retry.maxDelayMs, base * 2 ** (attempt - 1));
    return Math.round(step / 2 + (this.random() * step) / 2);
  }
}
