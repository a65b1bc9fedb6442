import type { Ec2Caller } from "../aws/region-router.js";
import { randomUUID } from "node:crypto";
import type { CompileOptions } from "../desired/desired-access.js";
import type { Engine, ManifestsInForce } from "../engine/engine.js";
import type { ActionOutcome } from "../engine/execute-plan.js";
import type { SnapshotWriter } from "../engine/snapshot-writer.js";
import { cached, cachedWithFreshInstances } from "../engine/state-source.js";
import { readInstancesById, type InstancesRead } from "../aws/snapshot-reader.js";
import { unitsConcerning } from "../plan/instance-focus.js";
import type { ManifestFileInput } from "../manifest/examine-file.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import type { CompositePlan, ManifestPlan } from "../plan/manifest-plan.js";
import type { PassPlan } from "../plan/plan-pass.js";
import type { StatusStore } from "../status/status-store.js";
import { explainInstance } from "../explain/explain-instance.js";
import { readManifestSource, type ManifestSource } from "../fs/git-revision.js";
import { ManifestTracker } from "./manifest-tracker.js";
import type { OutsideHolds } from "./target-directories.js";
import { planGroups } from "./plan-groups.js";
import { reconcileRecord } from "./reconcile-record.js";
import { ReconcileWaiters } from "./reconcile-waiters.js";
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
  /**
   * Leader election (--lease-table): while this answers false the controller stands by, reading the manifests
   * but not AWS; none means this process runs alone and always leads.
   */
  readonly leadership?: { mayWrite(): boolean };
  /** Injectable for tests; defaults to reading the Git revision of the directory from disk. */
  readonly readSource?: (directory: string) => Promise<ManifestSource>;
  /**
   * run --targets: what removals here must respect of the other targets (asked at every pass). None: this
   * directory is the whole story.
   */
  readonly outsideHolds?: () => OutsideHolds;
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
        groups: Map<string, readonly string[]>;
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
  /** Counts changes of leadership: state read under one leadership is not used under the next. */
  private leadershipEpoch = 0;
  /** The Git revision the manifests in force were read at (as of the last directory read). */
  private revision: string | null = null;
  /** Keys an instance event queued after refreshing what they need: their next reconcile plans from the cache. */
  private readonly fromCache = new Set<string>();
  private readonly waiters = new ReconcileWaiters();
  /** Instance reads by events while a resync reads AWS: fresher than its snapshot, so applied over it. */
  private readsDuringResync: InstancesRead[] | undefined;
  private cacheReady: () => void = () => undefined;
  private readonly cached = new Promise<void>((resolve) => {
    this.cacheReady = resolve;
  });

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
    // Drift is counted where it is told: once when it appears, not at every resync that still sees it.
    deps.status.subscribe((event) => {
      if (event.type === "DriftDetected") deps.metrics.driftDetected.inc();
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

  /** Whether the cache holds this instance (a poll need not read it again). */
  knowsInstance(instanceId: string): boolean {
    return this.cache?.view().instances.has(instanceId) ?? false;
  }

  /** Resolves once the first full read of AWS is done: instance events need a snapshot to be judged against. */
  whenCached(): Promise<void> {
    return this.cached;
  }

  /**
   * Instances changed (an event, a poll): reads them by ID (one call per hundred, and their associations), takes
   * them into the cache, and reconciles the manifests and composites they concern, from the cache. Resolves when
   * those reconciles are done, saying for each instance how it ended. Throws when the instances cannot be read.
   */
  async instancesChanged(instanceIds: readonly string[]): Promise<Map<string, InstanceHandling>> {
    const cache = this.cache;
    const handled = new Map<string, InstanceHandling>();
    if (cache === undefined || this.abort.signal.aborted) {
      for (const id of instanceIds) handled.set(id, "notReady");
      return handled;
    }
    const read = await readInstancesById(this.deps.ec2, instanceIds);
    // A pending instance cannot take a profile yet; it stays out of the cache until it runs (the caller retries).
    const pending = new Set(read.instances.filter((i) => i.state === "pending").map((i) => i.id));
    const settled: InstancesRead = {
      ids: read.ids.filter((id) => !pending.has(id)),
      instances: read.instances.filter((instance) => !pending.has(instance.id)),
      associations: read.associations.filter((association) => !pending.has(association.instanceId)),
    };
    cache.takeInstances(settled.ids, settled.instances, settled.associations);
    // A resync reading AWS right now may have read these instances before this did: its cache gets them too.
    this.readsDuringResync?.push(settled);
    const concerning = unitsConcerning(cache.view(), this.tracker.manifests().inForce, settled.ids);
    const outcomes = await this.reconcileFromCache(new Set([...concerning.values()].flat()));
    const present = new Set(cache.view().instances.keys());
    for (const id of read.ids) {
      const units = concerning.get(id) ?? [];
      if (pending.has(id)) handled.set(id, "pending");
      else if (!present.has(id)) handled.set(id, "gone");
      else if (units.length === 0) handled.set(id, "unneeded");
      else handled.set(id, units.every((unit) => outcomes.get(unit) === true) ? "converged" : "failed");
    }
    return handled;
  }

  /** Queues these keys to be reconciled from the cache (not from a resync's plan), and waits for them. */
  private async reconcileFromCache(keys: ReadonlySet<string>): Promise<Map<string, boolean>> {
    const all = new Set(keys);
    // A resync's plan of these keys (or of their group) predates the read: they are planned afresh.
    const planned = this.planned;
    if (planned !== undefined)
      for (const key of keys)
        for (const unit of planned.groups.get(key) ?? []) {
          planned.groups.delete(unit);
          all.add(unit);
        }
    const waits = [...all].map(async (key) => {
      this.fromCache.add(key);
      const done = this.waiters.next(key);
      this.queue.add(key);
      return [key, await done] as const;
    });
    return new Map(await Promise.all(waits));
  }

  /** Stops taking work; lets the AWS calls in flight finish. */
  async stop(): Promise<void> {
    this.abort.abort();
    this.waiters.releaseAll();
    if (this.resyncTimer !== undefined) clearTimeout(this.resyncTimer);
    await this.queue.shutDown();
    await this.resyncing?.catch(() => undefined);
  }

  /** Files changed: read the directory again and reconcile what changed. */
  async manifestsChanged(): Promise<void> {
    if (this.abort.signal.aborted) return;
    for (const key of await this.reload()) this.queue.add(key);
  }

  /**
   * Leadership gained: the state this process knew may be stale (another leader changed AWS), so a full resync
   * comes first. Lost: nothing read so far is used again.
   */
  leadershipChanged(leading: boolean): void {
    this.leadershipEpoch += 1;
    this.cache = undefined;
    this.planned = undefined;
    if (!leading) return;
    // A resync in flight began under the old leadership and is discarded: a fresh one follows it.
    void (this.resyncing ?? Promise.resolve()).then(() => {
      if (!this.abort.signal.aborted) return this.resync();
      return undefined;
    });
  }

  /** The tracker's manifests, with what the other targets (run --targets) need kept. */
  private manifestsInForce(): ManifestsInForce {
    const own = this.tracker.manifests();
    const outside = this.deps.outsideHolds?.();
    if (outside === undefined) return own;
    const inForce = new Set(own.inForce.map((desired) => desired.manifest));
    const others = [...outside.protectedNames].filter((name) => !inForce.has(name));
    return {
      inForce: own.inForce,
      protectedNames: new Set([...own.protectedNames, ...others]),
      unnamedInvalid: own.unnamedInvalid || outside.holdRemovals,
    };
  }

  private leads(): boolean {
    return this.deps.leadership?.mayWrite() ?? true;
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
    if (!this.leads()) {
      // A standby is ready once it can read the manifests: it serves /status and takes over when it must.
      if (this.tracker.isReadable()) this.ready = true;
      return;
    }
    const epoch = this.leadershipEpoch;
    const version = this.manifestsVersion;
    const manifests = this.manifestsInForce();
    let pass;
    const readsMeanwhile: InstancesRead[] = [];
    this.readsDuringResync = readsMeanwhile;
    try {
      pass = await this.deps.engine.run({ manifests, execute: false });
      this.deps.status.setNotice("AwsUnavailable", undefined);
    } catch (error) {
      this.readsDuringResync = undefined;
      this.deps.logger.error({ err: error }, "resync could not read AWS; will retry at the next resync");
      this.deps.status.setNotice(
        "AwsUnavailable",
        `the last resync could not read AWS: ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }
    if (epoch !== this.leadershipEpoch) return;
    for (const read of readsMeanwhile) pass.state.takeInstances(read.ids, read.instances, read.associations);
    this.readsDuringResync = undefined;
    this.cache = pass.state;
    this.cacheReady();
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
    const { status, logger, metrics } = this.deps;
    const [read, source] = await Promise.all([
      this.tracker.reload(),
      (this.deps.readSource ?? readManifestSource)(this.deps.manifestsDirectory),
    ]);
    status.setSource(source);
    this.revision = source.revision;
    if (read.kind === "unreadable") {
      if (read.firstTime) logger.error({ err: read.error }, "manifests directory unreadable");
      status.setNotice("ManifestsUnreadable", read.message);
      return [];
    }
    status.setNotice("ManifestsUnreadable", undefined);
    const changed = new Set(read.changed);
    if (read.liftedHold)
      for (const name of status.names()) if (this.tracker.inForce(name) === undefined) changed.add(name);
    // A changed manifest may select instances the cache never read: its reconcile reads them afresh.
    for (const name of changed) this.fromCache.delete(name);
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
    const ended = this.waiters.started(key);
    let end: ReconcileEnd;
    try {
      end = await this.reconcileKey(key, reconcileId, logger, started);
    } catch (error) {
      logger.error({ err: error }, "reconcile failed");
      end = { kind: "crashed", error };
    }
    ended(succeeded(end));
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
    // A standby drops the key: the resync that follows gaining the lease queues every key again.
    if (!this.leads()) return { kind: "standby" };
    const cache = this.cache;
    if (cache === undefined) return { kind: "notReady" };
    // What this reconcile works from; null for a removed manifest, so that a reconcile of its removal still in
    // flight when the manifest comes back cannot pass for a reconcile of the new version.
    const generation = this.tracker.inForce(key)?.generation ?? null;
    // Queued by an instance event: the cache was refreshed for it after any resync plan was made.
    const eventRefreshed = this.fromCache.delete(key);
    const taken = eventRefreshed ? undefined : this.takePlanned(key);
    if (taken === "taken") return { kind: "covered" };
    const planned = taken?.plan;
    const fromCache = eventRefreshed || planned !== undefined;
    const pass = await this.deps.engine.run({
      manifests: this.manifestsInForce(),
      source: fromCache ? cached(cache) : cachedWithFreshInstances(cache, this.deps.ec2),
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
    // Leadership lost during the pass: its calls from then on were refused (NotLeader), and the leader's own
    // reconciles, not this one's, say what the manifest's state is.
    if (!this.leads()) return { kind: "standby" };
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
      reconcileRecord(result, reconcileId, Date.now() - started, at, this.revision),
      generation,
    );
    // Manifests sharing an instance with this one may have moved it in the same pass: their status says so too.
    for (const other of pass.results) {
      if (other.manifest === key) continue;
      const record = reconcileRecord(other, reconcileId, Date.now() - started, at, this.revision);
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

/**
 * How an instance event's instance ended: converged (every unit it concerns reconciled), unneeded (no manifest
 * selects it, it holds no profile of rolecall's), gone (terminated, or no longer exists), pending (not running
 * yet: retry), failed (a unit failed in a way worth retrying), notReady (no snapshot yet).
 */
export type InstanceHandling = "converged" | "unneeded" | "gone" | "pending" | "failed" | "notReady";

/** Whether a reconcile leaves nothing to retry soon (a permanent failure waits for a change, as the queue does). */
function succeeded(end: ReconcileEnd): boolean {
  if (end.kind === "notReady" || end.kind === "crashed") return false;
  if (end.kind !== "reconciled") return true;
  return !(end.result.status === "failed" && end.result.retryable);
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
