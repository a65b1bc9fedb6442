import pLimit from "p-limit";
import { CreatedInPass } from "../aws/actions/created-in-pass.js";
import { AwsApiError } from "../aws/aws-error.js";
import { instancesHolding, profilesHolding, rolesAttaching } from "../observed/snapshot-lookup.js";
import type { Snapshot } from "../observed/snapshot.js";
import { describeAction, isInstanceAction, type Action, type ActionKind } from "../plan/action.js";
import type { ActionResponse } from "../plan/apply-action.js";
import type { CompositePlan, ManifestPlan } from "../plan/manifest-plan.js";
import type { SnapshotWriter } from "./snapshot-writer.js";

/** Carries out one action against the cloud and answers what it learned; the engine's only way to change AWS. */
export interface ActionExecutor {
  execute(action: Action, state: Snapshot, created: CreatedInPass): Promise<ActionResponse>;
}

export type ActionStatus = "done" | "failed" | "skipped";

export interface ActionOutcome {
  readonly action: Action;
  readonly description: string;
  readonly status: ActionStatus;
  /** Stable error code (AWS error code, or NotOwned…) when failed. */
  readonly errorCode?: string;
  readonly error?: string;
  /** Retrying later may help (throttling or propagation outlasted the retries, or AWS changed under us). */
  readonly retryable?: boolean;
}

export interface ExecutionHooks {
  /** Called as each action finishes: logs and metrics hang off it. */
  readonly onAction?: (manifest: string, outcome: ActionOutcome) => void;
  /** When aborted, no new action starts; the one in flight completes. */
  readonly signal?: AbortSignal;
}

/**
 * Runs each enforce-mode manifest's actions in order, manifests in parallel (bounded), then each composite's,
 * converging actions of all before any removal. A failed IAM action stops that manifest's remaining actions (they depend on it);
 * a failed instance action only affects that instance. Removal runs in three steps across all manifests, so one
 * removed manifest's role is out of another's profile before it is deleted, and so on: instances and profiles,
 * then roles, then policies.
 */
export async function executePlans(
  plans: readonly ManifestPlan[],
  executor: ActionExecutor,
  state: SnapshotWriter,
  concurrency: number,
  hooks: ExecutionHooks = {},
  composites: readonly CompositePlan[] = [],
): Promise<Map<string, ActionOutcome[]>> {
  const outcomes = new Map<string, ActionOutcome[]>();
  const created = new CreatedInPass();
  const limit = pLimit(Math.max(1, concurrency));
  const stopped = new Map<string, string>();
  const runPhase = (units: readonly ManifestPlan[], select: (plan: ManifestPlan) => readonly Action[]) =>
    Promise.all(
      units
        .filter((plan) => plan.mode === "enforce" && select(plan).length > 0)
        .map((plan) =>
          limit(async () => {
            const list = outcomes.get(plan.manifest) ?? [];
            outcomes.set(plan.manifest, list);
            await runSequence(plan.manifest, select(plan), executor, state, created, hooks, list, stopped);
          }),
        ),
    );
  // A composite attaches its members' policies, so it converges after them; its instances move after it.
  await runPhase(plans, (plan) => plan.actions);
  for (const composite of composites) {
    const member = memberOf(composite).find((name) => stopped.has(name));
    if (member !== undefined)
      stopped.set(composite.manifest, `member ${member} could not converge: ${stopped.get(member) ?? ""}`);
  }
  await runPhase(composites, (plan) => plan.actions);
  for (const step of removalSteps)
    await runPhase([...plans, ...composites], (plan) =>
      plan.pruneActions.filter((action) => step.has(action.kind)),
    );
  return outcomes;
}

function memberOf(plan: ManifestPlan): readonly string[] {
  return "members" in plan ? (plan as CompositePlan).members : [];
}

/** Removal, in the order IAM requires across manifests; tags (retained resources) go with the first step. */
const removalSteps: ReadonlySet<ActionKind>[] = [
  new Set<ActionKind>([
    "tagPolicy",
    "tagRole",
    "tagInstanceProfile",
    "disassociateInstanceProfile",
    "removeRoleFromInstanceProfile",
    "deleteInstanceProfile",
  ]),
  new Set<ActionKind>(["detachRolePolicy", "deleteRolePolicy", "deleteRole"]),
  new Set<ActionKind>(["deletePolicyVersion", "deletePolicy"]),
];

