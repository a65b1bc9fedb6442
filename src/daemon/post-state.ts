import type { DesiredAccess } from "../desired/desired-access.js";
import type { ManifestPlan } from "../plan/manifest-plan.js";
import type { ActionOutcome } from "../engine/execute-plan.js";
import type { SnapshotWriter } from "../observed/snapshot-writer.js";

/**
 * A plan describes AWS before its actions ran; status should describe it after. This projects the plan through
 * the outcomes: instances whose association succeeded are associated, disassociated ones drop out, and resource
 * ARNs come from the (write-through) cache.
 */
export function projectAfterExecution(
  plan: ManifestPlan,
  outcomes: readonly ActionOutcome[],
  desired: DesiredAccess | undefined,
  cache: SnapshotWriter,
): ManifestPlan {
  const associated = new Set<string>();
  const disassociated = new Set<string>();
  for (const outcome of outcomes) {
    if (outcome.status !== "done") continue;
    const action = outcome.action;
    if (action.kind === "associateInstanceProfile" || action.kind === "replaceInstanceProfileAssociation")
      associated.add(action.instanceId);
    if (action.kind === "disassociateInstanceProfile") disassociated.add(action.instanceId);
  }
  const instances = plan.instances
    .filter((instance) => !(instance.association === "excluded" && disassociated.has(instance.id)))
    .map((instance) =>
      associated.has(instance.id) ? { ...instance, association: "associated" as const } : instance,
    );
  if (desired === undefined) return { ...plan, instances };
  const policyArn = cache.policy(desired.policy.name)?.arn;
  const roleArn = cache.role(desired.role.name)?.arn;
  const instanceProfileArn = cache.profile(desired.instanceProfile.name)?.arn;
  return {
    ...plan,
    instances,
    resources: {
      ...(policyArn === undefined ? {} : { policyArn }),
      ...(roleArn === undefined ? {} : { roleArn }),
      ...(instanceProfileArn === undefined ? {} : { instanceProfileArn }),
    },
  };
}
