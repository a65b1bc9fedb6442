/**
 * What rolecall tells the outside world about, once per transition (not per resync): the body of a notification
 * and of a /events message. TargetUnavailable and TargetRecovered come only from `run --targets`.
 */
export const eventTypes = [
  "DriftDetected",
  "DriftRepaired",
  "ReconcileFailed",
  "ReconcileRecovered",
  "ManifestInvalid",
  "ConflictDetected",
  "RemovalHeldBack",
  "TargetUnavailable",
  "TargetRecovered",
] as const;

export type EventType = (typeof eventTypes)[number];

export interface StatusEvent {
  readonly type: EventType;
  /** The manifest it is about; null for daemon-wide events (RemovalHeldBack). */
  readonly manifest: string | null;
  /** The target it is about (run --targets); null without --targets. */
  readonly target: string | null;
  readonly message: string;
  /** The Git revision of the manifests the event arose from; null when not in Git. */
  readonly revision: string | null;
  /** When it happened (ISO-8601, UTC). */
  readonly time: string;
  readonly details: Readonly<Record<string, unknown>>;
  /** One line for humans, so that a Slack or Mattermost incoming webhook shows the event as it is. */
  readonly text: string;
}

/** An event as a transition is found, before it is stamped with time, revision and target. */
export interface EventDraft {
  readonly type: EventType;
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
}

/** A chat line is read at a glance: long messages (a list of drift items, an AWS error) are cut. */
const textLength = 300;

const headline: Readonly<Record<EventType, string>> = {
  DriftDetected: "drift detected",
  DriftRepaired: "drift repaired",
  ReconcileFailed: "reconcile failed",
  ReconcileRecovered: "reconcile recovered",
  ManifestInvalid: "manifest invalid",
  ConflictDetected: "conflict detected",
  RemovalHeldBack: "removal held back",
  TargetUnavailable: "target unavailable",
  TargetRecovered: "target recovered",
};

/** `rolecall: drift detected on NAME in TARGET (at 1a2b3c4): MESSAGE`, on one line. */
export function eventText(
  type: EventType,
  manifest: string | null,
  message: string,
  revision: string | null,
  target: string | null = null,
): string {
  const on = (manifest === null ? "" : ` on ${manifest}`) + (target === null ? "" : ` in ${target}`);
  const at = revision === null ? "" : ` (at ${revision.slice(0, 7)})`;
  const line = `rolecall: ${headline[type]}${on}${at}: ${message}`.replace(/\s+/g, " ").trim();
  return line.length <= textLength ? line : `${line.slice(0, textLength - 1)}…`;
}

export function stampEvent(
  draft: EventDraft,
  manifest: string | null,
  revision: string | null,
  time: Date,
  target: string | null = null,
): StatusEvent {
  return {
    type: draft.type,
    manifest,
    target,
    message: draft.message,
    revision,
    time: time.toISOString(),
    details: draft.details,
    text: eventText(draft.type, manifest, draft.message, revision, target),
  };
}