async function runSequence(
  manifest: string,
  actions: readonly Action[],
  executor: ActionExecutor,
  state: SnapshotWriter,
  created: CreatedInPass,
  hooks: ExecutionHooks,
  outcomes: ActionOutcome[],
  stoppedManifests: Map<string, string>,
): Promise<void> {
  let stopped = stoppedManifests.get(manifest);
  const failedInstances = new Set<string>();
  for (const action of actions) {
    const description = describeAction(action);
    const instanceId = "instanceId" in action ? action.instanceId : undefined;
    const skipReason =
      hooks.signal?.aborted === true
        ? "shutting down"
        : (stopped ??
          (instanceId !== undefined && failedInstances.has(instanceId)
            ? "an earlier action on this instance failed"
            : undefined));
    if (skipReason !== undefined) {
      const outcome: ActionOutcome = {
        action,
        description,
        status: "skipped",
        error: skipReason,
        retryable: true,
      };
      outcomes.push(outcome);
      hooks.onAction?.(manifest, outcome);
      continue;
    }
    const inUse = stillInUse(action, state);
    if (inUse !== undefined) {
      const outcome: ActionOutcome = {
        action,
        description,
        status: "failed",
        errorCode: "InUse",
        error: inUse,
        retryable: true,
      };
      outcomes.push(outcome);
      hooks.onAction?.(manifest, outcome);
      stopped = `an earlier action failed: ${description}`;
      stoppedManifests.set(manifest, stopped);
      continue;
    }
    let outcome: ActionOutcome;
    try {
      state.apply(action, await executor.execute(action, state.view(), created));
      outcome = { action, description, status: "done" };
    } catch (error) {
      const { code, message, retryable } = describeFailure(error);
      outcome = { action, description, status: "failed", errorCode: code, error: message, retryable };
      if (isInstanceAction(action)) failedInstances.add(instanceId ?? "");
      else {
        stopped = `an earlier action failed: ${description}`;
        stoppedManifests.set(manifest, stopped);
      }
    }
    outcomes.push(outcome);
    hooks.onAction?.(manifest, outcome);
  }
}

/**
 * Removals that depend on another manifest's step of this pass (a detach, a replace that moves an instance away)
 * check that step's effect first: deleting an attached policy fails on AWS (emulators allow it and strand the
 * role), and deleting a profile an instance still holds leaves that instance without credentials.
 */
function stillInUse(action: Action, state: SnapshotWriter): string | undefined {
  if (action.kind === "deletePolicy") {
    const roles = rolesAttaching(state.view(), action.policyArn);
    if (roles.length > 0)
      return `${action.policyArn} is still attached to ${roles.join(", ")}; not removed yet`;
  }
  if (action.kind === "deleteRole") {
    // Another manifest taking the role out of a profile it wants may have stopped on an ownership check.
    const profiles = profilesHolding(state.view(), action.roleName);
    if (profiles.length > 0)
      return `role ${action.roleName} is still in instance profile ${profiles.join(", ")}; not removed yet`;
  }
  if (action.kind === "deleteInstanceProfile") {
    const instances = instancesHolding(state.view(), action.profileName);
    if (instances.length > 0)
      return `instance profile ${action.profileName} is still associated with ${instances.join(", ")}; not removed yet`;
  }
  return undefined;
}

function describeFailure(error: unknown): { code: string; message: string; retryable: boolean } {
  if (error instanceof AwsApiError) {
    const retryable = error.kind !== "terminal";
    return { code: error.code, message: error.message, retryable };
  }
  if (error instanceof Error && "code" in error && typeof error.code === "string") {
    return {
      code: error.code,
      message: error.message,
      retryable: "retryable" in error && error.retryable === true,
    };
  }
  return {
    code: "InternalError",
    message: error instanceof Error ? error.message : String(error),
    retryable: false,
  };
}
