import path from "node:path";
import {
  connectTarget,
  TargetUnavailableError,
  type CredentialsFailed,
  type TargetConnection,
} from "../aws/target-connection.js";
import type { RunConfig } from "../config/options.js";
import { Controller } from "../daemon/controller.js";
import { ManifestWatcher } from "../daemon/manifest-watcher.js";
import { TargetDirectories } from "../daemon/target-directories.js";
import { TargetSupervisor, type TargetState, type Unreachable } from "../daemon/target-supervisor.js";
import { readManifestSource } from "../fs/git-revision.js";
import { buildServer } from "../http/server.js";
import { createLogger, type Logger } from "../observability/logger.js";
import { mergedRegistry } from "../observability/merged-registry.js";
import { Metrics } from "../observability/metrics.js";
import { StatusStore } from "../status/status-store.js";
import { TargetsStatus, type TargetReach } from "../status/targets-status.js";
import { awsSettingsFrom, createEngine } from "./connect.js";
import { readTargets } from "./connect-targets.js";
import { setUpLeadership, type Leadership } from "./leadership.js";
import { noticeMissingBoundary } from "./boundary-notice.js";
import { startNotifier } from "./start-notifier.js";
import { targetsInstanceWatch } from "./targets-instance-events.js";
import {
  stopTargets,
  targetsRefusal,
  watchTargetsDirectory,
  type TargetRuntime,
} from "./targets-lifecycle.js";

type TargetsConfig = RunConfig & { readonly targets: string };

/**
 * run --targets: one process, one reconcile world per target (its own controller over its sub-directory, its
 * own engine, callers, rate limits, status and metrics), one lease for all of them, one HTTP server showing all.
 * A target that cannot be reached is retried with backoff while the others go on; while it is not reached, the
 * names of its manifests are removed from no other target.
 */
export async function runTargetsDaemon(config: TargetsConfig): Promise<void> {
  const refusal = targetsRefusal(config);
  if (refusal !== undefined) throw new Error(refusal);
  const logger = createLogger(config.logLevel);
  const processMetrics = new Metrics({ scope: "process" });
  const processStatus = new StatusStore();
  noticeMissingBoundary(processStatus, config.permissionsBoundary);
  const specs = await readTargets(config.targets, config.iamPath);
  const runtimes = targetRuntimes(specs, config.resync);
  const directories = new TargetDirectories(config.manifests, specs, {
    iamPath: config.iamPath,
    defaultMode: config.mode,
    permissionsBoundary: config.permissionsBoundary,
  });
  const leadership = await setUpLeadership(config, {
    metrics: processMetrics,
    status: processStatus,
    logger,
  });
  // Read by closures only, once the supervisor below exists.
  const reach = (name: string): TargetReach => reachOf(supervisor.state(name));
  const status = targetsStatus(processStatus, [...runtimes.values()], directories, reach);
  const notifier = startNotifier(config.notifyUrl, {
    status,
    metrics: processMetrics,
    logger,
    leadership,
  });
  // One consumer of the organisation's queue for every target (process-wide metrics and notice).
  const instances = await targetsInstanceWatch(config, {
    runtimes: [...runtimes.values()],
    metrics: processMetrics,
    status: processStatus,
    logger,
    ...(leadership === undefined ? {} : { leadership }),
  });
  const readSource = async () => {
    const source = await readManifestSource(config.manifests);
    processStatus.setSource(source);
    return source;
  };
  const supervisor = new TargetSupervisor<TargetConnection>({
    targets: specs.map((spec) => spec.name),
    connect: (name) =>
      connectOne(config, runtimes.get(name), logger, (error) => {
        supervisor.lost(name, describeUnreachable(error));
      }),
    describe: describeUnreachable,
    onReachable: (name, connection) => {
      const runtime = runtimes.get(name);
      if (runtime === undefined) return;
      startTarget(runtime, connection, {
        config,
        logger,
        leadership,
        directories,
        readSource,
        unreachable: () => supervisor.notReachable(),
      });
      instances.targetReached(runtime);
    },
    // The controller goes on with its first connection, whose session the SDK renews once the role works again.
    onRecovered: (_name, probe) => {
      probe.iam.stop();
      probe.ec2.stop();
    },
    onChange: (name, state, previous) => {
      reportChange(status, logger, name, state, previous);
    },
  });
  const server = targetsServer(config, status, processMetrics, [...runtimes.values()], logger);
  const controllers = () => [...runtimes.values()].flatMap((runtime) => runtime.controller ?? []);
  const watcher = new ManifestWatcher(
    config.manifests,
    { debounceMs: config.debounce, maxWaitMs: Math.max(1000, config.debounce * 5) },
    () => {
      // Read even when no target is reached yet: files in no target's directory are shown all the same.
      void directories.read().catch(() => undefined);
      for (const controller of controllers()) void controller.manifestsChanged();
    },
    (error) => {
      logger.warn({ err: error, component: "watcher" }, "file watcher error");
    },
  );
  const lifecycle = { stopping: false };
  watchTargetsDirectory([...runtimes.values()], watcher, lifecycle);
  const shutdown = async (signal: string) => {
    if (lifecycle.stopping) return;
    lifecycle.stopping = true;
    notifier.stop();
    supervisor.stop();
    instances.stop();
    await stopTargets(signal, logger, { watcher, runtimes: [...runtimes.values()], server, leadership });
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));

  await server.listen({ host: config.host, port: config.port });
  const { host, port, manifests, mode, resync: resyncMs } = config;
  const targets = specs.map((spec) => spec.name);
  logger.info({ host, port, manifests, targets, mode, resyncMs }, "rolecall started");
  void directories.read().catch(() => undefined);
  watcher.start();
  supervisor.start();
  instances.start();
  leadership?.start();
}

