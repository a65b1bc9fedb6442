import type { ManifestResult } from "../engine/engine.js";
import type { Mode } from "../manifest/instance-access.js";
import type { Reason } from "../plan/action.js";
import { label } from "../plan/labels.js";
import type { Condition } from "./conditions.js";
import type { EventDraft } from "./status-event.js";

/** What a manifest's past reconciles leave behind for telling a transition from a repetition. */
export interface Watch {
  /** Drift was reported and not yet seen repaired. */
  readonly inDrift: boolean;
  /** The last reconcile failed. */
  readonly failing: boolean;
  /**
   * The generation last seen converged: differences found for it are drift (AWS moved away from what was in
   * place); differences found for a generation never converged are the manifest's own creation or edit.
   */
  readonly convergedGeneration: string | null;
  /**
   * The instances that held the wanted profile after the last reconcile. Only these can drift: an instance
   * seen without it for the first time (just launched, or just tagged in) is arriving, and giving it access is
   * the manifest doing its job, not a repair (an Auto Scaling group would otherwise page on every scale-out).
   */
  readonly associated: ReadonlySet<string>;
}

export const unwatched: Watch = {
  inDrift: false,
  failing: false,
  convergedGeneration: null,
  associated: new Set(),
};

export interface ReconcileFacts {
  readonly mode: Mode;
  readonly status: ManifestResult["status"];
  /** The generation the reconcile worked from; null for a removed manifest. */
  readonly generation: string | null;
  readonly removed: boolean;
  readonly drift: readonly Reason[];
  readonly errors: readonly string[];
  /** What the reconcile changed in AWS (descriptions of its actions done). */
  readonly done: readonly string[];
  /** The instances that hold the wanted profile after the reconcile. */
  readonly associated: readonly string[];
}

/** Drift items in an event: enough to act on, bounded for a chat message. */
const itemsInDetails = 20;

function driftDetails(drift: readonly Reason[]) {
  return { count: drift.length, drift: drift.slice(0, itemsInDetails) };
}

/** The reconcile's differences less those of instances arriving (see Watch.associated). */
function driftOf(watch: Watch, facts: ReconcileFacts): readonly Reason[] {
  return facts.drift.filter((item) => {
    const instance = instanceOf(item.resource);
    return instance === undefined || watch.associated.has(instance);
  });
}

const instancePrefix = label.instance("");

function instanceOf(resource: string): string | undefined {
  return resource.startsWith(instancePrefix) ? resource.slice(instancePrefix.length) : undefined;
}

function driftEvents(watch: Watch, facts: ReconcileFacts): { inDrift: boolean; events: EventDraft[] } {
  const drift = facts.mode === "observe" ? facts.drift : driftOf(watch, facts);
  // Observe mode never converges what it reports, so whatever differs is drift; enforce mode calls it drift only
  // against a generation that was in place.
  const isDrift =
    !facts.removed &&
    drift.length > 0 &&
    (facts.mode === "observe" ||
      (facts.generation !== null && facts.generation === watch.convergedGeneration));
  const events: EventDraft[] = [];
  let inDrift = watch.inDrift;
  if (isDrift && !inDrift) {
    inDrift = true;
    events.push({
      type: "DriftDetected",
      message: drift.map((item) => `${item.resource} ${item.field}`).join("; "),
      details: { mode: facts.mode, ...driftDetails(drift) },
    });
  }
  if (inDrift && facts.status === "converged") {
    inDrift = false;
    events.push({
      type: "DriftRepaired",
      message:
        facts.done.length === 0 ? "AWS matches the manifest again" : `${facts.done.length} change(s) made`,
      details: { mode: facts.mode, actions: facts.done.slice(0, itemsInDetails) },
    });
  }
  return { inDrift, events };
}

/** A reconcile's transitions: drift found or repaired, failing or recovered. Pure: the store keeps the Watch. */
export function reconcileTransitions(
  watch: Watch,
  facts: ReconcileFacts,
): { watch: Watch; events: EventDraft[] } {
  const drift = driftEvents(watch, facts);
  const events = [...drift.events];
  const failing = facts.status === "failed";
  if (failing && !watch.failing)
    events.push({
      type: "ReconcileFailed",
      message: facts.errors[0] ?? "the reconcile failed",
      details: { errors: facts.errors.slice(0, itemsInDetails) },
    });
  if (!failing && watch.failing)
    events.push({ type: "ReconcileRecovered", message: `the reconcile ${facts.status}`, details: {} });
  return {
    watch: {
      inDrift: drift.inDrift,
      failing,
      convergedGeneration: facts.status === "converged" ? facts.generation : watch.convergedGeneration,
      associated: new Set(facts.associated),
    },
    events,
  };
}

const find = (conditions: readonly Condition[], type: Condition["type"]) =>
  conditions.find((condition) => condition.type === type);

/** Transitions visible in the conditions alone: a manifest turning invalid, a conflict appearing. */
export function conditionTransitions(
  before: readonly Condition[],
  after: readonly Condition[],
): EventDraft[] {
  const events: EventDraft[] = [];
  const invalid = (conditions: readonly Condition[]) => {
    const valid = find(conditions, "Valid");
    return valid?.status === "False" && valid.reason === "ManifestInvalid" ? valid : undefined;
  };
  const nowInvalid = invalid(after);
  if (nowInvalid !== undefined && invalid(before) === undefined)
    events.push({ type: "ManifestInvalid", message: nowInvalid.message, details: {} });
  const conflict = find(after, "Conflict");
  if (conflict?.status === "True" && find(before, "Conflict")?.status !== "True")
    events.push({
      type: "ConflictDetected",
      message: conflict.message,
      details: { reason: conflict.reason },
    });
  return events;
}
