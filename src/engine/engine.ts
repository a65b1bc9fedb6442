import type { ActionExecutor } from "../aws/aws-action-executor.js";
import type { AwsCaller } from "../aws/aws-caller.js";
import { readFullSnapshot, readPerResourceSnapshot, type ReadResult } from "../aws/snapshot-reader.js";
import type { DesiredAccess } from "../desired/desired-access.js";
import type { ManifestPlan } from "../plan/manifest-plan.js";
import type { Mode } from "../manifest/instance-access.js";
import type { Snapshot } from "../observed/snapshot.js";
import { SnapshotWriter } from "../observed/snapshot-writer.js";
import { planPass, type PassPlan } from "../plan/plan-pass.js";
import { executePlans, type ActionOutcome, type ExecutionHooks } from "./execute-plan.js";

export interface EngineOptions {
  readonly iamPath: string;
  readonly partition: string;
  /** Mode for manifests without spec.mode, and for clean-up of removed manifests. */
  readonly defaultMode: Mode;
  readonly allowMassPrune: boolean;
  /** Manifests reconciled in parallel. */
  readonly concurrency: number;
  /** "snapshot" (a few paginated reads per pass) or "per-resource" (the naive baseline, for benchmarks). */
  readonly readStrategy: "snapshot" | "per-resource";
}

/** The manifests a pass works from. */
export interface PassRequest {
  readonly inForce: readonly DesiredAccess[];
  readonly protectedNames: ReadonlySet<string>;
  readonly unnamedInvalid: boolean;
}

export type ManifestStatus = "converged" | "pending" | "drifted" | "failed";

export interface ManifestResult {
  readonly manifest: string;
  readonly mode: Mode;
  readonly status: ManifestStatus;
  /** Worth retrying soon: every failure was transient (throttling, propagation, a race). */
  readonly retryable: boolean;
  readonly errors: readonly string[];
  readonly warnings: readonly string[];
  readonly plan: ManifestPlan;
  readonly outcomes: readonly ActionOutcome[];
}

export interface PassResult {
  readonly plan: PassPlan;
  /** Live state after the pass's own changes (write-through), for caches. */
  readonly snapshot: Snapshot;
  readonly results: readonly ManifestResult[];
  readonly accountId: string | undefined;
}

/** Read → plan → execute: one level-based pass over a set of manifests. */
export class Engine {
  constructor(
    private readonly iam: AwsCaller,
    private readonly ec2: AwsCaller,
    private readonly executor: ActionExecutor,
    readonly options: EngineOptions,
  ) {}

  read(request: PassRequest): Promise<ReadResult> {
    const hints = {
      iamPath: this.options.iamPath,
      partition: this.options.partition,
      inForce: request.inForce,
    };
    const clients = { iam: this.iam, ec2: this.ec2, concurrency: this.options.concurrency };
    return this.options.readStrategy === "per-resource"
      ? readPerResourceSnapshot(clients, hints)
      : readFullSnapshot(clients, hints);
  }

  plan(snapshot: Snapshot, request: PassRequest): PassPlan {
    return planPass(snapshot, {
      inForce: request.inForce,
      protectedNames: request.protectedNames,
      // The per-resource baseline cannot see orphans; it must never be allowed to guess at removals.
      unnamedInvalid: request.unnamedInvalid || this.options.readStrategy === "per-resource",
      allowMassPrune: this.options.allowMassPrune,
      defaultMode: this.options.defaultMode,
      iamPath: this.options.iamPath,
    });
  }

  /** Executes a plan (only the manifests named in `only`, when given) against a snapshot. */
  async execute(
    plan: PassPlan,
    snapshot: Snapshot,
    hooks: ExecutionHooks = {},
    only?: ReadonlySet<string>,
  ): Promise<{ snapshot: Snapshot; results: ManifestResult[] }> {
    const writer = new SnapshotWriter(snapshot);
    const plans = [...plan.manifests.values()].filter(
      (manifestPlan) => only === undefined || only.has(manifestPlan.manifest),
    );
    const outcomes = await executePlans(plans, this.executor, writer, this.options.concurrency, hooks);
    return {
      snapshot: writer.snapshot(),
      results: plans.map((manifestPlan) =>
        summarize(manifestPlan, outcomes.get(manifestPlan.manifest), true),
      ),
    };
  }

  async runPass(
    request: PassRequest,
    options: { dryRun: boolean; hooks?: ExecutionHooks },
  ): Promise<PassResult> {
    const { snapshot, accountId } = await this.read(request);
    const plan = this.plan(snapshot, request);
    if (options.dryRun) {
      return {
        plan,
        snapshot,
        accountId,
        results: [...plan.manifests.values()].map((manifestPlan) =>
          summarize(manifestPlan, undefined, false),
        ),
      };
    }
    const executed = await this.execute(plan, snapshot, options.hooks);
    return { plan, snapshot: executed.snapshot, accountId, results: executed.results };
  }
}

/** What a manifest's plan and (if executed) its outcomes amount to. */
export function summarize(
  plan: ManifestPlan,
  outcomes: readonly ActionOutcome[] | undefined,
  executed: boolean,
): ManifestResult {
  const errors = plan.issues.filter((issue) => issue.severity === "error").map((issue) => issue.message);
  const warnings = plan.issues.filter((issue) => issue.severity === "warning").map((issue) => issue.message);
  const failed = (outcomes ?? []).filter((outcome) => outcome.status !== "done");
  for (const outcome of failed) {
    if (outcome.status === "failed")
      errors.push(`${outcome.description}: ${outcome.errorCode ?? "Error"}: ${outcome.error ?? ""}`);
  }
  const pending = plan.actions.length + plan.pruneActions.length > 0;
  let status: ManifestStatus;
  if (errors.length > 0 || failed.length > 0) status = "failed";
  else if (plan.mode === "observe") status = plan.drift.length > 0 ? "drifted" : "converged";
  else status = pending && !executed ? "pending" : "converged";
  const retryable =
    failed.length > 0 &&
    failed.every((outcome) => outcome.retryable === true) &&
    plan.issues.every((issue) => issue.severity !== "error");
  return {
    manifest: plan.manifest,
    mode: plan.mode,
    status,
    retryable,
    errors,
    warnings,
    plan,
    outcomes: outcomes ?? [],
  };
}
