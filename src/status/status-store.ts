import type { InstanceStatus, Issue, ManifestResources } from "../plan/manifest-plan.js";
import type { ManifestResult } from "../engine/engine.js";
import type { InstanceExplanation } from "../explain/explain-instance.js";
import type { ManifestError } from "../manifest/manifest-error.js";
import type { Mode } from "../manifest/instance-access.js";
import type { Reason } from "../plan/action.js";
import { setConditions, type Condition, type ConditionInput } from "./conditions.js";
import { deriveConditions } from "./derive-conditions.js";
import { repeatsLast } from "./history.js";
import { stampEvent, type EventDraft, type StatusEvent } from "./status-event.js";
import { conditionTransitions, reconcileTransitions, unwatched, type Watch } from "./transitions.js";
import type { ManifestSource } from "../fs/git-revision.js";

export interface ActionRecord {
  readonly description: string;
  readonly status: "done" | "failed" | "skipped" | "planned";
  readonly errorCode?: string;
  readonly error?: string;
}

export interface ReconcileRecord {
  readonly at: string;
  readonly reconcileId: string;
  readonly result: ManifestResult["status"];
  readonly durationMs: number;
  readonly actions: readonly ActionRecord[];
  readonly error: string | null;
  /** The Git revision of the manifests it applied (null: not in Git); the daemon always records it. */
  readonly revision?: string | null;
}

export interface ManifestStatusView {
  readonly name: string;
  readonly file: string | null;
  readonly generation: string | null;
  readonly mode: Mode;
  readonly conditions: readonly Condition[];
  readonly drift: readonly Reason[];
  readonly instances: readonly InstanceStatus[];
  readonly resources: ManifestResources;
  readonly warnings: readonly string[];
  readonly lastReconcile: ReconcileRecord | null;
  readonly history: readonly ReconcileRecord[];
  /** The buckets the manifest grants access to (the page filters by them); absent until the daemon says. */
  readonly buckets?: readonly string[];
}

export interface StatusDocument {
  /** Where the manifests are read from, and the Git revision in force; the daemon always sets it. */
  readonly source?: ManifestSource;
  readonly summary: {
    readonly manifests: number;
    readonly ready: number;
    readonly drifted: number;
    readonly invalid: number;
    readonly conflicts: number;
    readonly lastResyncAt: string | null;
  };
  readonly manifests: readonly ManifestStatusView[];
  /** Manifests removed from the directory whose resources are still being cleaned up (or retained). */
  readonly removed: readonly ManifestStatusView[];
  readonly errors: readonly {
    file: string;
    line: number;
    column: number;
    message: string;
    pointer: string;
  }[];
  /** Daemon-wide conditions: unreadable directory, removals held back. */
  readonly notices: readonly { readonly reason: string; readonly message: string }[];
  /** With --lease-table: who leads, and whether this process does. Absent when the process runs alone. */
  readonly leadership?: LeadershipStatus;
}

/** Leader election as /status shows it. */
export interface LeadershipStatus {
  readonly lease: { readonly table: string; readonly name: string };
  /** This process's holder ID. */
  readonly holderId: string;
  /** Whether this process leads: it alone reconciles and writes to IAM and EC2. */
  readonly leading: boolean;
  /** The holder ID of the leader as last seen, null when nobody holds the lease. */
  readonly leader: string | null;
  /** When that leader took the lease (ISO 8601), null when unknown. */
  readonly since: string | null;
  /** When the lease that leader last wrote ends (ISO 8601, its clock), null when nobody holds it or unknown. */
  readonly expiresAt: string | null;
}

/** A manifest as the latest directory read knows it. */
export interface ManifestEntry {
  readonly name: string;
  readonly file: string;
  readonly generation: string;
  readonly mode: Mode;
  /** Undefined when the file's current content is valid; otherwise why not (the last valid version may be in force). */
  readonly invalid?: { readonly message: string; readonly inForceGeneration: string | undefined };
  /** The buckets of the manifest in force, from its compiled grants. */
  readonly buckets?: readonly string[];
}

