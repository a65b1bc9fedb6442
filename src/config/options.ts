import { InvalidArgumentError, Option } from "commander";
import { defaultAwsSettings } from "../aws/aws-settings.js";
import { checkIamPath, defaultIamPath } from "../desired/iam-names.js";
import type { Mode } from "../manifest/instance-access.js";
import { logLevels, type LogLevel } from "../observability/log-levels.js";
import { parseDuration } from "../util/duration.js";
import { redactUrl } from "../notify/redact-url.js";

/**
 * Every command-line option, declared once: its flag, help, environment variable, default and parser. Commands
 * pick the ones they take; the typed shapes below are what the composition roots receive.
 */

export type OutputFormat = "text" | "json";
/** diff also writes Markdown, for a pull-request comment. */
export type DiffOutputFormat = OutputFormat | "markdown";
export type ReadStrategy = "snapshot" | "per-resource";

/** Options of every command that runs a pass against AWS (plan, apply, run). */
export interface EngineConfig {
  manifests: string;
  iamPath: string;
  mode: Mode;
  logLevel: LogLevel;
  concurrency: number;
  allowMassPrune: boolean;
  iamRate: number;
  ec2Rate: number;
  propagationTimeout: number;
  requestTimeout: number;
  readStrategy: ReadStrategy;
  /** The managed policy every role rolecall creates is capped by; none when undefined. */
  permissionsBoundary?: string;
  /** The most managed policies one role may hold: the largest composite (AWS's quota). */
  maxPoliciesPerRole: number;
  /** A Targets file: many accounts and regions; without it, one implicit target (the caller's account and region). */
  targets?: string;
}

/** plan and apply. */
export interface PassConfig extends EngineConfig {
  output: OutputFormat;
}

/** explain: one instance, or one bucket. */
export interface ExplainConfig extends PassConfig {
  instance?: string;
  bucket?: string;
}

/** status: a running daemon's manifests. */
export interface StatusConfig {
  url: string;
  watch: boolean;
  output: OutputFormat;
  statusToken?: string;
}

/** run: the daemon. */
export interface RunConfig extends EngineConfig {
  host: string;
  port: number;
  resync: number;
  statusToken?: string;
  cloud: "aws" | "sim";
  debounce: number;
  simDriftEvery: number;
  /** Leader election: the DynamoDB table holding the lease; none means this process runs alone. */
  leaseTable?: string;
  leaseName: string;
  leaseDuration: number;
  leaseRenew: number;
  /** Webhook receivers of events (--notify-url, repeatable). */
  notifyUrl: string[];
  /** The SQS queue EventBridge delivers instance state and tag changes to; none when undefined. */
  instanceEventsQueue?: string;
  /** How often to look for newly launched instances without events (0: never). */
  instancePoll: number;
}

