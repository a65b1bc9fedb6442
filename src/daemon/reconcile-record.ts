import type { ManifestResult } from "../engine/engine.js";
import { describeAction } from "../plan/action.js";
import type { ActionRecord, ReconcileRecord } from "../status/status-store.js";

/** What /status keeps of one reconcile: the actions taken (or, in observe mode, those it would take). */
export function reconcileRecord(
  result: ManifestResult,
  reconcileId: string,
  durationMs: number,
  at: Date,
  revision: string | null,
): ReconcileRecord {
  const actions: ActionRecord[] =
    result.mode === "enforce"
      ? [...result.outcomes, ...(result.compositeOutcomes ?? [])].map((outcome) => ({
          description: outcome.description,
          status: outcome.status,
          ...(outcome.errorCode === undefined ? {} : { errorCode: outcome.errorCode }),
          ...(outcome.error === undefined ? {} : { error: outcome.error }),
        }))
      : [...result.plan.actions, ...result.plan.pruneActions].map((action) => ({
          description: describeAction(action),
          status: "planned" as const,
        }));
  return {
    at: at.toISOString(),
    reconcileId,
    result: result.status,
    durationMs,
    actions,
    error: result.errors[0] ?? null,
    revision,
  };
}
