import type { InstanceExplanation } from "../explain/explain-instance.js";
import type { ManifestError } from "../manifest/manifest-error.js";
import { stampEvent, type EventDraft, type StatusEvent } from "./status-event.js";
import type { ManifestStatusView, StatusDocument, StatusStore } from "./status-store.js";

/** How one target of run --targets can be reached, as /status and /readyz say it. */
export type TargetReach =
  | { readonly state: "connecting" }
  | { readonly state: "reachable"; readonly since: string }
  | {
      readonly state: "unavailable";
      readonly code: string;
      readonly message: string;
      readonly attempts: number;
      readonly retryAt: string;
    };

/** One target's part of /status: today's per-directory fields, and who and where the target is. */
export interface TargetStatusSection extends Omit<StatusDocument, "source" | "leadership"> {
  readonly name: string;
  readonly account: string;
  readonly regions: readonly string[];
  readonly state: TargetReach["state"];
  readonly reachable: boolean;
  /** While unavailable: why, how many attempts so far, and when the next one is due. */
  readonly error?: {
    readonly code: string;
    readonly message: string;
    readonly attempts: number;
    readonly retryAt: string;
  };
}

/** /status with --targets: process-wide facts at the top, one section per target, and files in none. */
export interface TargetsStatusDocument {
  readonly source?: NonNullable<StatusDocument["source"]>;
  /** Totals over every target (lastResyncAt: the oldest of the reachable targets', null until each has one). */
  readonly summary: StatusDocument["summary"];
  /** Process-wide notices (each target's own are in its section). */
  readonly notices: StatusDocument["notices"];
  readonly leadership?: NonNullable<StatusDocument["leadership"]>;
  readonly targets: readonly TargetStatusSection[];
  /** Manifest files under no target's directory: while there is one, no target removes anything. */
  readonly outside: StatusDocument["errors"];
}

export function isTargetsDocument(
  document: StatusDocument | TargetsStatusDocument,
): document is TargetsStatusDocument {
  return "targets" in document && Array.isArray(document.targets);
}

export interface TargetEntry {
  readonly name: string;
  readonly account: string;
  readonly regions: readonly string[];
  readonly store: StatusStore;
  readonly reach: () => TargetReach;
  /** Whether the target's controller has finished its first pass. */
  readonly ready: () => boolean;
}

/** The readiness of run --targets: every reachable target has done its first pass; unavailable ones are named. */
export interface TargetsReadiness {
  readonly ready: boolean;
  readonly unavailable: readonly {
    readonly target: string;
    readonly code: string;
    readonly message: string;
  }[];
  /** Targets whose first connection attempt, or first pass, is not done. */
  readonly waitingFor: readonly string[];
}

/**
 * The status of every target read as one (what the HTTP server and the notifier see with --targets): the
 * document, a manifest or an instance found in whichever target has it, and the events of all targets plus the
 * targets' own (TargetUnavailable, TargetRecovered).
 */
export class TargetsStatus {
  private readonly listeners = new Set<(event: StatusEvent) => void>();

  constructor(
    private readonly process: StatusStore,
    private readonly targets: readonly TargetEntry[],
    private readonly outside: () => readonly ManifestError[],
    private readonly now: () => Date = () => new Date(),
  ) {}

  document(): TargetsStatusDocument {
    const top = this.process.document();
    const sections = this.targets.map((target) => section(target));
    const outside = this.outside().map(({ file, line, column, message, pointer }) => ({
      file,
      line,
      column,
      message,
      pointer,
    }));
    return {
      ...(top.source === undefined ? {} : { source: top.source }),
      summary: totals(sections, outside.length),
      notices: top.notices,
      ...(top.leadership === undefined ? {} : { leadership: top.leadership }),
      targets: sections,
      outside,
    };
  }

  /** The manifest of this name in `target`, or in the first target that has one. */
  manifest(name: string, target?: string): (ManifestStatusView & { readonly target: string }) | undefined {
    for (const entry of this.candidates(target)) {
      const view = entry.store.manifest(name);
      if (view !== undefined) return { ...view, target: entry.name };
    }
    return undefined;
  }

  /** An instance ID is unique across AWS: the first target whose last pass knows it answers. */
  instance(
    instanceId: string,
    target?: string,
  ): (InstanceExplanation & { readonly target: string }) | undefined {
    for (const entry of this.candidates(target)) {
      const explanation = entry.store.instance(instanceId);
      if (explanation !== undefined) return { ...explanation, target: entry.name };
    }
    return undefined;
  }

  readiness(): TargetsReadiness {
    const unavailable: TargetsReadiness["unavailable"][number][] = [];
    const waitingFor: string[] = [];
    for (const entry of this.targets) {
      const reach = entry.reach();
      if (reach.state === "unavailable")
        unavailable.push({ target: entry.name, code: reach.code, message: reach.message });
      else if (reach.state === "connecting" || !entry.ready()) waitingFor.push(entry.name);
    }
    return { ready: waitingFor.length === 0, unavailable, waitingFor };
  }

  /** Every event of every target, and the targets' own. */
  subscribe(listener: (event: StatusEvent) => void): () => void {
    this.listeners.add(listener);
    const ends = [this.process, ...this.targets.map((target) => target.store)].map((store) =>
      store.subscribe(listener),
    );
    return () => {
      this.listeners.delete(listener);
      for (const end of ends) end();
    };
  }

  /** A target's own event (TargetUnavailable, TargetRecovered). */
  announce(target: string, draft: EventDraft): void {
    const revision = this.process.document().source?.revision ?? null;
    const event = stampEvent(draft, null, revision, this.now(), target);
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // As in the status store: one listener's failure is its own.
      }
    }
  }

  private candidates(target: string | undefined): readonly TargetEntry[] {
    return target === undefined ? this.targets : this.targets.filter((entry) => entry.name === target);
  }
}

function section(target: TargetEntry): TargetStatusSection {
  const { source: _source, leadership: _leadership, ...own } = target.store.document();
  const reach = target.reach();
  return {
    name: target.name,
    account: target.account,
    regions: target.regions,
    state: reach.state,
    reachable: reach.state === "reachable",
    ...(reach.state === "unavailable"
      ? {
          error: {
            code: reach.code,
            message: reach.message,
            attempts: reach.attempts,
            retryAt: reach.retryAt,
          },
        }
      : {}),
    ...own,
  };
}

function totals(sections: readonly TargetStatusSection[], outsideFiles: number): StatusDocument["summary"] {
  const sum = (field: "manifests" | "ready" | "drifted" | "invalid" | "conflicts") =>
    sections.reduce((total, target) => total + target.summary[field], 0);
  const reachable = sections.filter((target) => target.reachable);
  const resyncs = reachable.map((target) => target.summary.lastResyncAt);
  const oldest = resyncs.length === 0 || resyncs.includes(null) ? null : [...(resyncs as string[])].sort()[0];
  return {
    manifests: sum("manifests"),
    ready: sum("ready"),
    drifted: sum("drifted"),
    invalid: sum("invalid") + outsideFiles,
    conflicts: sum("conflicts"),
    lastResyncAt: oldest ?? null,
  };
}
