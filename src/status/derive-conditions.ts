import type { ManifestResult } from "../engine/engine.js";
import type { Mode } from "../manifest/instance-access.js";
import type { Reason } from "../plan/action.js";
import type { Issue } from "../plan/manifest-plan.js";
import type { ConditionInput } from "./conditions.js";

/** What the status store knows of a manifest, all its conditions are derived from. */
export interface ConditionFacts {
  readonly generation: string | null;
  readonly mode: Mode;
  readonly removed: boolean;
  readonly valid: ConditionInput;
  readonly drift: readonly Reason[];
  readonly issues: readonly Issue[];
  readonly result: ManifestResult["status"] | undefined;
  /** The generation in force when `result` was recorded: Synced, Drifted and Conflict describe that one. */
  readonly resultGeneration: string | null;
  readonly resultError: string | null;
}

/** Where the manifest's current generation stands with AWS, as far as the last reconcile tells. */
type SyncState = ManifestResult["status"] | "unreconciled" | "stale";

type Verdict = Pick<ConditionInput, "status" | "reason" | "message">;

const conflictCodes = new Set<string>([
  "NotOwned",
  "OwnedByInvalidManifest",
  "OwnedByOtherManifest",
  "InstanceClaimedByManifests",
  "ForeignInstanceProfile",
  "InstanceClaimedByInvalidManifest",
]);

/** A manifest's conditions, in the order /status lists them: Valid, Synced, Drifted?, Conflict?, Ready. */
export function deriveConditions(facts: ConditionFacts): ConditionInput[] {
  const generation = facts.generation ?? "";
  const resultGeneration = facts.resultGeneration ?? generation;
  const state = syncState(facts);
  const synced: ConditionInput = {
    type: "Synced",
    ...syncVerdict(facts, state, generation, resultGeneration),
    observedGeneration: generation,
  };
  const conditions: ConditionInput[] = [facts.valid, synced];
  const drifted = facts.drift.length > 0 && facts.result !== "converged";
  if (drifted || facts.mode === "observe") {
    conditions.push({
      type: "Drifted",
      ...driftVerdict(facts, drifted),
      observedGeneration: resultGeneration,
    });
  }
  const conflict = facts.issues.find((issue) => conflictCodes.has(issue.code));
  if (conflict !== undefined) {
    conditions.push({
      type: "Conflict",
      status: "True",
      reason: conflict.code,
      message: conflict.message,
      observedGeneration: resultGeneration,
    });
  }
  const ready =
    facts.valid.status === "True" && synced.status === "True" && !drifted && firstError(facts) === undefined;
  conditions.push({
    type: "Ready",
    ...(ready ? readyVerdict : notReadyVerdict(facts, synced, state)),
    observedGeneration: generation,
  });
  return conditions;
}

function syncState(facts: ConditionFacts): SyncState {
  // After an edit, the last reconcile describes the previous generation: until the new one is reconciled,
  // nothing may claim it is synced (that is what observedGeneration is for).
  // (A removed manifest keeps its last generation for display; its clean-up is reconciled without one.)
  if (!facts.removed && facts.result !== undefined && facts.resultGeneration !== facts.generation)
    return "stale";
  return facts.result ?? "unreconciled";
}

function syncVerdict(
  facts: ConditionFacts,
  state: SyncState,
  generation: string,
  resultGeneration: string,
): Verdict {
  switch (state) {
    case "stale":
      return {
        status: "Unknown",
        reason: "Pending",
        message: `generation ${generation} is not reconciled yet (the last reconcile was of generation ${resultGeneration})`,
      };
    case "unreconciled":
      return { status: "Unknown", reason: "Pending", message: "not reconciled yet" };
    case "converged":
      return { status: "True", reason: "Converged", message: "AWS matches the manifest" };
    case "pending":
      return { status: "Unknown", reason: "Reconciling", message: "changes are being made" };
    case "drifted":
      return {
        status: "False",
        reason: "ObserveOnly",
        message: `observe mode: ${facts.drift.length} difference(s) reported, nothing changed`,
      };
    case "failed": {
      const error = firstError(facts);
      return {
        status: "False",
        reason: error?.code ?? "ReconcileFailed",
        message: error?.message ?? facts.resultError ?? "the last reconcile failed",
      };
    }
  }
}

function driftVerdict(facts: ConditionFacts, drifted: boolean): Verdict {
  if (!drifted) return { status: "False", reason: "NoDrift", message: "AWS matches the manifest" };
  return {
    status: "True",
    reason: "DriftDetected",
    message: facts.drift.map((item) => `${item.resource} ${item.field}`).join("; "),
  };
}

const readyVerdict: Verdict = {
  status: "True",
  reason: "Converged",
  message: "the manifest is in force and AWS matches it",
};

/**
 * Ready is Unknown while a reconcile of a valid manifest is still to come, and otherwise False, naming the first
 * thing in the way. A manifest that is invalid (never valid, or broken since) or removed is not waiting for
 * anything that would make it ready: it is False, as Kubernetes reports a resource that cannot become ready.
 */
function notReadyVerdict(facts: ConditionFacts, synced: ConditionInput, state: SyncState): Verdict {
  const awaitingReconcile =
    !facts.removed &&
    facts.valid.status === "True" &&
    (state === "stale" || state === "unreconciled" || state === "pending");
  return {
    status: awaitingReconcile ? "Unknown" : "False",
    reason: facts.removed
      ? "ManifestRemoved"
      : facts.valid.status !== "True"
        ? "ManifestInvalid"
        : synced.reason,
    message: synced.status === "True" || facts.valid.status !== "True" ? facts.valid.message : synced.message,
  };
}

function firstError(facts: ConditionFacts): Issue | undefined {
  return facts.issues.find((issue) => issue.severity === "error");
}
