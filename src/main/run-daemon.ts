import type { RunConfig } from "../config/options.js";
import { Controller } from "../daemon/controller.js";
import { ManifestWatcher } from "../daemon/manifest-watcher.js";
import { buildServer } from "../http/server.js";
import { createLogger, type Logger } from "../observability/logger.js";
import { Metrics } from "../observability/metrics.js";
import { StatusStore } from "../status/status-store.js";
import { connect, createEngine, type Cloud } from "./connect.js";

/** How long shutdown may take before the process exits anyway (SIGTERM must end it within 10 s). */
const shutdownDeadlineMs = 9000;

/** The daemon's composition root: config → logger, metrics, clients, controller, watcher, HTTP server. */
export async function runDaemon(config: RunConfig): Promise<void> {
  // Refused rather than ignored: a daemon that took the whole directory into one account would apply every
  // target's manifests there.
  if (config.targets !== undefined)
    throw new Error(
      "run --targets is not supported yet: use plan/apply --targets, or one daemon per account without it",
    );
  const logger = createLogger(config.logLevel);
  const metrics = new Metrics();
  metrics.resyncInterval.set(config.resync / 1000);
  const status = new StatusStore();
  if (config.permissionsBoundary === undefined)
    status.setNotice(
      "NoPermissionsBoundary",
      "roles are created without a permissions boundary (--permissions-boundary): whoever holds rolecall's credentials could give a role more than S3 access",
    );
  const cloud = await connect(config, metrics, logger);
  const controller = new Controller({
    manifestsDirectory: config.manifests,
    compile: {
      iamPath: config.iamPath,
      partition: cloud.partition,
      defaultMode: config.mode,
      permissionsBoundary: config.permissionsBoundary,
    },
    engine: createEngine(cloud, config),
    ec2: cloud.ec2,
    status,
    metrics,
    logger: logger.child({ component: "controller" }),
    options: { concurrency: config.concurrency, resyncMs: config.resync, settleMs: config.debounce },
  });
  const watcher = new ManifestWatcher(
    config.manifests,
    { debounceMs: config.debounce, maxWaitMs: Math.max(1000, config.debounce * 5) },
    () => void controller.manifestsChanged(),
    (error) => {
      logger.warn({ err: error, component: "watcher" }, "file watcher error");
    },
  );
  const server = buildServer({
    status,
    isReady: () => controller.isReady(),
    registry: metrics.registry,
    statusToken: config.statusToken,
    logger: logger.child({ component: "http" }),
  });
  const lifecycle = { stopping: false };
  watchForReturningDirectory(controller, watcher, metrics, lifecycle);
  const shutdown = async (signal: string) => {
    if (lifecycle.stopping) return;
    lifecycle.stopping = true;
    await stopGracefully(signal, logger, { watcher, cloud, controller, server });
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));

  await server.listen({ host: config.host, port: config.port });
  const { host, port, manifests, cloud: cloudName, mode, resync: resyncMs } = config;
  logger.info({ host, port, manifests, cloud: cloudName, mode, resyncMs }, "rolecall started");
  watcher.start();
  controller.start();
}

/**
 * A deleted directory takes its watch with it, and nothing would notice it come back until the next resync (and
 * then only at every resync). While it is unreadable, look for it every second; once it is back, reload and
 * watch it afresh. (The same tick keeps the queue-depth gauge current.)
 */
function watchForReturningDirectory(
  controller: Controller,
  watcher: ManifestWatcher,
  metrics: Metrics,
  lifecycle: { readonly stopping: boolean },
): void {
  let watchIsStale = false;
  setInterval(() => {
    metrics.workqueueDepth.set(controller.queueDepth());
    if (lifecycle.stopping) return;
    if (!controller.directoryIsReadable()) {
      watchIsStale = true;
      void controller.manifestsChanged();
    } else if (watchIsStale) {
      watchIsStale = false;
      void watcher.restart().then(() => controller.manifestsChanged());
    }
  }, 1000).unref();
}

/** No new work; AWS retry waits end at once; the calls in flight finish; then the process exits 0 (or 1, late). */
async function stopGracefully(
  signal: string,
  logger: Logger,
  parts: {
    readonly watcher: ManifestWatcher;
    readonly cloud: Cloud;
    readonly controller: Controller;
    readonly server: { close(): Promise<unknown> };
  },
): Promise<void> {
  logger.info({ signal }, "shutting down: no new work; waiting for AWS calls in flight");
  setTimeout(() => {
    logger.error("shutdown took too long; exiting");
    process.exit(1);
  }, shutdownDeadlineMs).unref();
  await parts.watcher.close();
  parts.cloud.iam.stop();
  parts.cloud.ec2.stop();
  await parts.controller.stop();
  await parts.server.close();
  logger.info("stopped");
  process.exit(0);
}
