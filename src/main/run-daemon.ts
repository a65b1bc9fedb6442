import type { RunConfig } from "../config/options.js";
import { Controller } from "../daemon/controller.js";
import { ManifestWatcher } from "../daemon/manifest-watcher.js";
import { buildServer } from "../http/server.js";
import { createLogger, type Logger } from "../observability/logger.js";
import { Metrics } from "../observability/metrics.js";
import { StatusStore } from "../status/status-store.js";
import { connect, createEngine, type Cloud } from "./connect.js";
import { setUpLeadership, type Leadership } from "./leadership.js";
import { instanceWatch, type InstanceWatch } from "./instance-events.js";
import { noticeMissingBoundary } from "./boundary-notice.js";
import { startNotifier } from "./start-notifier.js";
import { runTargetsDaemon } from "./run-targets-daemon.js";

/** How long shutdown may take before the process exits anyway (SIGTERM must end it within 10 s). */
const shutdownDeadlineMs = 9000;

/** The daemon's composition root: config → logger, metrics, clients, controller, watcher, HTTP server. */
export async function runDaemon(config: RunConfig): Promise<void> {
  if (config.targets !== undefined) return runTargetsDaemon({ ...config, targets: config.targets });
  const logger = createLogger(config.logLevel);
  const metrics = new Metrics();
  metrics.resyncInterval.set(config.resync / 1000);
  const status = new StatusStore();
  noticeMissingBoundary(status, config.permissionsBoundary);
  const cloud = await connect(config, metrics, logger);
  const leadership = await setUpLeadership(config, { cloud, metrics, status, logger });
  const notifier = startNotifier(config.notifyUrl, { status, metrics, logger, leadership });
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
    ...(leadership === undefined ? {} : { leadership }),
  });
  leadership?.onChange((leading) => {
    controller.leadershipChanged(leading);
  });
  const watcher = new ManifestWatcher(
    config.manifests,
    { debounceMs: config.debounce, maxWaitMs: Math.max(1000, config.debounce * 5) },
    () => void controller.manifestsChanged(),
    (error) => {
      logger.warn({ err: error, component: "watcher" }, "file watcher error");
    },
  );
  const instances = await instanceWatch(config, { cloud, controller, metrics, status, logger, leadership });
  const server = buildServer({
    status,
    isReady: () => controller.isReady(),
    registry: metrics.registry,
    statusToken: config.statusToken,
    logger: logger.child({ component: "http" }),
    events: status,
  });
  const lifecycle = { stopping: false };
  watchForReturningDirectory(controller, watcher, metrics, lifecycle);
  const shutdown = async (signal: string) => {
    if (lifecycle.stopping) return;
    lifecycle.stopping = true;
    notifier.stop();
    await stopGracefully(signal, logger, { watcher, instances, cloud, controller, server, leadership });
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));

  await server.listen({ host: config.host, port: config.port });
  const { host, port, manifests, cloud: cloudName, mode, resync: resyncMs } = config;
  logger.info({ host, port, manifests, cloud: cloudName, mode, resyncMs }, "rolecall started");
  watcher.start();
  controller.start();
  leadership?.start();
  instances.start();
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

/**
 * No new work; AWS retry waits end at once; the calls in flight finish; the lease is released; then the process
 * exits 0 (or 1, late).
 */
async function stopGracefully(
  signal: string,
  logger: Logger,
  parts: {
    readonly watcher: ManifestWatcher;
    readonly instances: InstanceWatch;
    readonly cloud: Cloud;
    readonly controller: Controller;
    readonly server: { close(): Promise<unknown> };
    readonly leadership: Leadership | undefined;
  },
): Promise<void> {
  logger.info({ signal }, "shutting down: no new work; waiting for AWS calls in flight");
  setTimeout(() => {
    logger.error("shutdown took too long; exiting");
    process.exit(1);
  }, shutdownDeadlineMs).unref();
  await parts.watcher.close();
  parts.instances.stop();
  parts.cloud.iam.stop();
  parts.cloud.ec2.stop();
  await parts.controller.stop();
  // Only now, with no call in flight: the standby may start writing as soon as the lease is released.
  await parts.leadership?.stop();
  await parts.server.close();
  logger.info("stopped");
  process.exit(0);
}
