import type {
  DeleteRolePermissionsBoundaryRequest,
  PutRolePermissionsBoundaryRequest,
} from "@aws-sdk/client-iam";
import { iamError } from "./errors.js";
import { handler, type HandlerTable } from "./handlers.js";
import { roleNamed, type IamStore } from "./iam-store.js";
import { required } from "./iam-validation.js";

/**
 * A role's permissions boundary: the ARN of a managed policy that caps what the role can do. The policy must
 * exist (customer or AWS-managed); the simulator answers NoSuchEntity otherwise (AWS's exact answer to a missing
 * boundary is not modelled).
 */
export function validBoundary(store: IamStore, arn: string | undefined): string | undefined {
  if (arn === undefined) return undefined;
  if (store.findPolicy(arn) === undefined)
    throw iamError("NoSuchEntity", `Policy ${arn} does not exist or is not attachable.`);
  return arn;
}

export function roleBoundaryHandlers(store: IamStore): HandlerTable {
  return {
    PutRolePermissionsBoundary: handler<PutRolePermissionsBoundaryRequest>((input) => {
      const role = roleNamed(store, input.RoleName);
      role.permissionsBoundary = validBoundary(
        store,
        required(input.PermissionsBoundary, "permissionsBoundary"),
      );
      return {};
    }),

    DeleteRolePermissionsBoundary: handler<DeleteRolePermissionsBoundaryRequest>((input) => {
      roleNamed(store, input.RoleName).permissionsBoundary = undefined;
      return {};
    }),
  };
}
