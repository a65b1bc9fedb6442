import type { Ec2Caller } from "./region-router.js";
import type { Snapshot } from "../observed/snapshot.js";
import type { Action, ActionKind } from "../plan/action.js";
import type { ActionResponse } from "../plan/apply-action.js";
import { associationHandlers } from "./actions/association-handlers.js";
import type { CreatedInPass } from "./actions/created-in-pass.js";
import type { Handler, HandlerGroup } from "./actions/handler.js";
import { policyHandlers } from "./actions/policy-handlers.js";
import { profileHandlers } from "./actions/profile-handlers.js";
import { roleHandlers } from "./actions/role-handlers.js";
import type { AwsCaller } from "./aws-caller.js";

/** One handler per action kind, grouped by resource: a kind without a handler fails to compile here. */
const handlers: HandlerGroup<ActionKind> = {
  ...policyHandlers,
  ...roleHandlers,
  ...profileHandlers,
  ...associationHandlers,
};

/**
 * Carries out actions with the AWS SDK clients, resolving conflicts by re-reading instead of failing blindly, and
 * answers what AWS said; the engine applies that to its state (applyAction). The engine's only way to change AWS.
 */
export class AwsActionExecutor {
  constructor(
    private readonly iam: AwsCaller,
    private readonly ec2: Ec2Caller,
    private readonly now: () => number = Date.now,
  ) {}

  execute(action: Action, state: Snapshot, created: CreatedInPass): Promise<ActionResponse> {
    const handler = handlers[action.kind] as Handler<ActionKind>;
    return handler(action, { iam: this.iam, ec2: this.ec2, state, created, now: this.now });
  }
}
