import type { RunConfig } from "../config/options.js";
import { Controller } from "../daemon/controller.js";
import { ManifestWatcher } from "../daemon/manifest-watcher.js";
import { buildServer } from "../http/server.js";
import { createLogger } from "../observability/logger.js";
import { Metrics } from "../observability/metrics.js";
import { StatusStore } from "../status/status-store.js";
import { connect, createEngine } from "./connect.js";

/** How long shutdown may take before the process exits anyway (SIGTERM must end it within 10 s). */
const shutdownDeadlineMs = 9000;

/** The daemon's composition root: config → logger, metrics, clients, controller, watcher, HTTP server. */
export async function runDaemon(options: RunConfig): Promise<void> {
  const logger = createLogger(options.logLevel);
  const metrics = new Metrics();
  const status = new StatusStore();
  const cloud = await connect(options, metrics, logger);
  const { iam, ec2 } = cloud;
  const controller = new Controller({
    manifestsDirectory: options.manifests,
    compile: { iamPath: options.iamPath, partition: cloud.partition, defaultMode: options.mode },
    engine: createEngine(cloud, options),
    ec2,
    status,
    metrics,
    logger: logger.child({ component: "controller" }),
    options: {
      concurrency: options.concurrency,
      resyncMs: options.resync,
      settleMs: options.debounce,
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
    iam.stop();
    ec2.stop();
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
