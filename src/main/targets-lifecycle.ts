import type { RunConfig } from "../config/options.js";
import type { Controller } from "../daemon/controller.js";
import type { ManifestWatcher } from "../daemon/manifest-watcher.js";
import type { Logger } from "../observability/logger.js";
import type { Leadership } from "./leadership.js";
import type { TargetConnection } from "../aws/target-connection.js";
import type { Metrics } from "../observability/metrics.js";
import type { StatusStore } from "../status/status-store.js";
import type { TargetWorld } from "./connect-targets.js";

/** One target as the daemon runs it: its own metrics and status from the start, its controller once reached. */
export interface TargetRuntime {
  readonly spec: TargetWorld["spec"];
  readonly metrics: Metrics;
  readonly status: StatusStore;
  controller?: Controller;
  connection?: TargetConnection;
}

/** How long shutdown may take before the process exits anyway (SIGTERM must end it within 10 s). */
const shutdownDeadlineMs = 9000;

/** What run --targets refuses at start rather than half do: the simulated cloud is one account. */
export function targetsRefusal(config: RunConfig): string | undefined {
  if (config.cloud === "sim")
    return "--targets reaches real accounts: it cannot be combined with --cloud sim";
  return undefined;
}

/**
 * As without --targets: a deleted directory takes its watch with it, so while some target's read fails the
 * directory is looked for every second, and watched afresh once it is back. The same tick keeps each target's
 * queue-depth gauge current.
 */
export function watchTargetsDirectory(
  runtimes: readonly TargetRuntime[],
  watcher: ManifestWatcher,
  lifecycle: { readonly stopping: boolean },
): void {
  let watchIsStale = false;
  setInterval(() => {
    const running = runtimes.flatMap((runtime) => runtime.controller ?? []);
    // The controller sets its depth gauge while a key it has just handled is still counted: this keeps it current.
    for (const runtime of runtimes)
      if (runtime.controller !== undefined)
        runtime.metrics.workqueueDepth.set(runtime.controller.queueDepth());
    if (lifecycle.stopping) return;
    if (running.some((controller) => !controller.directoryIsReadable())) {
      watchIsStale = true;
      for (const controller of running) void controller.manifestsChanged();
    } else if (watchIsStale) {
      watchIsStale = false;
      void watcher
        .restart()
        .then(() => Promise.all(running.map((controller) => controller.manifestsChanged())));
    }
  }, 1000).unref();
}

/** As stopGracefully, for every target: no new work, retry waits end, calls in flight finish, then the lease goes. */
export async function stopTargets(
  signal: string,
  logger: Logger,
  parts: {
    readonly watcher: ManifestWatcher;
    readonly runtimes: readonly TargetRuntime[];
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
  for (const runtime of parts.runtimes) {
    runtime.connection?.iam.stop();
    runtime.connection?.ec2.stop();
  }
  await Promise.all(parts.runtimes.map((runtime) => runtime.controller?.stop() ?? Promise.resolve()));
  // Only now, with no call in flight in any target: the standby may start writing once the lease is released.
  await parts.leadership?.stop();
  await parts.server.close();
  logger.info("stopped");
  process.exit(0);
}
