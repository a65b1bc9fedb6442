import type { Ec2Caller } from "../aws/region-router.js";
import { randomUUID } from "node:crypto";
import type { CompileOptions } from "../desired/desired-access.js";
import type { Engine } from "../engine/engine.js";
import type { ActionOutcome } from "../engine/execute-plan.js";
import type { SnapshotWriter } from "../engine/snapshot-writer.js";
import { cached, cachedWithFreshInstances } from "../engine/state-source.js";
import type { ManifestFileInput } from "../manifest/examine-file.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import type { CompositePlan, ManifestPlan } from "../plan/manifest-plan.js";
import type { PassPlan } from "../plan/plan-pass.js";
import type { StatusStore } from "../status/status-store.js";
import { explainInstance } from "../explain/explain-instance.js";
import { ManifestTracker } from "./manifest-tracker.js";
import { planGroups } from "./plan-groups.js";
import { reconcileRecord } from "./reconcile-record.js";
import { requeueFor, type ReconcileEnd } from "./requeue.js";
import { WorkQueue, type HandlerResult } from "./work-queue.js";

export interface ControllerOptions {
  readonly concurrency: number;
  readonly resyncMs: number;
  /**
   * A file modified more recently than this may still be being written (a plain `git checkout` writes files in
   * place): its previous content stays in force and it is read again once it has settled. The watcher's debounce
   * already waits this long after the last event; this guards reads not triggered by one (resyncs).
   */
  readonly settleMs?: number;
}

export interface ControllerDeps {
  readonly manifestsDirectory: string;
  readonly compile: CompileOptions;
  /** The one pass pipeline (its full read serves the resyncs). */
  readonly engine: Engine;
  /** For reading the instances of a manifest reconciled between resyncs. */
  readonly ec2: Ec2Caller;
  readonly status: StatusStore;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly options: ControllerOptions;
  /** Injectable for tests; defaults to reading the directory from disk. */
  readonly readDirectory?: (directory: string) => Promise<ManifestFileInput[]>;
}

/**
 * The reconciling controller: the manifests in force, a cache of live state (refreshed by every resync, kept
 * current by write-through), and a work queue keyed by manifest name. A resync plans every manifest against a
 * full read; reconciling a key is one focused pass of the engine, from that plan or from the cache.
 */
export class Controller {
  private readonly tracker: ManifestTracker;
  private cache: SnapshotWriter | undefined;
  /** The last resync's plans not yet used, valid while the manifests in force stay as they were planned. */
  private planned:
    | {
        manifests: Map<string, ManifestPlan>;
        composites: Map<string, CompositePlan>;
        pruneSuspended: PassPlan["pruneSuspended"];
        /** Units that must run together (planGroups), and those already run this resync. */
        groups: ReadonlyMap<string, readonly string[]>;
        taken: Set<string>;
      }
    | undefined;
  private manifestsVersion = 0;
  private readonly queue: WorkQueue;
  private readonly abort = new AbortController();
  private resyncTimer: NodeJS.Timeout | undefined;
  private resyncing: Promise<void> | undefined;
  private firstPass: Set<string> | undefined;
  private ready = false;

  constructor(private readonly deps: ControllerDeps) {
    this.tracker = new ManifestTracker({
      directory: deps.manifestsDirectory,
      compile: deps.compile,
      settleMs: deps.options.settleMs ?? 0,
      ...(deps.readDirectory === undefined ? {} : { readDirectory: deps.readDirectory }),
      onUnsettled: (afterMs) => {
        if (!this.abort.signal.aborted) setTimeout(() => void this.manifestsChanged(), afterMs).unref();
      },
    });
    this.queue = new WorkQueue(
      (key) => this.reconcile(key),
      deps.options.concurrency,
      undefined,
      undefined,
      (key, error) => {
        deps.logger.error({ manifest: key, err: error }, "reconcile crashed");
      },
    );
  }

  /** Ready once the first full pass over a readable directory is done, and while the directory stays readable. */
  isReady(): boolean {
    return this.ready && this.tracker.isReadable();
  }

  queueDepth(): number {
    return this.queue.depth();
  }

  /** Resolves when no key is waiting or being reconciled (backoffs still pending do not count). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Loads the manifests, runs the first full pass in the background, and schedules resyncs. */
  start(): void {
    const tick = () => {
      void this.resync().finally(() => {
        if (!this.abort.signal.aborted) this.resyncTimer = setTimeout(tick, this.deps.options.resyncMs);
      });
    };
    tick();
  }

  /** Stops taking work; lets the AWS calls in flight finish. */
  async stop(): Promise<void> {
    this.abort.abort();
    if (this.resyncTimer !== undefined) clearTimeout(this.resyncTimer);
    await this.queue.shutDown();
    await this.resyncing?.catch(() => undefined);
  }

