import { InvalidArgumentError, Option } from "commander";
import { defaultAwsSettings, type AwsSettings } from "../aws/aws-settings.js";
import type { Mode } from "../manifest/instance-access.js";
import { parseDuration } from "../config/duration.js";

export interface EngineCliOptions {
  iamPath: string;
  mode: Mode;
  concurrency: number;
  allowMassPrune: boolean;
  iamRate: number;
  ec2Rate: number;
  propagationTimeout: number;
  requestTimeout: number;
  readStrategy: "snapshot" | "per-resource";
}

export function engineOptions(): Option[] {
  return [
    new Option("--concurrency <n>", "manifests reconciled in parallel")
      .env("ROLECALL_CONCURRENCY")
      .default(4)
      .argParser(positiveInteger),
    new Option("--allow-mass-prune", "allow one pass to remove more than half of the managed manifests")
      .env("ROLECALL_ALLOW_MASS_PRUNE")
      .default(false),
    new Option("--iam-rate <perSecond>", "client-side limit of IAM requests per second (burst: twice that)")
      .env("ROLECALL_IAM_RATE")
      .default(defaultAwsSettings.rateLimits.iam.perSecond)
      .argParser(positiveNumber),
    new Option("--ec2-rate <perSecond>", "client-side limit of EC2 requests per second (burst: twice that)")
      .env("ROLECALL_EC2_RATE")
      .default(defaultAwsSettings.rateLimits.ec2.perSecond)
      .argParser(positiveNumber),
    new Option(
      "--propagation-timeout <duration>",
      "how long to wait for IAM to propagate a new profile to EC2",
    )
      .env("ROLECALL_PROPAGATION_TIMEOUT")
      .default(defaultAwsSettings.retry.propagationBudgetMs, "2m")
      .argParser(parseDuration),
    new Option(
      "--request-timeout <duration>",
      "how long one AWS request may take before it is abandoned and retried",
    )
      .env("ROLECALL_REQUEST_TIMEOUT")
      .default(defaultAwsSettings.requestTimeoutMs, "30s")
      .argParser(parseDuration),
    new Option(
      "--read-strategy <strategy>",
      "snapshot (a few paginated reads) or per-resource (naive baseline, for benchmarks)",
    )
      .choices(["snapshot", "per-resource"])
      .env("ROLECALL_READ_STRATEGY")
      .default("snapshot")
      .hideHelp(),
  ];
}

export function awsSettingsFrom(options: EngineCliOptions): AwsSettings {
  return {
    ...defaultAwsSettings,
    requestTimeoutMs: options.requestTimeout,
    rateLimits: {
      iam: { perSecond: options.iamRate, burst: Math.max(1, Math.ceil(options.iamRate * 2)) },
      ec2: { perSecond: options.ec2Rate, burst: Math.max(1, Math.ceil(options.ec2Rate * 2)) },
    },
    retry: { ...defaultAwsSettings.retry, propagationBudgetMs: options.propagationTimeout },
  };
}

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new InvalidArgumentError(`expected a positive integer, got "${value}"`);
  return parsed;
}

function positiveNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0)
    throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  return parsed;
}