/** What /status shows: the process's own store, and each target's with how it is reached and whether ready. */
function targetsStatus(
  processStatus: StatusStore,
  runtimes: readonly TargetRuntime[],
  directories: TargetDirectories,
  reach: (name: string) => TargetReach,
): TargetsStatus {
  return new TargetsStatus(
    processStatus,
    runtimes.map((runtime) => ({
      name: runtime.spec.name,
      account: runtime.spec.account,
      regions: runtime.spec.regions,
      store: runtime.status,
      reach: () => reach(runtime.spec.name),
      ready: () => runtime.controller?.isReady() ?? false,
    })),
    () => directories.outside(),
  );
}

/** Each target's own metrics (labelled with its name) and status store, from the start. */
function targetRuntimes(
  specs: readonly TargetRuntime["spec"][],
  resyncMs: number,
): Map<string, TargetRuntime> {
  const runtimes = new Map<string, TargetRuntime>();
  for (const spec of specs) {
    const metrics = new Metrics({ scope: { target: spec.name } });
    metrics.resyncInterval.set(resyncMs / 1000);
    runtimes.set(spec.name, { spec, metrics, status: new StatusStore(undefined, spec.name) });
  }
  return runtimes;
}

/** The HTTP server over every target: /readyz names the unavailable ones, /metrics merges the registries. */
function targetsServer(
  config: TargetsConfig,
  status: TargetsStatus,
  processMetrics: Metrics,
  runtimes: readonly TargetRuntime[],
  logger: Logger,
) {
  return buildServer({
    status,
    isReady: () => status.readiness().ready,
    readinessDetails: () => {
      const { unavailable, waitingFor } = status.readiness();
      return { unavailable, waitingFor };
    },
    registry: mergedRegistry(() => [
      processMetrics.registry,
      ...runtimes.map((runtime) => runtime.metrics.registry),
    ]),
    statusToken: config.statusToken,
    logger: logger.child({ component: "http" }),
    events: status,
  });
}

/** One attempt to reach a target: assume its role (if any) and check its account; `lost` hears later failures. */
function connectOne(
  config: TargetsConfig,
  runtime: TargetRuntime | undefined,
  logger: Logger,
  lost: CredentialsFailed,
): Promise<TargetConnection> {
  if (runtime === undefined) return Promise.reject(new Error("unknown target"));
  const aws = logger.child({ component: "aws", target: runtime.spec.name });
  return connectTarget(runtime.spec, awsSettingsFrom(config), runtime.metrics, aws, lost);
}

function describeUnreachable(error: unknown): Unreachable {
  if (error instanceof TargetUnavailableError) return { code: error.code, message: error.message };
  return { code: "ConnectFailed", message: error instanceof Error ? error.message : String(error) };
}

/** A reached target's controller, over its own sub-directory, with the lease's guard on its callers. */
function startTarget(
  runtime: TargetRuntime,
  connection: TargetConnection,
  parts: {
    readonly config: TargetsConfig;
    readonly logger: Logger;
    readonly leadership: Leadership | undefined;
    readonly directories: TargetDirectories;
    readonly readSource: () => ReturnType<typeof readManifestSource>;
    readonly unreachable: () => readonly string[];
  },
): void {
  const { config, leadership, directories } = parts;
  const name = runtime.spec.name;
  leadership?.guard(connection.iam, connection.ec2);
  const controller = new Controller({
    manifestsDirectory: path.join(config.manifests, runtime.spec.manifests),
    compile: {
      iamPath: config.iamPath,
      partition: connection.partition,
      defaultMode: config.mode,
      permissionsBoundary: config.permissionsBoundary,
    },
    engine: createEngine(connection, config),
    ec2: connection.ec2,
    status: runtime.status,
    metrics: runtime.metrics,
    logger: parts.logger.child({ component: "controller", target: name }),
    options: { concurrency: config.concurrency, resyncMs: config.resync, settleMs: config.debounce },
    readDirectory: directories.readerFor(name),
    readSource: parts.readSource,
    outsideHolds: () => directories.holdsFor(name, parts.unreachable()),
    ...(leadership === undefined ? {} : { leadership }),
  });
  leadership?.onChange((leading) => {
    controller.leadershipChanged(leading);
  });
  runtime.connection = connection;
  runtime.controller = controller;
  controller.start();
}

function reachOf(state: TargetState | undefined): TargetReach {
  if (state === undefined || state.kind === "connecting") return { state: "connecting" };
  if (state.kind === "reachable") return { state: "reachable", since: state.since };
  return { state: "unavailable", ...state.why, attempts: state.attempts, retryAt: state.retryAt };
}

/** Logs every attempt; TargetUnavailable when a target turns unavailable, TargetRecovered when it comes back. */
function reportChange(
  status: TargetsStatus,
  logger: Logger,
  target: string,
  state: TargetState,
  previous: TargetState,
): void {
  if (state.kind === "unavailable") {
    const { code, message } = state.why;
    logger.warn(
      { target, code, attempts: state.attempts, retryAt: state.retryAt },
      `target unavailable: ${message}`,
    );
    if (previous.kind !== "unavailable")
      status.announce(target, {
        type: "TargetUnavailable",
        message,
        details: { code, attempts: state.attempts, retryAt: state.retryAt },
      });
    return;
  }
  if (state.kind !== "reachable") return;
  logger.info({ target }, "target reached");
  if (previous.kind === "unavailable")
    status.announce(target, {
      type: "TargetRecovered",
      message: `reached after ${previous.attempts} failed attempt(s)`,
      details: { attempts: previous.attempts },
    });
}
