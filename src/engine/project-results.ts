import type { DesiredAccess } from "../desired/desired-access.js";
import { policyNamed, profileNamed, roleNamed } from "../observed/snapshot-lookup.js";
import type { Snapshot } from "../observed/snapshot.js";
import type { ManifestPlan } from "../plan/manifest-plan.js";
import type { ActionOutcome } from "./execute-plan.js";

/**
 * A plan describes AWS before its actions ran; a result should describe it after. This projects the plan's
 * instances through the actions that succeeded (an instance associated is associated, one disassociated for not
 * being selected drops out) and takes resource ARNs from the state after the pass.
 */
export function projectAfterExecution(
  plan: ManifestPlan,
  outcomes: readonly ActionOutcome[],
  desired: DesiredAccess | undefined,
  after: Snapshot,
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
  const policyArn = policyNamed(after, desired.policy.name)?.arn;
  const role = roleNamed(after, desired.role.name);
  const roleArn = role?.arn;
  const permissionsBoundary = role?.permissionsBoundary;
  const instanceProfileArn = profileNamed(after, desired.instanceProfile.name)?.arn;
  return {
    ...plan,
    instances,
    resources: {
      ...(policyArn === undefined ? {} : { policyArn }),
      ...(roleArn === undefined ? {} : { roleArn }),
      ...(instanceProfileArn === undefined ? {} : { instanceProfileArn }),
      ...(permissionsBoundary === undefined ? {} : { permissionsBoundary }),
    },
  };
}
