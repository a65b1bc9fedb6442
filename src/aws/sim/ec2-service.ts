import { associationHandlers } from "./ec2-associations.js";
import { instanceHandlers } from "./ec2-instances.js";
import type { Ec2Store } from "./ec2-store.js";
import type { HandlerTable } from "./handlers.js";
import type { IamStore } from "./iam-store.js";

/** Every EC2 operation the simulator answers; associations resolve profiles through the same account's IAM. */
export function ec2Handlers(store: Ec2Store, iam: IamStore): HandlerTable {
  return { ...instanceHandlers(store), ...associationHandlers(store, iam) };
}
