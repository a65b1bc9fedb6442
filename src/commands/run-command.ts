import { Command, InvalidArgumentError, Option } from "commander";
import { AwsActionExecutor } from "../aws/aws-action-executor.js";
import { connectToAws, createCallers } from "../aws/aws-clients.js";
import type { AwsCaller } from "../aws/aws-caller.js";
import { SimCloud, demoInstances } from "../aws/sim/sim-cloud.js";
import { parseDuration } from "../config/duration.js";
import { Controller } from "../daemon/controller.js";
import { ManifestWatcher } from "../daemon/manifest-watcher.js";
import { buildServer } from "../http/server.js";
import { createLogger, type Logger } from "../observability/logger.js";
import { Metrics } from "../observability/metrics.js";
import { StatusStore } from "../status/status-store.js";
import { awsSettingsFrom, engineOptions, type EngineCliOptions } from "./engine-setup.js";
import { logLevelOption, type CommonRunOptions } from "./plan-command.js";
import { iamPathOption, manifestsOption, modeOption } from "./shared-options.js";

interface RunOptions extends Omit<CommonRunOptions, "output"> {
  host: string;
  port: number;
  resync: number;
  statusToken?: string;
  cloud: "aws" | "sim";
  debounce: number;
}

/** How long shutdown may take before the process exits anyway (SIGTERM must end it within 10 s). */
const shutdownDeadlineMs = 9000;

export function runCommand(): Command {
  const command = new Command("run")
    .description(
      "Run the controller: watch the manifests directory, resync on an interval, converge AWS, and serve " +
        "/healthz, /readyz, /status and /metrics. Every option can also be set with an environment variable.",
    )
    .addOption(manifestsOption())
    .addOption(
      new Option("--host <address>", "address the HTTP server listens on")
        .env("ROLECALL_HOST")
        .default("127.0.0.1"),
    )
    .addOption(new Option("--port <port>", "HTTP port").env("ROLECALL_PORT").default(8080).argParser(port))
    .addOption(
      new Option("--resync <duration>", "interval of full passes that detect drift and new instances")
        .env("ROLECALL_RESYNC")
        .default(60_000, "60s")
        .argParser(parseDuration),
    )
    .addOption(modeOption())
    .addOption(iamPathOption())
    .addOption(logLevelOption("info"))
    .addOption(
      new Option("--status-token <token>", "bearer token required by /status (default: none)")
        .env("ROLECALL_STATUS_TOKEN")
        .argParser(statusToken),
    )
    .addOption(
      new Option("--cloud <cloud>", "aws, or sim: an in-process simulated AWS for trying rolecall")
        .choices(["aws", "sim"])
        .env("ROLECALL_CLOUD")
        .default("aws"),
    )
    .addOption(
      new Option("--debounce <duration>", "quiet time after file changes before the directory is read again")
        .env("ROLECALL_DEBOUNCE")
        .default(200, "200ms")
        .argParser(parseDuration),
    );
  for (const option of engineOptions()) command.addOption(option);
  return command.action(async (options: RunOptions) => {
    await runDaemon(options);
  });
}

async function runDaemon(options: RunOptions): Promise<void> {
  const logger = createLogger(options.logLevel);
  const metrics = new Metrics();
  const status = new StatusStore();
  const { iam, ec2, partition } = await connect(options, metrics, logger);
  const controller = new Controller({
    manifestsDirectory: options.manifests,
    compile: { iamPath: options.iamPath, partition, defaultMode: options.mode },
    iam,
    ec2,
    executor: new AwsActionExecutor(iam, ec2),
    status,
    metrics,
    logger: logger.child({ component: "controller" }),
    options: {
      concurrency: options.concurrency,
      resyncMs: options.resync,
      allowMassPrune: options.allowMassPrune,
    },
  });
  const watcher = new ManifestWatcher(
    options.manifests,
    { debounceMs: options.debounce, maxWaitMs: Math.max(1000, options.debounce * 5) },
    () => {
      void controller.manifestsChanged();
    },
    (error) => {
      logger.warn({ err: error, component: "watcher" }, "file watcher error");
    },
  );
  const server = buildServer({
    status,
    isReady: () => controller.isReady(),
    registry: metrics.registry,
    statusToken: options.statusToken,
    logger: logger.child({ component: "http" }),
  });
  let stopping = false;
  // A deleted directory takes its watch with it, and nothing would notice it come back until the next resync (and
  // then only at every resync). While it is unreadable, look for it every second; once it is back, reload and
  // watch it afresh.
  let watchIsStale = false;
  setInterval(() => {
    metrics.workqueueDepth.set(controller.queueDepth());
    if (stopping) return;
    if (!controller.directoryIsReadable()) {
      watchIsStale = true;
      void controller.manifestsChanged();
    } else if (watchIsStale) {
      watchIsStale = false;
      void watcher.restart().then(() => controller.manifestsChanged());
    }
  }, 1000).unref();

  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: no new work; waiting for AWS calls in flight");
    setTimeout(() => {
      logger.error("shutdown took too long; exiting");
      process.exit(1);
    }, shutdownDeadlineMs).unref();
    await watcher.close();
    await controller.stop();
    await server.close();
    logger.info("stopped");
    process.exit(0);
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));

  await server.listen({ host: options.host, port: options.port });
  logger.info(
    {
      host: options.host,
      port: options.port,
      manifests: options.manifests,
      cloud: options.cloud,
      mode: options.mode,
      resyncMs: options.resync,
    },
    "rolecall started",
  );
  watcher.start();
  controller.start();
}

async function connect(
  options: RunOptions & EngineCliOptions,
  metrics: Metrics,
  logger: Logger,
): Promise<{ iam: AwsCaller; ec2: AwsCaller; partition: string }> {
  const settings = awsSettingsFrom(options);
  if (options.cloud === "sim") {
    const sim = new SimCloud({ instances: demoInstances(), latencyMs: 5 });
    logger.warn("using the simulated cloud (--cloud sim): nothing here touches AWS");
    return { ...createCallers(sim, settings, metrics, logger.child({ component: "aws" })), partition: "aws" };
  }
  const aws = await connectToAws(settings, metrics, logger.child({ component: "aws" }));
  return { iam: aws.iam, ec2: aws.ec2, partition: aws.partition };
}

/** An empty token (an unset secret in ROLECALL_STATUS_TOKEN=) would lock /status for good: refuse to start. */
function statusToken(value: string): string {
  if (value.trim() === "") throw new InvalidArgumentError("the status token is empty");
  return value;
}

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535)
    throw new InvalidArgumentError(`"${value}" is not a port number`);
  return parsed;
}