const historyLength = 10;

/** Daemon-wide notices whose appearance is an event. */
const noticeEvents: Readonly<Record<string, StatusEvent["type"]>> = { PruneSuspended: "RemovalHeldBack" };

interface Entry {
  name: string;
  file: string | null;
  generation: string | null;
  mode: Mode;
  removed: boolean;
  valid: ConditionInput;
  conditions: Condition[];
  drift: readonly Reason[];
  instances: readonly InstanceStatus[];
  resources: ManifestStatusView["resources"];
  warnings: readonly string[];
  issues: readonly Issue[];
  result: ManifestResult["status"] | undefined;
  /** The generation in force when `result` was recorded: Synced, Drifted and Conflict describe that one. */
  resultGeneration: string | null;
  resultError: string | null;
  history: ReconcileRecord[];
  last: ReconcileRecord | null;
  buckets: readonly string[] | undefined;
  /** The states this entry adds to counts(), as of its last refresh. */
  counted: readonly CountedState[];
  /** What its reconciles so far leave for telling transitions (events) from repetitions. */
  watch: Watch;
}

type CountedState = "valid" | "invalid" | "ready" | "drifted" | "conflict";

/**
 * What the daemon knows, per manifest, for /status and /metrics. Only the daemon writes it; the HTTP server only
 * reads it.
 */
export class StatusStore {
  private readonly entries = new Map<string, Entry>();
  private errors: readonly ManifestError[] = [];
  private readonly notices = new Map<string, string>();
  private lastResyncAt: string | null = null;
  private source: ManifestSource | undefined;
  private readonly listeners = new Set<(event: StatusEvent) => void>();
  private explainInstance: ((instanceId: string) => InstanceExplanation | undefined) | undefined;
  private leadership: (() => LeadershipStatus) | undefined;
  /**
   * counts(), kept up to date entry by entry: the daemon reads it after every reconcile, and recounting every
   * manifest each time made a resync of N manifests cost N² (a minute for 5,000).
   */
  private readonly tally: Record<CountedState, number> = {
    valid: 0,
    invalid: 0,
    ready: 0,
    drifted: 0,
    conflict: 0,
  };

  /** `target`: the target of run --targets this store is about (its events say so); null without --targets. */
  constructor(
    private readonly now: () => Date = () => new Date(),
    private readonly target: string | null = null,
  ) {}

  /** Takes the latest directory read: which manifests exist, which are valid, the files' errors. */
  setManifests(entries: readonly ManifestEntry[], errors: readonly ManifestError[]): void {
    this.errors = errors;
    const present = new Set(entries.map((entry) => entry.name));
    for (const entry of entries) {
      const existing = this.entries.get(entry.name);
      const valid: ConditionInput =
        entry.invalid === undefined
          ? {
              type: "Valid",
              status: "True",
              reason: "ManifestValid",
              message: "the manifest is valid",
              observedGeneration: entry.generation,
            }
          : {
              type: "Valid",
              status: "False",
              reason: "ManifestInvalid",
              message:
                entry.invalid.inForceGeneration === undefined
                  ? `${entry.invalid.message}; no valid version was ever seen, so nothing of this manifest is changed or removed`
                  : `${entry.invalid.message}; the last valid version (generation ${entry.invalid.inForceGeneration}) stays in force`,
              observedGeneration: entry.generation,
            };
      const current = existing ?? this.fresh(entry.name, entry.file, entry.generation, entry.mode, valid);
      if (existing === undefined) {
        this.entries.set(entry.name, current);
      } else {
        existing.file = entry.file;
        existing.generation = entry.generation;
        existing.mode = entry.mode;
        existing.removed = false;
        existing.valid = valid;
      }
      if (entry.buckets !== undefined) current.buckets = entry.buckets;
      this.refresh(entry.name);
    }
    for (const [name, entry] of this.entries) {
      if (!present.has(name) && !entry.removed) {
        entry.removed = true;
        entry.file = null;
        entry.valid = {
          type: "Valid",
          status: "False",
          reason: "ManifestRemoved",
          message: "the manifest was removed from the directory",
          observedGeneration: entry.generation ?? "",
        };
        this.refresh(name);
      }
    }
  }

