import type { Ec2Caller } from "../region-router.js";
import type { Snapshot } from "../../observed/snapshot.js";
import type { Action, ActionKind } from "../../plan/action.js";
import type { ActionResponse } from "../../plan/apply-action.js";
import type { AwsCaller } from "../aws-caller.js";
import type { CreatedInPass } from "./created-in-pass.js";

/** What a handler works with: the two services, the state as the pass knows it, and the pass's creations. */
export interface HandlerContext {
  readonly iam: AwsCaller;
  readonly ec2: Ec2Caller;
  /** Read only: the engine applies the handler's response to it (applyAction). */
  readonly state: Snapshot;
  readonly created: CreatedInPass;
  readonly now: () => number;
}

export type ActionOf<K extends ActionKind> = Extract<Action, { kind: K }>;

/** Carries out one kind of action with the SDK and says what AWS answered. */
export type Handler<K extends ActionKind> = (
  action: ActionOf<K>,
  context: HandlerContext,
) => Promise<ActionResponse>;

export type HandlerGroup<K extends ActionKind> = { readonly [Kind in K]: Handler<Kind> };

export const done: ActionResponse = { kind: "done" };
export const absent: ActionResponse = { kind: "absent" };

export const tagList = (tags: Readonly<Record<string, string>>) =>
  Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

export const json = (document: unknown) => JSON.stringify(document);
