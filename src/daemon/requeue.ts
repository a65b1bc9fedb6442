import type { ManifestResult } from "../engine/engine.js";
import type { HandlerResult } from "./work-queue.js";

/** How a reconcile of one key ended, as far as the work queue cares. */
export type ReconcileEnd =
  /** No state to plan from yet (the first resync has not read AWS). */
  | { readonly kind: "notReady" }
  /** Nothing of this name is in force or left in AWS. */
  | { readonly kind: "gone" }
  /** Another key's reconcile ran this one's plan with its own (they had to run together). */
  | { readonly kind: "covered" }
  /** This process does not hold the lease: the leader reconciles, and gaining the lease resyncs every key. */
  | { readonly kind: "standby" }
  | { readonly kind: "reconciled"; readonly result: ManifestResult }
  /** The reconcile threw: AWS could not be read, or a bug. */
  | { readonly kind: "crashed"; readonly error: unknown };

/** Wait before trying a key again while there is no state to plan from. */
export const notReadyDelayMs = 1000;

/**
 * Every requeue rule in one place, as controller-runtime's reconcileHandler has them: transient failures back off
 * and retry, permanent ones wait for a change (an edit, the next resync), success is forgotten.
 */
export function requeueFor(end: ReconcileEnd): HandlerResult {
  switch (end.kind) {
    case "notReady":
      return { kind: "requeueAfter", ms: notReadyDelayMs };
    case "gone":
    case "covered":
    case "standby":
      return { kind: "done" };
    case "crashed":
      return { kind: "retry" };
    case "reconciled":
      return end.result.status === "failed" && end.result.retryable ? { kind: "retry" } : { kind: "done" };
  }
}
