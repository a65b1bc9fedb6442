import type {
  AttachRolePolicyRequest,
  DetachRolePolicyRequest,
  ListAttachedRolePoliciesRequest,
  ListAttachedRolePoliciesResponse,
} from "@aws-sdk/client-iam";
import { iamError } from "./errors.js";
import { handler, type HandlerTable } from "./handlers.js";
import { iamPage } from "./iam-listing.js";
import { roleNamed, type IamStore } from "./iam-store.js";
import { required, validPathPrefix } from "./iam-validation.js";
import { attachedPolicies, attachedView } from "./iam-views.js";

/** The default quota of managed policies attached to one role. */
export const maxAttachedPoliciesPerRole = 10;

/** Managed policies (the account's or AWS's) attached to roles. */
export function roleAttachmentHandlers(store: IamStore): HandlerTable {
  return {
    AttachRolePolicy: handler<AttachRolePolicyRequest>((input) => {
      const role = roleNamed(store, input.RoleName);
      const policy = store.policy(required(input.PolicyArn, "policyArn"));
      const key = store.attachmentKey(policy);
      if (!role.attached.has(key) && role.attached.size >= maxAttachedPoliciesPerRole) {
        throw iamError(
          "LimitExceeded",
          `Cannot exceed quota for PoliciesPerRole: ${maxAttachedPoliciesPerRole}`,
        );
      }
      role.attached.add(key);
      return {};
    }),

    DetachRolePolicy: handler<DetachRolePolicyRequest>((input) => {
      const role = roleNamed(store, input.RoleName);
      const arn = required(input.PolicyArn, "policyArn");
      const policy = store.findPolicy(arn);
      if (policy === undefined || !role.attached.has(store.attachmentKey(policy))) {
        throw iamError("NoSuchEntity", `Policy ${arn} was not found.`);
      }
      role.attached.delete(store.attachmentKey(policy));
      return {};
    }),

    ListAttachedRolePolicies: handler<ListAttachedRolePoliciesRequest>(
      (input): ListAttachedRolePoliciesResponse => {
        const role = roleNamed(store, input.RoleName);
        const prefix = validPathPrefix(input.PathPrefix);
        const policies = attachedPolicies(store, role).filter((policy) => policy.path.startsWith(prefix));
        const { items, ...page } = iamPage(policies, (policy) => policy.name.toLowerCase(), input);
        return { AttachedPolicies: items.map(attachedView), ...page };
      },
    ),
  };
}
