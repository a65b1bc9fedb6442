import type { GetAccountAuthorizationDetailsCommandOutput } from "@aws-sdk/client-iam";
import { DetachRolePolicyCommand, GetAccountAuthorizationDetailsCommand } from "../sdk/client-iam.js";
import type { SimCloud } from "./sim-cloud.js";

export interface DriftLogger {
  warn(object: object, message: string): void;
}

/**
 * For the demo only: every so often, someone "detaches a policy by hand" from one of rolecall's roles in the
 * simulated account, so that /status shows drift being found and repaired at the next resync.
 */
export function startDemoDrift(sim: SimCloud, everyMs: number, logger: DriftLogger): () => void {
  let turn = 0;
  const timer = setInterval(() => {
    void (async () => {
      const details = (await sim.iam.send(
        new GetAccountAuthorizationDetailsCommand({ Filter: ["Role"] }),
      )) as GetAccountAuthorizationDetailsCommandOutput;
      const candidates = (details.RoleDetailList ?? []).filter(
        (role) =>
          (role.Tags ?? []).some((tag) => tag.Key === "rolecall.dev/managed-by") &&
          (role.AttachedManagedPolicies ?? []).length > 0,
      );
      const victim = candidates[turn % Math.max(1, candidates.length)];
      turn += 1;
      const policy = victim?.AttachedManagedPolicies?.[0];
      if (victim?.RoleName === undefined || policy?.PolicyArn === undefined) return;
      await sim.iam.send(
        new DetachRolePolicyCommand({ RoleName: victim.RoleName, PolicyArn: policy.PolicyArn }),
      );
      logger.warn(
        { role: victim.RoleName, policy: policy.PolicyName },
        "demo: detached a policy behind rolecall's back; the next resync finds and repairs it",
      );
    })();
  }, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
  };
}