  /** Records a removed manifest seen only in AWS (after a restart), so its clean-up shows up. */
  trackRemoved(name: string, mode: Mode): void {
    if (this.entries.has(name)) return;
    const entry = this.fresh(name, null, null, mode, {
      type: "Valid",
      status: "False",
      reason: "ManifestRemoved",
      message: "no manifest of this name exists; its resources in AWS are being removed or retained",
      observedGeneration: "",
    });
    entry.removed = true;
    this.entries.set(name, entry);
    this.refresh(name);
  }

  /** A removed manifest whose resources are all gone: forget it. */
  forget(name: string): void {
    const entry = this.entries.get(name);
    if (entry?.removed !== true) return;
    this.recount(entry, []);
    this.entries.delete(name);
  }

  /**
   * Records a reconcile; `generation` is the one it worked from: null when no version of the manifest was in
   * force (it was removed), undefined for the manifest's current one.
   */
  recordReconcile(result: ManifestResult, record: ReconcileRecord, generation?: string | null): void {
    const entry = this.entries.get(result.manifest);
    if (entry === undefined) return;
    // Drift repaired by this reconcile is history (in lastReconcile), not outstanding drift.
    entry.drift = result.status === "converged" ? [] : result.plan.drift;
    entry.instances = result.plan.instances;
    entry.resources = result.plan.resources;
    entry.issues = result.plan.issues;
    entry.warnings = result.warnings;
    entry.result = result.status;
    entry.resultGeneration = generation === undefined ? entry.generation : generation;
    entry.resultError = record.error;
    // Every resync reconciles every manifest; history keeps the reconciles that did or found something new, so
    // ten quiet (or identically drifted) resyncs do not push a repair out of view.
    if (!repeatsLast(entry.history, record))
      entry.history = [record, ...entry.history].slice(0, historyLength);
    entry.last = record;
    const transitions = reconcileTransitions(entry.watch, {
      mode: result.mode,
      status: result.status,
      generation: entry.resultGeneration,
      removed: entry.removed,
      drift: result.plan.drift,
      errors: result.errors,
      done: record.actions.filter((action) => action.status === "done").map((action) => action.description),
      associated: result.plan.instances
        .filter((instance) => instance.association === "associated")
        .map((instance) => instance.id),
    });
    entry.watch = transitions.watch;
    for (const draft of transitions.events) this.emit(draft, entry.name, record.revision ?? null);
    this.refresh(result.manifest);
  }

  /**
   * Calls `listener` with every event from now on (transitions, never repetitions); returns how to stop. A
   * listener must not throw or block: notifications and /events queue what they send.
   */
  subscribe(listener: (event: StatusEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Where the manifests were last read from, and the Git revision there. */
  setSource(source: ManifestSource): void {
    this.source = source;
  }

  private emit(draft: EventDraft, manifest: string | null, revision: string | null): void {
    const event = stampEvent(draft, manifest, revision, this.now(), this.target);
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its own (a closed stream); the store and the other listeners go on.
      }
    }
  }

  setNotice(reason: string, message: string | undefined): void {
    const event = noticeEvents[reason];
    if (event !== undefined && message !== undefined && !this.notices.has(reason))
      this.emit({ type: event, message, details: {} }, null, this.source?.revision ?? null);
    if (message === undefined) this.notices.delete(reason);
    else this.notices.set(reason, message);
  }

  markResync(at: Date): void {
    this.lastResyncAt = at.toISOString();
  }

  /** How the daemon explains an instance from its last pass (no AWS call); see rolecall explain. */
  setInstanceExplainer(explain: ((instanceId: string) => InstanceExplanation | undefined) | undefined): void {
    this.explainInstance = explain;
  }

  /** Leader election's view, read afresh for every document (leading can end between two resyncs). */
  setLeadership(read: (() => LeadershipStatus) | undefined): void {
    this.leadership = read;
  }

