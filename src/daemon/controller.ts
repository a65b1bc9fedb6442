import { randomUUID } from "node:crypto";
import type { ActionExecutor } from "../aws/aws-action-executor.js";
import type { AwsCaller } from "../aws/aws-caller.js";
import { readFullSnapshot, refreshInstances } from "../aws/snapshot-reader.js";
import type { CompileOptions, DesiredAccess } from "../desired/desired-access.js";
import type { ManifestPlan } from "../plan/manifest-plan.js";
import { summarize } from "../engine/engine.js";
import { executePlans, type ActionOutcome } from "../engine/execute-plan.js";
import { ManifestDirectoryError, readManifestDirectory } from "../fs/read-manifest-files.js";
import { ManifestFileMemo, type ManifestFileInput } from "../manifest/examine-file.js";
import { loadManifestSet, type ManifestSet, type ValidManifest } from "../manifest-set/load-manifest-set.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import { SnapshotWriter } from "../observed/snapshot-writer.js";
import { describeAction } from "../plan/action.js";
import { planPass, type PassInput } from "../plan/plan-pass.js";
import type { ManifestEntry, StatusStore } from "../status/status-store.js";
import { projectAfterExecution } from "./post-state.js";
import { WorkQueue, type HandlerResult } from "./work-queue.js";

export interface ControllerOptions {
  readonly concurrency: number;
  readonly resyncMs: number;
  readonly allowMassPrune: boolean;
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
  readonly iam: AwsCaller;
  readonly ec2: AwsCaller;
  readonly executor: ActionExecutor;
  readonly status: StatusStore;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly options: ControllerOptions;
  /** Injectable for tests; defaults to reading the directory from disk. */
  readonly readDirectory?: (directory: string) => Promise<ManifestFileInput[]>;
}

/**
 * The reconciling controller: keeps the manifests in force (current valid ones, and the last valid version of
 * any that turned invalid), a cache of live state (refreshed by every resync, kept current by write-through), and
 * a work queue keyed by manifest name. Reconciling a key plans from the cache and acts on that key's plan only.
 */
