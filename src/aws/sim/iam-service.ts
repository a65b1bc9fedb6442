import type { HandlerTable } from "./handlers.js";
import { authorizationDetailsHandlers } from "./iam-authorization-details.js";
import { instanceProfileHandlers } from "./iam-instance-profiles.js";
import { policyHandlers } from "./iam-policies.js";
import { roleHandlers } from "./iam-roles.js";
import type { IamStore } from "./iam-store.js";

/** Every IAM operation the simulator answers. */
export function iamHandlers(store: IamStore): HandlerTable {
  return {
    ...authorizationDetailsHandlers(store),
    ...policyHandlers(store),
    ...roleHandlers(store),
    ...instanceProfileHandlers(store),
  };
}
