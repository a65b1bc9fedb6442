import { EC2Client } from "./sdk/client-ec2.js";
import { IAMClient } from "./sdk/client-iam.js";
import { parseDuration } from "../util/duration.js";
import { AwsCaller, type CallLogger, type CommandSender } from "./aws-caller.js";
import { defaultAwsSettings, type AwsSettings, type RateLimit } from "./aws-settings.js";
import type { CallObserver } from "./call-observer.js";
import { systemClock, type Clock } from "./clock.js";
import { TokenBucket } from "./token-bucket.js";

export { defaultAwsSettings, type AwsSettings, type RateLimit } from "./aws-settings.js";

export interface AwsConnection {
  readonly iam: AwsCaller;
  readonly ec2: AwsCaller;
  readonly region: string;
  readonly partition: string;
}

export class AwsConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AwsConfigurationError";
  }
}

/**
 * SDK clients configured from the standard chain (environment, shared config and profile, web identity, IMDS);
 * the SDK itself honours AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_IAM / _EC2. The SDK's retries are off: rolecall
 * retries itself, by error kind.
 */
export async function connectToAws(
  settings: AwsSettings,
  observer: CallObserver,
  logger?: CallLogger,
  clock: Clock = systemClock,
): Promise<AwsConnection> {
  const common = sdkClientConfig(settings);
  const ec2Client = new EC2Client(common);
  let region: string;
  try {
    region = await ec2Client.config.region();
  } catch {
    throw new AwsConfigurationError(
      "no AWS region configured: set AWS_REGION (or AWS_DEFAULT_REGION), or a region in the selected AWS profile",
    );
  }
  if (region === "") throw new AwsConfigurationError("the configured AWS region is empty");
  const iamClient = new IAMClient({ ...common, region });
  return {
    ...createCallers({ iam: iamClient, ec2: ec2Client }, settings, observer, logger, clock),
    region,
    partition: partitionOf(region),
  };
}

/** What every SDK client rolecall makes shares: no SDK retries (rolecall retries by error kind), timeouts. */
export function sdkClientConfig(settings: AwsSettings) {
  const requestTimeoutMs = effectiveRequestTimeout(settings.requestTimeoutMs);
  return {
    maxAttempts: 1,
    requestHandler: {
      requestTimeout: requestTimeoutMs,
      connectionTimeout: Math.min(5000, requestTimeoutMs),
      // Without it the SDK only logs a warning when the timeout passes and keeps waiting, for ever on a
      // connection that never answers.
      throwOnRequestTimeout: true,
    },
  };
}

/**
 * The request timeout to use: the configured one when it is a positive number of milliseconds; otherwise
 * ROLECALL_REQUEST_TIMEOUT from the environment (a duration such as "2s"), otherwise the default (30 s). A missing
 * value must never mean "no timeout": one request that is never answered would then hang a pass for good.
 */
export function effectiveRequestTimeout(
  configured: number | undefined,
  environment: NodeJS.ProcessEnv = process.env,
): number {
  if (configured !== undefined && Number.isFinite(configured) && configured > 0) return configured;
  const fromEnvironment = environment.ROLECALL_REQUEST_TIMEOUT;
  if (fromEnvironment !== undefined && fromEnvironment.trim() !== "") {
    let parsed: number;
    try {
      parsed = parseDuration(fromEnvironment);
    } catch {
      parsed = 0;
    }
    if (parsed <= 0)
      throw new AwsConfigurationError(
        `ROLECALL_REQUEST_TIMEOUT="${fromEnvironment}" is not a positive duration (use forms like 2s, 500ms)`,
      );
    return parsed;
  }
  return defaultAwsSettings.requestTimeoutMs;
}

/** Callers over any pair of senders: real SDK clients, the simulator, or test doubles. */
export function createCallers(
  clients: { readonly iam: CommandSender; readonly ec2: CommandSender },
  settings: AwsSettings,
  observer: CallObserver,
  logger?: CallLogger,
  clock: Clock = systemClock,
): { iam: AwsCaller; ec2: AwsCaller } {
  return {
    iam: createCaller("iam", clients.iam, settings, observer, logger, clock),
    ec2: createCaller("ec2", clients.ec2, settings, observer, logger, clock),
  };
}

/** One service's caller with a rate limit of its own: per account for IAM, per region for EC2. */
export function createCaller(
  service: "iam" | "ec2",
  client: CommandSender,
  settings: AwsSettings,
  observer: CallObserver,
  logger?: CallLogger,
  clock: Clock = systemClock,
): AwsCaller {
  const limit: RateLimit = settings.rateLimits[service];
  return new AwsCaller(
    service,
    client,
    new TokenBucket(limit.perSecond, limit.burst, clock),
    clock,
    observer,
    settings.retry,
    logger,
  );
}

export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  if (region.startsWith("us-isob-")) return "aws-iso-b";
  if (region.startsWith("us-iso-")) return "aws-iso";
  return "aws";
}
