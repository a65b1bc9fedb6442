import { DynamoDBClient } from "./sdk/client-dynamodb.js";
import { AwsCaller, type CallLogger, type CommandSender, type RetryPolicy } from "./aws-caller.js";
import { effectiveRequestTimeout } from "./aws-clients.js";
import { AwsApiError } from "./aws-error.js";
import type { CallObserver } from "./call-observer.js";
import { systemClock, type Clock } from "./clock.js";
import { DynamoDbLeaseStore } from "./dynamodb-lease-store.js";
import { TokenBucket } from "./token-bucket.js";

export interface LeaseTableSettings {
  readonly table: string;
  readonly leaseName: string;
  /** --lease-renew: no lease call may take longer than one renewal interval. */
  readonly renewMs: number;
  readonly requestTimeoutMs: number;
}

/**
 * A renewal is worth something only before the lease runs out, so the lease's calls retry briefly (the same
 * classification as every other call, a much shorter budget) and the next round tries again instead.
 */
export const leaseRetryPolicy: RetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 100,
  maxDelayMs: 400,
  propagationBudgetMs: 0,
};

/** The lease's calls: a look and a write per second at most, whatever the state. */
const leaseRate = { perSecond: 5, burst: 5 };

/** The lease store over the SDK's DynamoDB client, from the standard chain (AWS_ENDPOINT_URL(_DYNAMODB) too). */
export function connectLeaseTable(
  settings: LeaseTableSettings,
  observer: CallObserver,
  logger?: CallLogger,
  clock: Clock = systemClock,
): DynamoDbLeaseStore {
  const requestTimeoutMs = Math.min(effectiveRequestTimeout(settings.requestTimeoutMs), settings.renewMs);
  const client = new DynamoDBClient({
    maxAttempts: 1,
    requestHandler: {
      requestTimeout: requestTimeoutMs,
      connectionTimeout: requestTimeoutMs,
      throwOnRequestTimeout: true,
    },
  });
  return leaseStoreOver(client, settings, observer, logger, clock);
}

/** The lease store over any sender (the SDK client, or a mock in tests). */
export function leaseStoreOver(
  client: CommandSender,
  settings: Pick<LeaseTableSettings, "table" | "leaseName">,
  observer: CallObserver,
  logger?: CallLogger,
  clock: Clock = systemClock,
): DynamoDbLeaseStore {
  const limiter = new TokenBucket(leaseRate.perSecond, leaseRate.burst, clock);
  const caller = new AwsCaller("dynamodb", client, limiter, clock, observer, leaseRetryPolicy, logger);
  return new DynamoDbLeaseStore(caller, settings.table, settings.leaseName);
}

export class LeaseTableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LeaseTableError";
  }
}

/**
 * One read of the lease at start, so that a table that is missing, has another key schema, or may not be read is
 * a clear error before anything is served (rolecall never creates the table: it is the user's, like the role).
 */
export async function checkLeaseTable(store: DynamoDbLeaseStore): Promise<void> {
  try {
    await store.read();
  } catch (error) {
    throw new LeaseTableError(describeLeaseTableError(error, store.table));
  }
}

export function describeLeaseTableError(error: unknown, table: string): string {
  const detail = error instanceof Error ? error.message : String(error);
  const code = error instanceof AwsApiError ? error.code : undefined;
  if (code === "ResourceNotFoundException")
    return `lease table "${table}" does not exist in this account and region (rolecall does not create it; see deploy/aws/lease-table.yaml): ${detail}`;
  if (code === "ValidationException")
    return `lease table "${table}" must have a partition key named "id" of type string, and no sort key: ${detail}`;
  if (code === "AccessDeniedException")
    return `rolecall may not use lease table "${table}" (it needs dynamodb:GetItem and dynamodb:PutItem on it): ${detail}`;
  return `cannot read lease table "${table}": ${detail}`;
}