export class Controller {
  private set: ManifestSet | undefined;
  private readonly lastValid = new Map<string, ValidManifest>();
  /** The last content of each file that had settled (see ControllerOptions.settleMs). */
  private readonly settledInputs = new Map<string, ManifestFileInput>();
  /** Parse results by file content: a re-read after one edit parses only the edited file. */
  private readonly memo = new ManifestFileMemo();
  private cache: SnapshotWriter | undefined;
  private planned = new Map<string, ManifestPlan>();
  private plannedVersion = -1;
  private setVersion = 0;
  private readonly queue: WorkQueue;
  private readonly abort = new AbortController();
  private resyncTimer: NodeJS.Timeout | undefined;
  private resyncing: Promise<void> | undefined;
  private firstPass: Set<string> | undefined;
  private ready = false;
  private directoryReadable = true;
  private reloading: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: ControllerDeps) {
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

  isReady(): boolean {
    return this.ready;
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
    const changed = await this.reload();
    for (const key of changed) this.queue.add(key);
  }

  /** Whether the last directory read succeeded (the watcher restarts when it comes back). */
  directoryIsReadable(): boolean {
    return this.directoryReadable;
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
    const input = this.passInput();
    let plans;
    try {
      const read = await readFullSnapshot(
        { iam: this.deps.iam, ec2: this.deps.ec2, concurrency: this.deps.options.concurrency },
        {
          iamPath: this.deps.compile.iamPath,
          partition: this.deps.compile.partition,
          inForce: input.inForce,
        },
      );
      this.cache = new SnapshotWriter(read.snapshot);
      plans = planPass(this.cache.view(), input);
      this.deps.status.setNotice("AwsUnavailable", undefined);
    } catch (error) {
      this.deps.logger.error({ err: error }, "resync could not read AWS; will retry at the next resync");
      this.deps.status.setNotice(
        "AwsUnavailable",
        `the last resync could not read AWS: ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }
    this.planned = new Map(plans.manifests);
    this.plannedVersion = this.setVersion;
    this.deps.status.setNotice("PruneSuspended", plans.pruneSuspended?.message);
    for (const name of plans.manifests.keys()) {
      if (!input.inForce.some((desired) => desired.manifest === name))
        this.deps.status.trackRemoved(name, this.deps.compile.defaultMode);
    }
    for (const name of this.deps.status.names())
      if (!plans.manifests.has(name)) this.deps.status.forget(name);
    const at = new Date();
    this.deps.status.markResync(at);
    this.deps.metrics.lastResync.set(at.getTime() / 1000);
    this.deps.metrics.resyncDuration.observe((Date.now() - started) / 1000);
    if (this.firstPass === undefined) {
      this.firstPass = new Set(plans.manifests.keys());
      if (this.firstPass.size === 0) this.ready = true;
    }
    for (const key of plans.manifests.keys()) this.queue.add(key);
    this.deps.metrics.workqueueDepth.set(this.queue.depth());
  }

  /** Reads the manifests directory; returns the names whose manifest in force changed (or appeared, or went). */
  private reload(): Promise<string[]> {
    // One read at a time: the watcher and the resync both reload, and an older read applied after a newer one
    // would put stale manifests back in force until the next event.
    const next = this.reloading.then(() => this.readAndApply());
    this.reloading = next.catch(() => undefined);
    return next;
  }

  /** Replaces files written moments ago by their last settled content (or leaves new ones out), for now. */
  private settled(inputs: ManifestFileInput[]): ManifestFileInput[] {
    const settleMs = this.deps.options.settleMs ?? 0;
    if (settleMs <= 0) return inputs;
    const now = Date.now();
    let unsettled = false;
    const result: ManifestFileInput[] = [];
    for (const input of inputs) {
      if ("bytes" in input && input.modifiedAt !== undefined && now - input.modifiedAt < settleMs) {
        unsettled = true;
        const previous = this.settledInputs.get(input.file);
        if (previous !== undefined) result.push(previous);
        continue;
      }
      this.settledInputs.set(input.file, input);
      result.push(input);
    }
    const present = new Set(inputs.map((input) => input.file));
    for (const file of this.settledInputs.keys()) if (!present.has(file)) this.settledInputs.delete(file);
    if (unsettled && !this.abort.signal.aborted) {
      setTimeout(() => void this.manifestsChanged(), settleMs).unref();
    }
    return result;
  }

  private async readAndApply(): Promise<string[]> {
    let inputs: ManifestFileInput[];
    try {
      inputs = await (this.deps.readDirectory ?? readManifestDirectory)(this.deps.manifestsDirectory);
    } catch (error) {
      const message =
        error instanceof ManifestDirectoryError
          ? `${error.message}; the last manifests read stay in force and nothing is removed`
          : String(error);
      if (this.directoryReadable) this.deps.logger.error({ err: error }, "manifests directory unreadable");
      this.directoryReadable = false;
      this.deps.status.setNotice("ManifestsUnreadable", message);
      return [];
    }
    inputs = this.settled(inputs);
    // Removals are held back while some file could not be read (or the directory itself); see passInput.
    const removalsWereHeld = !this.directoryReadable || (this.set?.unnamedInvalid ?? false);
    this.directoryReadable = true;
    this.deps.status.setNotice("ManifestsUnreadable", undefined);
    const set = loadManifestSet(inputs, this.deps.compile, this.memo);
    const before = new Map([...this.lastValid].map(([name, manifest]) => [name, manifest.generation]));
    for (const manifest of set.manifests) this.lastValid.set(manifest.name, manifest);
    const failedFiles = new Set(set.errors.map((error) => error.file));
    const present = new Set([...set.manifests.map((manifest) => manifest.name), ...set.invalidNames]);
    for (const [name, manifest] of this.lastValid) {
      // A manifest counts as removed only when its name is gone and its file did not merely fail to read.
      if (!present.has(name) && !failedFiles.has(manifest.file)) this.lastValid.delete(name);
    }
    const changed = new Set<string>();
    for (const [name, manifest] of this.lastValid)
      if (before.get(name) !== manifest.generation) changed.add(name);
    for (const name of before.keys()) if (!this.lastValid.has(name)) changed.add(name);
    // The read that lifts the hold changes nothing about the removed manifests themselves, so without this their
    // removal would wait for the next resync.
    if (removalsWereHeld && !set.unnamedInvalid)
      for (const name of this.deps.status.names()) if (!this.lastValid.has(name)) changed.add(name);
    if (changed.size > 0 || this.set === undefined) this.setVersion += 1;
    this.set = set;
    this.deps.status.setManifests(this.entries(set), set.errors);
    this.deps.metrics.setManifestCounts(this.deps.status.counts());
    for (const error of set.errors)
      this.deps.logger.debug({ file: error.file, line: error.line, code: error.code }, error.message);
    return [...changed];
  }

  private entries(set: ManifestSet): ManifestEntry[] {
    const entries: ManifestEntry[] = set.manifests.map((manifest) => ({
      name: manifest.name,
      file: manifest.file,
      generation: manifest.generation,
      mode: manifest.desired.mode,
    }));
    const validNames = new Set(entries.map((entry) => entry.name));
    // A file broken too badly to reveal its name (a YAML syntax error) keeps its last valid manifest in force
    // (see reload); it is invalid, not removed, so it is listed under its old name.
    const unnamed = [...this.lastValid.keys()].filter(
      (name) => !validNames.has(name) && !set.invalidNames.has(name),
    );
    for (const name of [...set.invalidNames, ...unnamed]) {
      if (validNames.has(name)) continue;
      const inForce = this.lastValid.get(name);
      const file = set.invalidNameFiles.get(name) ?? inForce?.file;
      const error = set.errors.find((candidate) => candidate.file === file) ?? set.errors[0];
      entries.push({
        name,
        file: error?.file ?? inForce?.file ?? "",
        generation: inForce?.generation ?? "",
        mode: inForce?.desired.mode ?? this.deps.compile.defaultMode,
        invalid: {
          message:
            error === undefined
              ? "the manifest is invalid"
              : `${error.file}:${error.line}:${error.column}: ${error.message}`,
          inForceGeneration: inForce?.generation,
        },
      });
    }
    return entries;
  }

  private passInput(): PassInput {
    const inForce: DesiredAccess[] = [...this.lastValid.values()].map((manifest) => manifest.desired);
    const protectedNames = new Set(
      [...(this.set?.invalidNames ?? [])].filter((name) => !this.lastValid.has(name)),
    );
    return {
      inForce,
      protectedNames,
      unnamedInvalid: (this.set?.unnamedInvalid ?? false) || !this.directoryReadable,
      allowMassPrune: this.deps.options.allowMassPrune,
      defaultMode: this.deps.compile.defaultMode,
      iamPath: this.deps.compile.iamPath,
    };
  }

  private async reconcile(key: string): Promise<HandlerResult> {
    const cache = this.cache;
    if (cache === undefined) return { kind: "requeueAfter", ms: 1000 };
    const reconcileId = randomUUID().slice(0, 8);
    const logger = this.deps.logger.child({ manifest: key, reconcileId });
    const started = Date.now();
    // What this reconcile works from; null for a removed manifest, so that a reconcile of its removal still in
    // flight when the manifest comes back cannot pass for a reconcile of the new version.
    const generation = this.lastValid.get(key)?.generation ?? null;
    let plan = this.plannedVersion === this.setVersion ? this.planned.get(key) : undefined;
    this.planned.delete(key);
    try {
      if (plan === undefined) {
        const desired = this.lastValid.get(key)?.desired;
        if (desired !== undefined)
          cache.takeEc2State(await refreshInstances(this.deps.ec2, cache.view(), [desired]));
        const pass = planPass(cache.view(), this.passInput(), new Set([key]));
        // Removals held back by an edit must be explained now, not only after the next resync.
        this.deps.status.setNotice("PruneSuspended", pass.pruneSuspended?.message);
        plan = pass.manifests.get(key);
      }
      if (plan === undefined) {
        this.deps.status.forget(key);
        return this.finishFirstPass(key, { kind: "done" });
      }
      const executed = plan.mode === "enforce";
      const outcomes = executed
        ? (
            await executePlans([plan], this.deps.executor, cache, 1, {
              signal: this.abort.signal,
              onAction: (manifest, outcome) => {
                logOutcome(logger, outcome);
              },
            })
          ).get(key)
        : undefined;
      const result = summarize(
        outcomes === undefined
          ? plan
          : projectAfterExecution(plan, outcomes, this.lastValid.get(key)?.desired, cache),
        outcomes,
        executed,
      );
      const durationMs = Date.now() - started;
      this.deps.status.recordReconcile(
        result,
        {
          at: new Date().toISOString(),
          reconcileId,
          result: result.status,
          durationMs,
          actions:
            outcomes === undefined
              ? [...plan.actions, ...plan.pruneActions].map((action) => ({
                  description: describeAction(action),
                  status: "planned" as const,
                }))
              : outcomes.map((outcome) => ({
                  description: outcome.description,
                  status: outcome.status,
                  ...(outcome.errorCode === undefined ? {} : { errorCode: outcome.errorCode }),
                  ...(outcome.error === undefined ? {} : { error: outcome.error }),
                })),
          error: result.errors[0] ?? null,
        },
        generation,
      );
      this.deps.metrics.reconcileTotal.inc({ result: result.status });
      this.deps.metrics.reconcileDuration.observe(durationMs / 1000);
      if (plan.drift.length > 0) this.deps.metrics.driftDetected.inc();
      if (result.status === "failed") this.deps.metrics.reconcileErrors.inc();
      this.deps.metrics.setManifestCounts(this.deps.status.counts());
      logger.info(
        { result: result.status, actions: outcomes?.length ?? 0, drift: plan.drift.length, durationMs },
        "reconciled",
      );
      if (result.status === "failed") {
        for (const error of result.errors) logger.warn({ result: "failed" }, error);
        return this.finishFirstPass(key, result.retryable ? { kind: "retry" } : { kind: "done" });
      }
      return this.finishFirstPass(key, { kind: "done" });
    } catch (error) {
      logger.error({ err: error }, "reconcile failed");
      this.deps.metrics.reconcileTotal.inc({ result: "failed" });
      this.deps.metrics.reconcileErrors.inc();
      return this.finishFirstPass(key, { kind: "retry" });
    } finally {
      this.deps.metrics.workqueueDepth.set(this.queue.depth());
    }
  }

  private finishFirstPass(key: string, result: HandlerResult): HandlerResult {
    if (this.firstPass?.delete(key) === true && this.firstPass.size === 0) this.ready = true;
    return result;
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
