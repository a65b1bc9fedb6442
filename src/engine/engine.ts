import type { DesiredAccess } from "../desired/desired-access.js";
import type { Mode } from "../manifest/instance-access.js";
import type { Snapshot } from "../observed/snapshot.js";
import type { ManifestPlan } from "../plan/manifest-plan.js";
import { planPass, type ManifestsInForce, type PassPlan } from "../plan/plan-pass.js";

export type { ManifestsInForce } from "../plan/plan-pass.js";
import {
  executePlans,
  type ActionExecutor,
  type ActionOutcome,
  type ExecutionHooks,
} from "./execute-plan.js";
import { projectAfterExecution } from "./project-results.js";
import type { SnapshotWriter } from "./snapshot-writer.js";
import type { StateSource } from "./state-source.js";

export interface EngineOptions {
  readonly iamPath: string;
  /** Mode for clean-up of removed manifests (manifests without spec.mode got it when compiled). */
  readonly defaultMode: Mode;
  readonly allowMassPrune: boolean;
  /** Manifests executed in parallel. */
  readonly concurrency: number;
  /** The most managed policies one role may hold (AWS's quota; the default is AWS's default, 10). */
  readonly maxPoliciesPerRole?: number;
}

/** One pass; what differs between plan, apply and the daemon's reconcile of a key is here, not in copies. */
export interface PassRequest {
  readonly manifests: ManifestsInForce;
  /** Where the snapshot comes from; a full read of the account when not given. */
  readonly source?: StateSource;
  /** Only these manifests are planned in full and executed (the daemon reconciling one key). */
  readonly focus?: ReadonlySet<string>;
  /**
   * A plan the daemon's last full pass made against this same state: a manifest in focus found in it is not
   * planned again (a resync plans every manifest once, not once per key).
   */
  readonly planned?: PassPlan;
  /** Carry out the actions (apply, reconcile), or only plan them (plan). */
  readonly execute: boolean;
  readonly hooks?: ExecutionHooks;
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
  /** The plan; after execution, its instances and resources as they are now. */
  readonly plan: ManifestPlan;
  readonly outcomes: readonly ActionOutcome[];
  /** For a manifest: the outcomes of the composites it is a member of, this pass. */
  readonly compositeOutcomes?: readonly ActionOutcome[];
}

export interface PassResult {
  readonly plan: PassPlan;
  /** Live state after the pass's own changes (write-through): the daemon keeps it as its cache. */
  readonly state: SnapshotWriter;
  readonly results: readonly ManifestResult[];
  /** One result per composite planned (its members' results account for it too). */
  readonly composites: readonly ManifestResult[];
  readonly accountId: string | undefined;
}

/** Read → plan → execute: one level-based pass, the same for plan, apply and the daemon. */
export class Engine {
  constructor(
    private readonly executor: ActionExecutor,
    private readonly fullRead: StateSource,
    readonly options: EngineOptions,
  ) {}

  async run(request: PassRequest): Promise<PassResult> {
    const { manifests, focus } = request;
    const live = await (request.source ?? this.fullRead).read(manifests.inForce, focus);
    const plan = this.plan(live.state.view(), request, live.complete);
    const plans = [...plan.manifests.values()];
    const composites = [...plan.composites.values()];
    const outcomes = request.execute
      ? await executePlans(
          plans,
          this.executor,
          live.state,
          this.options.concurrency,
          request.hooks,
          composites,
        )
      : undefined;
    // Built only when something ran: the daemon runs one focused pass per key, and a map of every manifest
    // for each of them was most of what a no-change resync allocated at 1,000 manifests.
    let desired: Map<string, DesiredAccess> | undefined;
    const desiredOf = (name: string) =>
      (desired ??= new Map(manifests.inForce.map((access) => [access.manifest, access]))).get(name);
    const after = live.state.view();
    const resultOf = (unit: ManifestPlan, shared: readonly ManifestPlan[]) => {
      const done = outcomes?.get(unit.manifest);
      const sharedDone = shared.flatMap((composite) => outcomes?.get(composite.manifest) ?? []);
      const projected =
        done === undefined && sharedDone.length === 0
          ? unit
          : projectAfterExecution(unit, [...(done ?? []), ...sharedDone], desiredOf(unit.manifest), after);
      return summarize(projected, done, request.execute, { plans: shared, outcomes: sharedDone });
    };
    return {
      plan,
      state: live.state,
      accountId: live.accountId,
      results: plans.map((unit) =>
        resultOf(
          unit,
          (unit.composites ?? []).flatMap((name) => plan.composites.get(name) ?? []),
        ),
      ),
      composites: composites.map((unit) => resultOf(unit, [])),
    };
  }

  /** The pass's plan: reused from `planned` for a focus it covers, otherwise planned against the snapshot. */
  private plan(snapshot: Snapshot, request: PassRequest, complete: boolean): PassPlan {
    const { focus, planned, manifests } = request;
    if (
      focus !== undefined &&
      planned !== undefined &&
      [...focus].every((name) => planned.manifests.has(name) || planned.composites.has(name))
    ) {
      const reused = new Map(
        [...focus].flatMap((name) => {
          const found = planned.manifests.get(name);
          return found === undefined ? [] : [[name, found] as const];
        }),
      );
      return { manifests: reused, composites: planned.composites, pruneSuspended: planned.pruneSuspended };
    }
    return planPass(
      snapshot,
      {
        inForce: manifests.inForce,
        protectedNames: manifests.protectedNames,
        // A read that cannot see orphans must never be allowed to guess at removals.
        unnamedInvalid: manifests.unnamedInvalid || !complete,
        allowMassPrune: this.options.allowMassPrune,
        defaultMode: this.options.defaultMode,
        iamPath: this.options.iamPath,
        ...(this.options.maxPoliciesPerRole === undefined
          ? {}
          : { maxPoliciesPerRole: this.options.maxPoliciesPerRole }),
      },
      focus,
    );
  }
}

/** What a manifest's (or composite's) plan and, if executed, its outcomes amount to. */
export function summarize(
  plan: ManifestPlan,
  outcomes: readonly ActionOutcome[] | undefined,
  executed: boolean,
  shared: { readonly plans: readonly ManifestPlan[]; readonly outcomes: readonly ActionOutcome[] } = {
    plans: [],
    outcomes: [],
  },
): ManifestResult {
  const errors = plan.issues.filter((issue) => issue.severity === "error").map((issue) => issue.message);
  const warnings = plan.issues.filter((issue) => issue.severity === "warning").map((issue) => issue.message);
  const failed = [...(outcomes ?? []), ...shared.outcomes].filter((outcome) => outcome.status !== "done");
  for (const outcome of failed) {
    if (outcome.status === "failed")
      errors.push(`${outcome.description}: ${outcome.errorCode ?? "Error"}: ${outcome.error ?? ""}`);
  }
  const actionCount = (unit: ManifestPlan) => unit.actions.length + unit.pruneActions.length;
  const pending = actionCount(plan) + shared.plans.reduce((sum, unit) => sum + actionCount(unit), 0) > 0;
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
    compositeOutcomes: shared.outcomes,
  };
}
