import type {
  AttachRolePolicyRequest,
  CreateRoleRequest,
  CreateRoleResponse,
  DeleteRolePolicyRequest,
  DeleteRoleRequest,
  DetachRolePolicyRequest,
  GetRolePolicyRequest,
  GetRolePolicyResponse,
  GetRoleRequest,
  GetRoleResponse,
  ListAttachedRolePoliciesRequest,
  ListAttachedRolePoliciesResponse,
  ListRolePoliciesRequest,
  ListRolePoliciesResponse,
  ListRoleTagsRequest,
  ListRoleTagsResponse,
  PutRolePolicyRequest,
  TagRoleRequest,
  UntagRoleRequest,
  UpdateAssumeRolePolicyRequest,
} from "@aws-sdk/client-iam";
import { iamError } from "./errors.js";
import { handler, type HandlerTable } from "./handlers.js";
import { iamPage, tagPage } from "./iam-listing.js";
import type { IamStore, RoleRecord } from "./iam-store.js";
import { required, validName, validPath, validPathPrefix } from "./iam-validation.js";
import { attachedPolicies, attachedView, roleView } from "./iam-views.js";
import { documentSize, encodeDocument, inlinePolicySizeLimit, validateDocument } from "./policy-document.js";
import { TagSet } from "./tags.js";

/** The default quota of managed policies attached to one role. */
export const maxAttachedPoliciesPerRole = 10;

export function roleHandlers(store: IamStore): HandlerTable {
  const roleNamed = (name: string | undefined): RoleRecord => store.role(required(name, "roleName"));

  return {
    CreateRole: handler<CreateRoleRequest>((input): CreateRoleResponse => {
      const name = validName(input.RoleName, "roleName", 64);
      const path = validPath(input.Path);
      const trustPolicy = validateDocument(input.AssumeRolePolicyDocument, "trust");
      const maxSessionDuration = input.MaxSessionDuration ?? 3600;
      if (!Number.isInteger(maxSessionDuration) || maxSessionDuration < 3600 || maxSessionDuration > 43200) {
        throw iamError(
          "ValidationError",
          `1 validation error detected: Value '${maxSessionDuration}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200`,
        );
      }
      if (input.Description !== undefined && input.Description.length > 1000) {
        throw iamError(
          "ValidationError",
          "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000",
        );
      }
      const tags = new TagSet(input.Tags);
      if (store.roles.has(name.toLowerCase()))
        throw iamError("EntityAlreadyExists", `Role with name ${name} already exists.`);
      const role: RoleRecord = {
        name,
        id: store.ids.iam("AROA"),
        arn: store.arn("role", path, name),
        path,
        description: input.Description,
        maxSessionDuration,
        createDate: store.clock.now(),
        trustPolicy,
        attached: new Set(),
        inline: new Map(),
        tags,
      };
      store.roles.set(name.toLowerCase(), role);
      return { Role: roleView(role, { tags: tags.size > 0 }) };
    }),

    GetRole: handler<GetRoleRequest>((input): GetRoleResponse => ({
      Role: { ...roleView(roleNamed(input.RoleName), { tags: true }), RoleLastUsed: {} },
    })),

    ListRoleTags: handler<ListRoleTagsRequest>((input): ListRoleTagsResponse =>
      tagPage(roleNamed(input.RoleName).tags, input),
    ),

    TagRole: handler<TagRoleRequest>((input) => {
      roleNamed(input.RoleName).tags.apply(input.Tags ?? []);
      return {};
    }),

    UntagRole: handler<UntagRoleRequest>((input) => {
      roleNamed(input.RoleName).tags.remove(input.TagKeys);
      return {};
    }),

    UpdateAssumeRolePolicy: handler<UpdateAssumeRolePolicyRequest>((input) => {
      const role = roleNamed(input.RoleName);
      role.trustPolicy = validateDocument(input.PolicyDocument, "trust");
      return {};
    }),

    AttachRolePolicy: handler<AttachRolePolicyRequest>((input) => {
      const role = roleNamed(input.RoleName);
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
      const role = roleNamed(input.RoleName);
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
        const role = roleNamed(input.RoleName);
        const prefix = validPathPrefix(input.PathPrefix);
        const policies = attachedPolicies(store, role).filter((policy) => policy.path.startsWith(prefix));
        const { items, ...page } = iamPage(policies, (policy) => policy.name.toLowerCase(), input);
        return { AttachedPolicies: items.map(attachedView), ...page };
      },
    ),

    PutRolePolicy: handler<PutRolePolicyRequest>((input) => {
      const role = roleNamed(input.RoleName);
      const name = validName(input.PolicyName, "policyName", 128);
      const document = validateDocument(input.PolicyDocument, "inline");
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
      // Inline names are matched case-insensitively here (a simulator choice); the first spelling is kept.
      const existing = role.inline.get(name.toLowerCase());
      role.inline.set(name.toLowerCase(), { name: existing?.name ?? name, document });
      return {};
    }),

    GetRolePolicy: handler<GetRolePolicyRequest>((input): GetRolePolicyResponse => {
      const role = roleNamed(input.RoleName);
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
      const role = roleNamed(input.RoleName);
      const name = required(input.PolicyName, "policyName");
      if (!role.inline.delete(name.toLowerCase())) {
        throw iamError("NoSuchEntity", `The role policy with name ${name} cannot be found.`);
      }
      return {};
    }),

    ListRolePolicies: handler<ListRolePoliciesRequest>((input): ListRolePoliciesResponse => {
      const role = roleNamed(input.RoleName);
      const keys = [...role.inline.keys()].sort();
      const { items, ...page } = iamPage(keys, (key) => key, input);
      return { PolicyNames: items.map((key) => role.inline.get(key)?.name ?? key), ...page };
    }),

    DeleteRole: handler<DeleteRoleRequest>((input) => {
      const role = roleNamed(input.RoleName);
      if (store.profilesOf(role).length > 0) {
        throw iamError(
          "DeleteConflict",
          "Cannot delete entity, must remove roles from instance profile first.",
        );
      }
      if (role.attached.size > 0)
        throw iamError("DeleteConflict", "Cannot delete entity, must detach all policies first.");
      if (role.inline.size > 0)
        throw iamError("DeleteConflict", "Cannot delete entity, must delete policies first.");
      store.roles.delete(role.name.toLowerCase());
      return {};
    }),
  };
}
