import { SQSClient } from "./sdk/client-sqs.js";
import { AwsCaller, type CallLogger } from "./aws-caller.js";
import { effectiveRequestTimeout } from "./aws-clients.js";
import type { AwsSettings, RateLimit } from "./aws-settings.js";
import type { CallObserver } from "./call-observer.js";
import { systemClock, type Clock } from "./clock.js";
import { TokenBucket } from "./token-bucket.js";

// Its own module, loaded only with --instance-events-queue: the SQS client costs memory that a daemon without a
// queue never uses.

/** SQS needs few calls (one long poll at a time, and the deletes): a budget of its own, never a flag. */
export const sqsRateLimit: RateLimit = { perSecond: 10, burst: 20 };

/**
 * A caller for the instance-events queue, from the same credential chain and endpoint settings as the others (the
 * SDK honours AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_SQS). A long poll holds a request open for 20 s, so the
 * request timeout is never shorter than that plus a margin.
 */
export function connectToSqs(
  settings: AwsSettings,
  region: string,
  observer: CallObserver,
  logger?: CallLogger & { warn(object: object, message: string): void },
  clock: Clock = systemClock,
): AwsCaller {
  const requestTimeoutMs = Math.max(effectiveRequestTimeout(settings.requestTimeoutMs), 30_000);
  const client = new SQSClient({
    region,
    maxAttempts: 1,
    // The SDK warns when the queue URL's host is not the resolved endpoint; on the console, that would be the one
    // line of rolecall's output that is not JSON.
    ...(logger === undefined ? {} : { logger: sdkWarnings(logger) }),
    requestHandler: {
      requestTimeout: requestTimeoutMs,
      connectionTimeout: 5000,
      throwOnRequestTimeout: true,
    },
  });
  return new AwsCaller(
    "sqs",
    client,
    new TokenBucket(sqsRateLimit.perSecond, sqsRateLimit.burst, clock),
    clock,
    observer,
    settings.retry,
    logger,
  );
}

function sdkWarnings(logger: { warn(object: object, message: string): void }) {
  const ignore = () => undefined;
  return {
    trace: ignore,
    debug: ignore,
    info: ignore,
    warn: (...content: unknown[]) => {
      logger.warn({ service: "sqs" }, content.map(String).join(" "));
    },
    error: (...content: unknown[]) => {
      logger.warn({ service: "sqs" }, content.map(String).join(" "));
    },
  };
}
