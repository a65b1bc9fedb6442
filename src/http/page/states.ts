import type { Condition } from "../../status/conditions.js";
import type { ManifestStatusView } from "../../status/status-store.js";

/** What a colour means on the page: fine, a problem, waiting for something, or nothing to say. */
export type Tone = "good" | "bad" | "wait" | "none";

/** Drifted and Conflict report a problem when True; every other condition reports one when False. */
const problemWhenTrue = new Set<Condition["type"]>(["Drifted", "Conflict"]);

export function conditionTone(condition: Condition): Tone {
  if (condition.status === "Unknown") return "wait";
  const fine = problemWhenTrue.has(condition.type)
    ? condition.status === "False"
    : condition.status === "True";
  return fine ? "good" : "bad";
}

/** The states the page filters by, in the order its menu lists them. */
export const filterStates = [
  "ready",
  "not-ready",
  "drifted",
  "conflict",
  "failed",
  "invalid",
  "pending",
  "observe",
  "removed",
] as const;

export type FilterState = (typeof filterStates)[number];

const has = (view: ManifestStatusView, type: Condition["type"], status: Condition["status"] = "True") =>
  view.conditions.some((condition) => condition.type === type && condition.status === status);

/** Every state a manifest is in (a drifted observe-mode manifest is not-ready, drifted and observe at once). */
export function manifestStates(view: ManifestStatusView, removed = false): FilterState[] {
  const states: FilterState[] = [has(view, "Ready") ? "ready" : "not-ready"];
  if (has(view, "Drifted")) states.push("drifted");
  if (has(view, "Conflict")) states.push("conflict");
  if (view.lastReconcile?.result === "failed") states.push("failed");
  if (has(view, "Valid", "False") && !removed) states.push("invalid");
  if (has(view, "Ready", "Unknown")) states.push("pending");
  if (view.mode === "observe") states.push("observe");
  if (removed) states.push("removed");
  return states;
}

/** The one word a card leads with: its most pressing state. */
export function headline(states: readonly FilterState[]): { readonly label: string; readonly tone: Tone } {
  const first = (["removed", "invalid", "conflict", "failed", "drifted", "pending", "ready"] as const).find(
    (state) => states.includes(state),
  );
  switch (first) {
    case "removed":
      return { label: "removing", tone: "wait" };
    case "pending":
      return { label: "pending", tone: "wait" };
    case "ready":
      return { label: "ready", tone: "good" };
    case undefined:
      return { label: "not ready", tone: "bad" };
    default:
      return { label: first, tone: "bad" };
  }
}
