import type {
  CreateRoleRequest,
  CreateRoleResponse,
  DeleteRoleRequest,
  GetRoleRequest,
  GetRoleResponse,
  ListRoleTagsRequest,
  ListRoleTagsResponse,
  TagRoleRequest,
  UntagRoleRequest,
  UpdateAssumeRolePolicyRequest,
} from "@aws-sdk/client-iam";
import { iamError } from "./errors.js";
import { roleBoundaryHandlers, validBoundary } from "./iam-role-boundaries.js";
import { handler, type HandlerTable } from "./handlers.js";
import { tagPage } from "./iam-listing.js";
import { roleAttachmentHandlers } from "./iam-role-attachments.js";
import { roleInlinePolicyHandlers } from "./iam-role-inline-policies.js";
import { roleNamed, type IamStore, type RoleRecord } from "./iam-store.js";
import { validDescription, validName, validPath } from "./iam-validation.js";
import { roleView } from "./iam-views.js";
import { validateDocument } from "./policy-document.js";
import { TagSet } from "./tags.js";

export { maxAttachedPoliciesPerRole } from "./iam-role-attachments.js";

/** Every role operation: the role itself, its tags, its managed-policy attachments and its inline policies. */
export function roleHandlers(store: IamStore): HandlerTable {
  return {
    ...roleLifecycleHandlers(store),
    ...roleTagHandlers(store),
    ...roleBoundaryHandlers(store),
    ...roleAttachmentHandlers(store),
    ...roleInlinePolicyHandlers(store),
  };
}

function roleLifecycleHandlers(store: IamStore): HandlerTable {
  return {
    CreateRole: handler<CreateRoleRequest>((input) => createRole(store, input)),

    GetRole: handler<GetRoleRequest>((input): GetRoleResponse => ({
      Role: { ...roleView(roleNamed(store, input.RoleName), { tags: true }), RoleLastUsed: {} },
    })),

    UpdateAssumeRolePolicy: handler<UpdateAssumeRolePolicyRequest>((input) => {
      const role = roleNamed(store, input.RoleName);
      role.trustPolicy = validateDocument(input.PolicyDocument, "trust");
      return {};
    }),

    DeleteRole: handler<DeleteRoleRequest>((input) => {
      const role = roleNamed(store, input.RoleName);
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

function createRole(store: IamStore, input: Partial<CreateRoleRequest>): CreateRoleResponse {
  const name = validName(input.RoleName, "roleName", 64);
  const path = validPath(input.Path);
  const trustPolicy = validateDocument(input.AssumeRolePolicyDocument, "trust");
  const maxSessionDuration = validMaxSessionDuration(input.MaxSessionDuration);
  const description = validDescription(input.Description);
  const tags = new TagSet(input.Tags);
  const permissionsBoundary = validBoundary(store, input.PermissionsBoundary);
  if (store.roles.has(name.toLowerCase()))
    throw iamError("EntityAlreadyExists", `Role with name ${name} already exists.`);
  const role: RoleRecord = {
    name,
    id: store.ids.iam("AROA"),
    arn: store.arn("role", path, name),
    path,
    description,
    maxSessionDuration,
    createDate: store.clock.now(),
    trustPolicy,
    attached: new Set(),
    inline: new Map(),
    tags,
    permissionsBoundary,
  };
  store.roles.set(name.toLowerCase(), role);
  return { Role: roleView(role, { tags: tags.size > 0 }) };
}

/** MaxSessionDuration in seconds: one to twelve hours, one hour when absent. */
function validMaxSessionDuration(value: number | undefined): number {
  const seconds = value ?? 3600;
  if (!Number.isInteger(seconds) || seconds < 3600 || seconds > 43200) {
    throw iamError(
      "ValidationError",
      `1 validation error detected: Value '${seconds}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200`,
    );
  }
  return seconds;
}

function roleTagHandlers(store: IamStore): HandlerTable {
  return {
    ListRoleTags: handler<ListRoleTagsRequest>((input): ListRoleTagsResponse =>
      tagPage(roleNamed(store, input.RoleName).tags, input),
    ),

    TagRole: handler<TagRoleRequest>((input) => {
      roleNamed(store, input.RoleName).tags.apply(input.Tags ?? []);
      return {};
    }),

    UntagRole: handler<UntagRoleRequest>((input) => {
      roleNamed(store, input.RoleName).tags.remove(input.TagKeys);
      return {};
    }),
  };
}
