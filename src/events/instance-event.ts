/**
 * What an SQS message from the EventBridge rules in deploy/aws/instance-events.yaml says, as plain data. An event
 * is only a hint about which instance to look at: the instance is read again before anything changes, so nothing
 * here is trusted beyond the instance ID (and whether the instance says it is gone).
 */

export const stateChangeDetailType = "EC2 Instance State-change Notification";
export const tagChangeDetailType = "Tag Change on Resource";

/** The label values of rolecall_instance_events_received_total: every message falls in exactly one. */
export const eventTypes = ["state-change", "tag-change", "other-region", "unknown", "unparseable"] as const;
export type EventType = (typeof eventTypes)[number];

/** Where an event comes from (EventBridge's `account` and `region`): run --targets routes it by these. */
export interface EventOrigin {
  readonly account: string | undefined;
  readonly region: string;
}

export type InstanceEvent =
  | ({
      readonly type: "state-change";
      readonly instanceId: string;
      readonly state: string;
      /** When the event happened (EventBridge's `time`), in milliseconds since the epoch; undefined if absent. */
      readonly at: number | undefined;
    } & EventOrigin)
  | ({
      readonly type: "tag-change";
      readonly instanceId: string;
      readonly at: number | undefined;
    } & EventOrigin)
  /** Counted, deleted and logged once (with the message ID, never the body). */
  | { readonly type: "other-region" | "unknown" | "unparseable"; readonly why: string };

const instanceIdPattern = /^i-[0-9a-f]{8,17}$/;
const instanceArnPattern = /^arn:aws[a-z-]*:ec2:[a-z0-9-]+:\d{12}:instance\/(i-[0-9a-f]{8,17})$/;

/**
 * Decides what a message body is about. `region` is the daemon's own (events from elsewhere are not ours); with
 * run --targets it is undefined, and the event's account and region decide which target it is for, if any.
 */
export function parseInstanceEvent(body: string | undefined, region?: string): InstanceEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body ?? "");
  } catch {
    return { type: "unparseable", why: "the body is not JSON" };
  }
  if (!isRecord(parsed)) return { type: "unparseable", why: "the body is not a JSON object" };
  const detailType = parsed["detail-type"];
  if (detailType !== stateChangeDetailType && detailType !== tagChangeDetailType)
    return { type: "unknown", why: `detail-type ${describe(detailType)} is not one rolecall handles` };
  if (typeof parsed.region !== "string")
    return { type: "unparseable", why: `region ${describe(parsed.region)} is not a region name` };
  if (region !== undefined && parsed.region !== region)
    return {
      type: "other-region",
      why: `the event is from region ${describe(parsed.region)}, not ${region}`,
    };
  const detail = parsed.detail;
  if (!isRecord(detail)) return { type: "unparseable", why: "the event has no detail object" };
  const at = typeof parsed.time === "string" ? Date.parse(parsed.time) : Number.NaN;
  const when = Number.isFinite(at) ? at : undefined;
  const origin: EventOrigin = {
    account: typeof parsed.account === "string" ? parsed.account : undefined,
    region: parsed.region,
  };
  const event =
    detailType === stateChangeDetailType
      ? stateChange(detail, when)
      : tagChange(detail, parsed.resources, when);
  return "instanceId" in event ? { ...event, ...origin } : event;
}

type WithoutOrigin<Event> = Event extends EventOrigin ? Omit<Event, keyof EventOrigin> : Event;
type Unplaced = WithoutOrigin<InstanceEvent>;

function stateChange(detail: Record<string, unknown>, at: number | undefined): Unplaced {
  const instanceId = detail["instance-id"];
  const state = detail.state;
  if (typeof instanceId !== "string" || !instanceIdPattern.test(instanceId))
    return { type: "unparseable", why: `detail.instance-id ${describe(instanceId)} is not an instance ID` };
  if (typeof state !== "string") return { type: "unparseable", why: "detail.state is not a string" };
  return { type: "state-change", instanceId, state, at };
}

function tagChange(detail: Record<string, unknown>, resources: unknown, at: number | undefined): Unplaced {
  if (detail.service !== "ec2" || detail["resource-type"] !== "instance")
    return {
      type: "unknown",
      why: `a tag change on ${describe(detail.service)} ${describe(detail["resource-type"])}, not an EC2 instance`,
    };
  const [arn] = Array.isArray(resources) ? (resources as unknown[]) : [];
  const instanceId = typeof arn === "string" ? instanceArnPattern.exec(arn)?.[1] : undefined;
  if (instanceId === undefined)
    return { type: "unparseable", why: "resources[0] is not the ARN of an EC2 instance" };
  return { type: "tag-change", instanceId, at };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A field's value for a log line: short, and never more of the body than that field. */
function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  return value === undefined ? "(missing)" : typeof value;
}
