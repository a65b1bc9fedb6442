import type {
  GetAccountAuthorizationDetailsRequest,
  GetAccountAuthorizationDetailsResponse,
  ManagedPolicyDetail,
  RoleDetail,
} from "@aws-sdk/client-iam";
import { iamError } from "./errors.js";
import { handler, type HandlerTable } from "./handlers.js";
import { iamPage } from "./iam-listing.js";
import type { IamStore, PolicyRecord, RoleRecord } from "./iam-store.js";
import { policyDetailView, roleDetailView } from "./iam-views.js";
import { byKey } from "./pagination.js";

const entityTypes = new Set(["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"]);

type Entry =
  | { readonly key: string; readonly role: RoleRecord }
  | { readonly key: string; readonly policy: PolicyRecord };

/**
 * GetAccountAuthorizationDetails: one listing of roles then customer-managed policies (this account has no users,
 * groups or AWS-managed policies), paged together by MaxItems, as IAM pages all entity types as one sequence.
 */
export function authorizationDetailsHandlers(store: IamStore): HandlerTable {
  return {
    GetAccountAuthorizationDetails: handler<GetAccountAuthorizationDetailsRequest>(
      (input): GetAccountAuthorizationDetailsResponse => {
        const filter = input.Filter ?? [];
        for (const type of filter) {
          if (!entityTypes.has(type)) {
            throw iamError(
              "ValidationError",
              `1 validation error detected: Value '[${filter.join(", ")}]' at 'filter' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]]`,
            );
          }
        }
        const wants = (type: string) =>
          filter.length === 0 || filter.includes(type as (typeof filter)[number]);
        const entries: Entry[] = [];
        if (wants("Role")) {
          for (const role of store.roles.values())
            entries.push({ key: `3:${role.name.toLowerCase()}`, role });
        }
        if (wants("LocalManagedPolicy")) {
          for (const policy of store.policies.values())
            entries.push({ key: `4:${policy.name.toLowerCase()}`, policy });
        }
        const { items, ...page } = iamPage(
          entries.sort(byKey((entry: Entry) => entry.key)),
          (entry) => entry.key,
          input,
        );
        const roles: RoleDetail[] = [];
        const policies: ManagedPolicyDetail[] = [];
        for (const entry of items) {
          if ("role" in entry) roles.push(roleDetailView(store, entry.role));
          else policies.push(policyDetailView(store, entry.policy));
        }
        return {
          UserDetailList: [],
          GroupDetailList: [],
          RoleDetailList: roles,
          Policies: policies,
          ...page,
        };
      },
    ),
  };
}