  /** Files changed: read the directory again and reconcile what changed. */
  async manifestsChanged(): Promise<void> {
    if (this.abort.signal.aborted) return;
    for (const key of await this.reload()) this.queue.add(key);
  }

  /** Whether the last directory read succeeded (the watcher restarts when it comes back). */
  directoryIsReadable(): boolean {
    return this.tracker.isReadable();
  }

  /** A full pass: read the directory and all live state, plan every manifest, queue every key. */
  resync(): Promise<void> {
    this.resyncing ??= this.runResync().finally(() => {
      this.resyncing = undefined;
    });
    return this.resyncing;
  }

  private async runResync(): Promise<void> {
    const started = Date.now();
    await this.reload();
    if (this.abort.signal.aborted) return;
    const version = this.manifestsVersion;
    const manifests = this.tracker.manifests();
    let pass;
    try {
      pass = await this.deps.engine.run({ manifests, execute: false });
      this.deps.status.setNotice("AwsUnavailable", undefined);
    } catch (error) {
      this.deps.logger.error({ err: error }, "resync could not read AWS; will retry at the next resync");
      this.deps.status.setNotice(
        "AwsUnavailable",
        `the last resync could not read AWS: ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }
    this.cache = pass.state;
    const cache = pass.state;
    const plan = pass.plan;
    this.deps.status.setInstanceExplainer((instanceId) =>
      explainInstance(
        { snapshot: cache.view(), manifests: this.tracker.manifests().inForce, plan },
        instanceId,
      ),
    );
    // Manifests that changed while AWS was being read are planned afresh when their key comes up.
    this.planned =
      version === this.manifestsVersion
        ? {
            manifests: new Map(pass.plan.manifests),
            composites: new Map(pass.plan.composites),
            pruneSuspended: pass.plan.pruneSuspended,
            groups: planGroups(pass.plan, pass.state.view()),
            taken: new Set(),
          }
        : undefined;
    this.deps.status.setNotice("PruneSuspended", pass.plan.pruneSuspended?.message);
    const inForce = new Set(manifests.inForce.map((desired) => desired.manifest));
    for (const name of pass.plan.manifests.keys())
      if (!inForce.has(name)) this.deps.status.trackRemoved(name, this.deps.compile.defaultMode);
    for (const name of this.deps.status.names())
      if (!pass.plan.manifests.has(name)) this.deps.status.forget(name);
    this.markResync(started);
    // A pass over a missing or unreadable directory (a container started without its volume) is not the first.
    if (this.firstPass === undefined && this.tracker.isReadable()) {
      this.firstPass = new Set(pass.plan.manifests.keys());
      if (this.firstPass.size === 0) this.ready = true;
    }
    for (const key of pass.plan.manifests.keys()) this.queue.add(key);
    // A composite none of whose members has a plan (all removed, their own resources gone) is a key of its own.
    for (const [name, composite] of pass.plan.composites)
      if (!composite.members.some((member) => pass.plan.manifests.has(member))) this.queue.add(name);
    this.deps.metrics.workqueueDepth.set(this.queue.depth());
  }

  private markResync(started: number): void {
    const at = new Date();
    this.deps.status.markResync(at);
    this.deps.metrics.lastResync.set(at.getTime() / 1000);
    this.deps.metrics.resyncDuration.observe((Date.now() - started) / 1000);
  }

  /** Reads the manifests directory; returns the names whose manifest in force changed (or appeared, or went). */
  private async reload(): Promise<string[]> {
    const read = await this.tracker.reload();
    const { status, logger, metrics } = this.deps;
    if (read.kind === "unreadable") {
      if (read.firstTime) logger.error({ err: read.error }, "manifests directory unreadable");
      status.setNotice("ManifestsUnreadable", read.message);
      return [];
    }
    status.setNotice("ManifestsUnreadable", undefined);
    const changed = new Set(read.changed);
    if (read.liftedHold)
      for (const name of status.names()) if (this.tracker.inForce(name) === undefined) changed.add(name);
    if (changed.size > 0) {
      this.manifestsVersion += 1;
      this.planned = undefined;
    }
    status.setManifests(read.entries, read.set.errors);
    metrics.setManifestCounts(status.counts());
    for (const error of read.set.errors)
      logger.debug({ file: error.file, line: error.line, code: error.code }, error.message);
    return [...changed];
  }

  /**
   * The resync's plan of this key and of the units that must run with it (planGroups), if it is still valid; each
   * group runs once. "taken": another key's reconcile ran this one's group already.
   */
  private takePlanned(key: string): { plan: PassPlan; focus: ReadonlySet<string> } | "taken" | undefined {
    const planned = this.planned;
    if (planned === undefined) return undefined;
    if (planned.taken.has(key)) return "taken";
    const group = planned.groups.get(key);
    if (group === undefined) return undefined;
    const manifests = new Map<string, ManifestPlan>();
    const composites = new Map<string, CompositePlan>();
    for (const unit of group) {
      planned.taken.add(unit);
      const manifest = planned.manifests.get(unit);
      const composite = planned.composites.get(unit);
      if (manifest !== undefined) manifests.set(unit, manifest);
      if (composite !== undefined) composites.set(unit, composite);
    }
    return {
      plan: { manifests, composites, pruneSuspended: planned.pruneSuspended },
      focus: new Set(group),
    };
  }

  /** Reconciles one key: a focused pass, recorded; what happens next is requeueFor's decision. */
  private async reconcile(key: string): Promise<HandlerResult> {
    const reconcileId = randomUUID().slice(0, 8);
    const logger = this.deps.logger.child({ manifest: key, reconcileId });
    const started = Date.now();
    let end: ReconcileEnd;
    try {
      end = await this.reconcileKey(key, reconcileId, logger, started);
    } catch (error) {
      logger.error({ err: error }, "reconcile failed");
      end = { kind: "crashed", error };
    }
    this.observe(end, logger, Date.now() - started);
    if (end.kind !== "notReady" && this.firstPass?.delete(key) === true && this.firstPass.size === 0)
      this.ready = true;
    this.deps.metrics.workqueueDepth.set(this.queue.depth());
    return requeueFor(end);
  }

  private async reconcileKey(
    key: string,
    reconcileId: string,
    logger: Logger,
    started: number,
  ): Promise<ReconcileEnd> {
    const cache = this.cache;
    if (cache === undefined) return { kind: "notReady" };
    // What this reconcile works from; null for a removed manifest, so that a reconcile of its removal still in
    // flight when the manifest comes back cannot pass for a reconcile of the new version.
    const generation = this.tracker.inForce(key)?.generation ?? null;
    const taken = this.takePlanned(key);
    if (taken === "taken") return { kind: "covered" };
    const planned = taken?.plan;
    const pass = await this.deps.engine.run({
      manifests: this.tracker.manifests(),
      source: planned === undefined ? cachedWithFreshInstances(cache, this.deps.ec2) : cached(cache),
      focus: taken?.focus ?? new Set([key]),
      ...(planned === undefined ? {} : { planned }),
      execute: true,
      hooks: {
        signal: this.abort.signal,
        onAction: (_manifest, outcome) => {
          logOutcome(logger, outcome);
        },
      },
    });
    // Removals held back by an edit must be explained now, not only after the next resync.
    if (planned === undefined)
      this.deps.status.setNotice("PruneSuspended", pass.plan.pruneSuspended?.message);
    const result = [...pass.results, ...pass.composites].find((candidate) => candidate.manifest === key);
    if (result === undefined) {
      this.deps.status.forget(key);
      return { kind: "gone" };
    }
    const at = new Date();
    this.deps.status.recordReconcile(
      result,
      reconcileRecord(result, reconcileId, Date.now() - started, at),
      generation,
    );
    // Manifests sharing an instance with this one may have moved it in the same pass: their status says so too.
    for (const other of pass.results) {
      if (other.manifest === key) continue;
      const record = reconcileRecord(other, reconcileId, Date.now() - started, at);
      this.deps.status.recordReconcile(
        other,
        record,
        this.tracker.inForce(other.manifest)?.generation ?? null,
      );
    }
    return { kind: "reconciled", result };
  }

  /** Metrics and the log line of every reconcile, whatever its end. */
  private observe(end: ReconcileEnd, logger: Logger, durationMs: number): void {
    const { metrics } = this.deps;
    if (end.kind === "crashed") {
      metrics.reconcileTotal.inc({ result: "failed" });
      metrics.reconcileErrors.inc();
      return;
    }
    if (end.kind !== "reconciled") return;
    const { result } = end;
    metrics.reconcileTotal.inc({ result: result.status });
    metrics.reconcileDuration.observe(durationMs / 1000);
    if (result.plan.drift.length > 0) metrics.driftDetected.inc();
    if (result.status === "failed") metrics.reconcileErrors.inc();
    metrics.setManifestCounts(this.deps.status.counts());
    logger.info(
      { result: result.status, actions: result.outcomes.length, drift: result.plan.drift.length, durationMs },
      "reconciled",
    );
    if (result.status === "failed")
      for (const error of result.errors) logger.warn({ result: "failed" }, error);
  }
}

function logOutcome(logger: Logger, outcome: ActionOutcome): void {
  const fields = {
    action: outcome.action.kind,
    resource: outcome.action.reason.resource,
    status: outcome.status,
  };
  if (outcome.status === "done") logger.info(fields, outcome.description);
  else logger.warn({ ...fields, code: outcome.errorCode, error: outcome.error }, outcome.description);
}
