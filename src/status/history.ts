import { stableStringify } from "../util/stable-json.js";

/** A reconcile as /status records it (ReconcileRecord; only what this needs, so as not to import the store). */
interface Kept {
  readonly actions: readonly { readonly status: string }[];
}

/**
 * What tells one reconcile from the next whatever it found: when it ran, its id and duration, its actions (looked
 * at apart), and the revision it applied (a new commit that leaves a manifest as it was is not its event).
 */
const incidental = new Set(["at", "reconcileId", "durationMs", "revision", "actions"]);

const outcome = (record: Kept) =>
  stableStringify(Object.entries(record).filter(([key]) => !incidental.has(key)));

/**
 * Whether a reconcile only repeats the last one history kept: it changed nothing in AWS, ended as that one did
 * (result, error), and either had nothing to do or found the same things to do (skipped, failed or, in observe
 * mode, planned). An observe-mode manifest reports the same drift at every resync and a stuck one the same
 * failure: history keeps transitions and changes, so ten resyncs cannot push them out of view.
 */
export function repeatsLast(history: readonly Kept[], record: Kept): boolean {
  const previous = history[0];
  if (previous === undefined) return false;
  if (record.actions.some((action) => action.status === "done")) return false;
  if (outcome(previous) !== outcome(record)) return false;
  return record.actions.length === 0 || stableStringify(previous.actions) === stableStringify(record.actions);
}
