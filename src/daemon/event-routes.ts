import type { EventOrigin } from "../events/instance-event.js";
import type { InstanceHandling } from "./controller.js";

/** A controller's instancesChanged: reads the instances and converges what they concern. */
export type HandleInstances = (instanceIds: readonly string[]) => Promise<Map<string, InstanceHandling>>;

/** Who handles an event's instance. */
export type EventRoute =
  /** This target's controller reads and converges it (`target` is "" without --targets). */
  | { readonly kind: "target"; readonly target: string; readonly handle: HandleInstances }
  /** The target it belongs to is not reached yet: the message stays on the queue, to come back. */
  | { readonly kind: "unreached"; readonly target: string }
  /** No target has this account and region: nothing of rolecall's can concern the instance. */
  | { readonly kind: "none" };

export type RouteEvent = (origin: EventOrigin) => EventRoute;

/** Without --targets: every event (of the daemon's region, checked when parsing) goes to the one controller. */
export function oneTarget(handle: HandleInstances): RouteEvent {
  const route: EventRoute = { kind: "target", target: "", handle };
  return () => route;
}

/** What routing needs to know of one target of run --targets. */
export interface RoutableTarget {
  readonly name: string;
  readonly account: string;
  readonly regions: readonly string[];
  /** Undefined until the target is reached (its controller is running). */
  readonly handle: () => HandleInstances | undefined;
}

/**
 * run --targets, one queue for the organisation: an event goes to the target of its account (a Targets file has
 * at most one per account) if that target selects instances in the event's region.
 */
export function routeByTarget(targets: readonly RoutableTarget[]): RouteEvent {
  const byAccount = new Map(targets.map((target) => [target.account, target]));
  return ({ account, region }) => {
    const target = account === undefined ? undefined : byAccount.get(account);
    if (target === undefined || !target.regions.includes(region)) return { kind: "none" };
    const handle = target.handle();
    return handle === undefined
      ? { kind: "unreached", target: target.name }
      : { kind: "target", target: target.name, handle };
  };
}