const duration = (value: string): number => {
  try {
    return parseDuration(value);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
};

/** The options by name; each call makes a fresh commander Option (an Option belongs to one command). */
export const options = {
  manifests: () =>
    new Option("-m, --manifests <dir>", "directory of InstanceAccess manifests")
      .env("ROLECALL_MANIFESTS")
      .default("./manifests"),
  output: () =>
    new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"),
  diffOutput: () =>
    new Option("-o, --output <format>", "output format (markdown: for a pull-request comment)")
      .choices(["text", "json", "markdown"])
      .default("text"),
  iamPath: () =>
    new Option("--iam-path <path>", "IAM path of the policies, roles and instance profiles rolecall creates")
      .env("ROLECALL_IAM_PATH")
      .default(defaultIamPath)
      .argParser((value) => {
        const problem = checkIamPath(value);
        if (problem !== undefined) throw new InvalidArgumentError(problem);
        return value;
      }),
  mode: () =>
    new Option("--mode <mode>", "default mode for manifests that do not set spec.mode")
      .choices(["enforce", "observe"])
      .env("ROLECALL_MODE")
      .default("enforce"),
  logLevel: (fallback: LogLevel) =>
    new Option("--log-level <level>", "log level")
      .choices([...logLevels])
      .env("ROLECALL_LOG_LEVEL")
      .default(fallback),
  concurrency: () =>
    new Option("--concurrency <n>", "manifests reconciled in parallel")
      .env("ROLECALL_CONCURRENCY")
      .default(4)
      .argParser(positiveInteger),
  allowMassPrune: () =>
    new Option("--allow-mass-prune", "allow one pass to remove more than half of the managed manifests")
      .env("ROLECALL_ALLOW_MASS_PRUNE")
      .default(false),
  iamRate: () =>
    new Option("--iam-rate <perSecond>", "client-side limit of IAM requests per second (burst: twice that)")
      .env("ROLECALL_IAM_RATE")
      .default(defaultAwsSettings.rateLimits.iam.perSecond)
      .argParser(positiveNumber),
  ec2Rate: () =>
    new Option("--ec2-rate <perSecond>", "client-side limit of EC2 requests per second (burst: twice that)")
      .env("ROLECALL_EC2_RATE")
      .default(defaultAwsSettings.rateLimits.ec2.perSecond)
      .argParser(positiveNumber),
  propagationTimeout: () =>
    new Option(
      "--propagation-timeout <duration>",
      "how long to wait for IAM to propagate a new profile to EC2",
    )
      .env("ROLECALL_PROPAGATION_TIMEOUT")
      .default(defaultAwsSettings.retry.propagationBudgetMs, "2m")
      .argParser(duration),
  requestTimeout: () =>
    new Option(
      "--request-timeout <duration>",
      "how long one AWS request may take before it is abandoned and retried",
    )
      .env("ROLECALL_REQUEST_TIMEOUT")
      .default(defaultAwsSettings.requestTimeoutMs, "30s")
      .argParser(duration),
  readStrategy: () =>
    new Option(
      "--read-strategy <strategy>",
      "snapshot (a few paginated reads) or per-resource (naive baseline, for benchmarks)",
    )
      .choices(["snapshot", "per-resource"])
      .env("ROLECALL_READ_STRATEGY")
      .default("snapshot")
      .hideHelp(),
  maxPoliciesPerRole: () =>
    new Option(
      "--max-policies-per-role <n>",
      "managed policies one role may hold (AWS's quota; 10 by default, raise it where the account's quota is raised)",
    )
      .env("ROLECALL_MAX_POLICIES_PER_ROLE")
      .default(10)
      .argParser(policiesPerRole),
  permissionsBoundary: () =>
    new Option(
      "--permissions-boundary <arn>",
      "ARN of the managed policy every role rolecall creates or adopts is capped by (recommended in production)",
    )
      .env("ROLECALL_PERMISSIONS_BOUNDARY")
      .argParser(policyArn),
  targets: () =>
    new Option(
      "--targets <file>",
      "Targets file (kind: Targets): the accounts and regions to manage, each with a sub-directory of --manifests",
    ).env("ROLECALL_TARGETS"),
  host: () =>
    new Option("--host <address>", "address the HTTP server listens on")
      .env("ROLECALL_HOST")
      .default("127.0.0.1"),
  port: () => new Option("--port <port>", "HTTP port").env("ROLECALL_PORT").default(8080).argParser(port),
  resync: () =>
    new Option("--resync <duration>", "interval of full passes that detect drift and new instances")
      .env("ROLECALL_RESYNC")
      .default(60_000, "60s")
      .argParser(duration),
  statusToken: () =>
    new Option("--status-token <token>", "bearer token required by /status (default: none)")
      .env("ROLECALL_STATUS_TOKEN")
      .argParser(statusToken),
  cloud: () =>
    new Option("--cloud <cloud>", "aws, or sim: an in-process simulated AWS for trying rolecall")
      .choices(["aws", "sim"])
      .env("ROLECALL_CLOUD")
      .default("aws"),
  simDriftEvery: () =>
    new Option(
      "--sim-drift-every <duration>",
      "with --cloud sim: detach a policy by hand this often, to show drift repair",
    )
      .env("ROLECALL_SIM_DRIFT_EVERY")
      .default(0, "off")
      .argParser(duration),
  debounce: () =>
    new Option("--debounce <duration>", "quiet time after file changes before the directory is read again")
      .env("ROLECALL_DEBOUNCE")
      .default(200, "200ms")
      .argParser(duration),
  leaseTable: () =>
    new Option(
      "--lease-table <name>",
      "DynamoDB table (partition key: string `id`) for leader election: only the process holding the lease makes changes; the others stand by",
    )
      .env("ROLECALL_LEASE_TABLE")
      .argParser(leaseTableName),
  leaseName: () =>
    new Option(
      "--lease-name <name>",
      "the lease's item in --lease-table: processes with the same name compete",
    )
      .env("ROLECALL_LEASE_NAME")
      .default("rolecall")
      .argParser(leaseName),
  leaseDuration: () =>
    new Option("--lease-duration <duration>", "how long the lease lasts after each renewal")
      .env("ROLECALL_LEASE_DURATION")
      .default(15_000, "15s")
      .argParser(duration),
  leaseRenew: () =>
    new Option(
      "--lease-renew <duration>",
      "how often the leader renews the lease (less than half of --lease-duration)",
    )
      .env("ROLECALL_LEASE_RENEW")
      .default(5000, "5s")
      .argParser(duration),
  notifyUrl: () =>
    new Option(
      "--notify-url <url>",
      "POST a JSON event to this URL at every transition (drift detected or repaired, failures, …); repeatable; env: comma-separated",
    )
      .env("ROLECALL_NOTIFY_URLS")
      .default([], "none")
      .argParser(notifyUrls),
  instanceEventsQueue: () =>
    new Option(
      "--instance-events-queue <url>",
      "URL of the SQS queue EventBridge sends EC2 instance state and tag changes to (deploy/aws/instance-events.yaml): new and re-tagged instances converge in seconds",
    )
      .env("ROLECALL_INSTANCE_EVENTS_QUEUE")
      .argParser(queueUrl),
  instancePoll: () =>
    new Option(
      "--instance-poll <duration>",
      "without an events queue: look this often for instances launched since the last look (one DescribeInstances each time)",
    )
      .env("ROLECALL_INSTANCE_POLL")
      .default(0, "off")
      .argParser(duration),
} as const;

/** The options of every command that runs a pass, in help order, after the command's own. */
export function engineOptions(logLevelFallback: LogLevel): Option[] {
  return [
    options.manifests(),
    options.iamPath(),
    options.mode(),
    options.logLevel(logLevelFallback),
    options.concurrency(),
    options.allowMassPrune(),
    options.iamRate(),
    options.ec2Rate(),
    options.propagationTimeout(),
    options.requestTimeout(),
    options.readStrategy(),
    options.permissionsBoundary(),
    options.maxPoliciesPerRole(),
    options.targets(),
  ];
}

/** A managed policy's ARN, in any partition and under any path. */
function policyArn(value: string): string {
  if (!/^arn:aws[a-z-]*:iam::(\d{12}|aws):policy\/([\u0021-\u007e]*\/)?[\w+=,.@-]{1,128}$/.test(value))
    throw new InvalidArgumentError(
      `"${value}" is not the ARN of a managed policy (arn:aws:iam::ACCOUNT:policy/PATH/NAME)`,
    );
  return value;
}

/** A composite needs at least two policies; AWS's quota for policies per role is at most 20. */
function policiesPerRole(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 2 || parsed > 20)
    throw new InvalidArgumentError(
      `expected a whole number from 2 to 20 (AWS's quota range), got "${value}"`,
    );
  return parsed;
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

/** An empty token (an unset secret in ROLECALL_STATUS_TOKEN=) would lock /status for good: refuse to start. */
function statusToken(value: string): string {
  if (value.trim() === "") throw new InvalidArgumentError("the status token is empty");
  return value;
}

/** DynamoDB's rules for table names: 3 to 255 of letters, digits, underscore, hyphen and dot. */
function leaseTableName(value: string): string {
  if (!/^[\w.-]{3,255}$/.test(value))
    throw new InvalidArgumentError(
      `"${value}" is not a DynamoDB table name (3 to 255 letters, digits, "_", "-" or ".")`,
    );
  return value;
}

/** The item's key: any non-empty string up to DynamoDB's 2048-byte limit for a partition key. */
function leaseName(value: string): string {
  if (value.trim() === "" || Buffer.byteLength(value) > 2048)
    throw new InvalidArgumentError("the lease name must be 1 to 2048 bytes, not blank");
  return value;
}

/**
 * One --notify-url, or ROLECALL_NOTIFY_URLS' comma-separated list, added to those before. An error shows no part
 * of the URL past its host: the path and query of an incoming webhook are its secret.
 */
function notifyUrls(value: string, previous: string[]): string[] {
  const urls = value
    .split(",")
    .map((url) => url.trim())
    .filter((url) => url !== "");
  for (const url of urls) {
    let protocol: string | undefined;
    try {
      protocol = new URL(url).protocol;
    } catch {
      protocol = undefined;
    }
    if (protocol !== "http:" && protocol !== "https:")
      throw new InvalidArgumentError(`a notification URL must be http:// or https://, got ${redactUrl(url)}`);
  }
  return [...previous, ...urls];
}

/** An SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME, or an emulator's http URL of that shape). */
function queueUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(
      `"${value}" is not a URL (expected https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)`,
    );
  }
  if (
    (url.protocol !== "https:" && url.protocol !== "http:") ||
    !/^\/\d{12}\/[\w-]{1,80}(\.fifo)?\/?$/.test(url.pathname)
  )
    throw new InvalidArgumentError(
      `"${value}" is not an SQS queue URL (expected https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)`,
    );
  return value;
}

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535)
    throw new InvalidArgumentError(`"${value}" is not a port number`);
  return parsed;
}