  /** One instance as `explain --instance` shows it, from the daemon's last pass; undefined if it is not known. */
  instance(instanceId: string): InstanceExplanation | undefined {
    return this.explainInstance?.(instanceId);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  manifest(name: string): ManifestStatusView | undefined {
    const entry = this.entries.get(name);
    return entry === undefined ? undefined : view(entry);
  }

  document(): StatusDocument {
    const all = [...this.entries.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    const present = all.filter((entry) => !entry.removed);
    const isTrue = (entry: Entry, type: Condition["type"]) =>
      entry.conditions.some((condition) => condition.type === type && condition.status === "True");
    return {
      ...(this.source === undefined ? {} : { source: this.source }),
      summary: {
        manifests: present.length,
        ready: present.filter((entry) => isTrue(entry, "Ready")).length,
        drifted: present.filter((entry) => isTrue(entry, "Drifted")).length,
        invalid: new Set(this.errors.map((error) => error.file)).size,
        conflicts: present.filter((entry) => isTrue(entry, "Conflict")).length,
        lastResyncAt: this.lastResyncAt,
      },
      manifests: present.map(view),
      removed: all.filter((entry) => entry.removed).map(view),
      errors: this.errors.map(({ file, line, column, message, pointer }) => ({
        file,
        line,
        column,
        message,
        pointer,
      })),
      notices: [...this.notices].map(([reason, message]) => ({ reason, message })),
      ...(this.leadership === undefined ? {} : { leadership: this.leadership() }),
    };
  }

  /** Counts per state, for the rolecall_manifests gauge. */
  counts(): Record<CountedState, number> {
    return { ...this.tally };
  }

  private recount(entry: Entry, counted: readonly CountedState[]): void {
    for (const state of entry.counted) this.tally[state] -= 1;
    for (const state of counted) this.tally[state] += 1;
    entry.counted = counted;
  }

  private fresh(
    name: string,
    file: string | null,
    generation: string | null,
    mode: Mode,
    valid: ConditionInput,
  ): Entry {
    return {
      name,
      file,
      generation,
      mode,
      removed: false,
      valid,
      conditions: [],
      drift: [],
      instances: [],
      resources: {},
      warnings: [],
      issues: [],
      result: undefined,
      resultGeneration: null,
      resultError: null,
      history: [],
      last: null,
      buckets: undefined,
      counted: [],
      watch: unwatched,
    };
  }

  /** Recomputes an entry's conditions from what is known of it. */
  private refresh(name: string): void {
    const entry = this.entries.get(name);
    if (entry === undefined) return;
    const before = entry.conditions;
    entry.conditions = setConditions(entry.conditions, deriveConditions(entry), this.now().toISOString());
    this.recount(entry, countedStates(entry));
    for (const draft of conditionTransitions(before, entry.conditions)) {
      const details =
        draft.type === "ManifestInvalid" ? { ...draft.details, file: entry.file } : draft.details;
      this.emit({ ...draft, details }, name, this.source?.revision ?? null);
    }
  }
}

/** Which of the rolecall_manifests states an entry is in: none once removed. */
function countedStates(entry: Entry): CountedState[] {
  if (entry.removed) return [];
  const has = (type: Condition["type"], status: Condition["status"] = "True") =>
    entry.conditions.some((condition) => condition.type === type && condition.status === status);
  const states: CountedState[] = [];
  if (has("Valid")) states.push("valid");
  if (has("Valid", "False")) states.push("invalid");
  if (has("Ready")) states.push("ready");
  if (has("Drifted")) states.push("drifted");
  if (has("Conflict")) states.push("conflict");
  return states;
}

function view(entry: Entry): ManifestStatusView {
  return {
    name: entry.name,
    file: entry.file,
    generation: entry.generation,
    mode: entry.mode,
    conditions: entry.conditions,
    drift: entry.drift,
    instances: entry.instances,
    resources: entry.resources,
    warnings: entry.warnings,
    lastReconcile: entry.last,
    history: entry.history,
    ...(entry.buckets === undefined ? {} : { buckets: entry.buckets }),
  };
}
