import type {
  DeleteRolePolicyRequest,
  GetRolePolicyRequest,
  GetRolePolicyResponse,
  ListRolePoliciesRequest,
  ListRolePoliciesResponse,
  PutRolePolicyRequest,
} from "@aws-sdk/client-iam";
import { iamError } from "./errors.js";
import { handler, type HandlerTable } from "./handlers.js";
import { iamPage } from "./iam-listing.js";
import { roleNamed, type IamStore, type RoleRecord } from "./iam-store.js";
import { required, validName } from "./iam-validation.js";
import { documentSize, encodeDocument, inlinePolicySizeLimit, validateDocument } from "./policy-document.js";

/** Inline policies embedded in roles. */
export function roleInlinePolicyHandlers(store: IamStore): HandlerTable {
  return {
    PutRolePolicy: handler<PutRolePolicyRequest>((input) => {
      const role = roleNamed(store, input.RoleName);
      const name = validName(input.PolicyName, "policyName", 128);
      const document = validateDocument(input.PolicyDocument, "inline");
      checkInlineQuota(role, name, document);
      // Inline names are matched case-insensitively here (a simulator choice); the first spelling is kept.
      const existing = role.inline.get(name.toLowerCase());
      role.inline.set(name.toLowerCase(), { name: existing?.name ?? name, document });
      return {};
    }),

    GetRolePolicy: handler<GetRolePolicyRequest>((input): GetRolePolicyResponse => {
      const role = roleNamed(store, input.RoleName);
      const name = required(input.PolicyName, "policyName");
      const inline = role.inline.get(name.toLowerCase());
      if (inline === undefined)
        throw iamError("NoSuchEntity", `The role policy with name ${name} cannot be found.`);
      return {
        RoleName: role.name,
        PolicyName: inline.name,
        PolicyDocument: encodeDocument(inline.document),
      };
    }),

    DeleteRolePolicy: handler<DeleteRolePolicyRequest>((input) => {
      const role = roleNamed(store, input.RoleName);
      const name = required(input.PolicyName, "policyName");
      if (!role.inline.delete(name.toLowerCase())) {
        throw iamError("NoSuchEntity", `The role policy with name ${name} cannot be found.`);
      }
      return {};
    }),

    ListRolePolicies: handler<ListRolePoliciesRequest>((input): ListRolePoliciesResponse => {
      const role = roleNamed(store, input.RoleName);
      const keys = [...role.inline.keys()].sort();
      const { items, ...page } = iamPage(keys, (key) => key, input);
      return { PolicyNames: items.map((key) => role.inline.get(key)?.name ?? key), ...page };
    }),
  };
}

/** The quota is on all of a role's inline documents together, with the one being put replacing its namesake. */
function checkInlineQuota(role: RoleRecord, name: string, document: string): void {
  const others = [...role.inline.entries()].filter(([key]) => key !== name.toLowerCase());
  const total = others.reduce(
    (sum, [, inline]) => sum + documentSize(inline.document),
    documentSize(document),
  );
  if (total > inlinePolicySizeLimit) {
    throw iamError(
      "LimitExceeded",
      `Maximum policy size of ${inlinePolicySizeLimit} bytes exceeded for role ${role.name}`,
    );
  }
}
