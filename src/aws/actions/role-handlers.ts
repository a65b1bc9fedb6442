import type { CreateRoleCommandOutput } from "@aws-sdk/client-iam";
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  PutRolePermissionsBoundaryCommand,
  TagRoleCommand,
  UntagRoleCommand,
  UpdateAssumeRolePolicyCommand,
} from "../sdk/client-iam.js";
import { policyNamed } from "../../observed/snapshot-lookup.js";
import type { ObservedRole } from "../../observed/snapshot.js";
import { label } from "../../plan/labels.js";
import { readRole } from "../iam-read.js";
import { done, json, tagList, type HandlerGroup } from "./handler.js";
import { createOrAdopt, ignoreNotFound } from "./recovery.js";

type RoleKind =
  | "createRole"
  | "putRolePermissionsBoundary"
  | "updateAssumeRolePolicy"
  | "tagRole"
  | "untagRole"
  | "attachRolePolicy"
  | "detachRolePolicy"
  | "deleteRolePolicy"
  | "deleteRole";

export const roleHandlers: HandlerGroup<RoleKind> = {
  async createRole(action, context) {
    const resource = label.role(action.roleName);
    const response = await createOrAdopt<ObservedRole>({
      resource,
      manifest: action.manifest,
      create: async () => {
        const output = await context.iam.send<CreateRoleCommandOutput>(
          new CreateRoleCommand({
            RoleName: action.roleName,
            Path: action.path,
            AssumeRolePolicyDocument: json(action.trustPolicy),
            Description: action.description,
            Tags: tagList(action.tags),
            ...(action.permissionsBoundary === undefined
              ? {}
              : { PermissionsBoundary: action.permissionsBoundary }),
          }),
          { resource },
        );
        return { kind: "created", arn: output.Role?.Arn ?? "", createdAt: context.now() };
      },
      readExisting: () => readRole(context.iam, action.roleName),
    });
    context.created.add("role", action.roleName);
    return response;
  },

  async putRolePermissionsBoundary(action, context) {
    await context.iam.send(
      new PutRolePermissionsBoundaryCommand({
        RoleName: action.roleName,
        PermissionsBoundary: action.boundaryArn,
      }),
      { resource: label.role(action.roleName) },
    );
    return done;
  },

  async updateAssumeRolePolicy(action, context) {
    await context.iam.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: action.roleName,
        PolicyDocument: json(action.trustPolicy),
      }),
      { resource: label.role(action.roleName) },
    );
    return done;
  },

  async tagRole(action, context) {
    await context.iam.send(new TagRoleCommand({ RoleName: action.roleName, Tags: tagList(action.tags) }), {
      resource: label.role(action.roleName),
    });
    return done;
  },

  async untagRole(action, context) {
    await context.iam.send(new UntagRoleCommand({ RoleName: action.roleName, TagKeys: [...action.keys] }), {
      resource: label.role(action.roleName),
    });
    return done;
  },

  async attachRolePolicy(action, context) {
    const arn = action.policyArn ?? policyNamed(context.state, action.policyName)?.arn;
    if (arn === undefined || arn === "")
      throw new Error(`policy ${action.policyName} has no known ARN; it was not created`);
    await context.iam.send(new AttachRolePolicyCommand({ RoleName: action.roleName, PolicyArn: arn }), {
      resource: label.role(action.roleName),
      dependsOnNewResource:
        context.created.has("policy", action.policyName) || context.created.has("role", action.roleName),
    });
    return done;
  },

  detachRolePolicy: (action, context) =>
    ignoreNotFound(
      context.iam.send(
        new DetachRolePolicyCommand({ RoleName: action.roleName, PolicyArn: action.policyArn }),
        {
          resource: label.role(action.roleName),
        },
      ),
    ),

  deleteRolePolicy: (action, context) =>
    ignoreNotFound(
      context.iam.send(
        new DeleteRolePolicyCommand({ RoleName: action.roleName, PolicyName: action.inlinePolicyName }),
        {
          resource: label.role(action.roleName),
        },
      ),
    ),

  deleteRole: (action, context) =>
    ignoreNotFound(
      context.iam.send(new DeleteRoleCommand({ RoleName: action.roleName }), {
        resource: label.role(action.roleName),
      }),
    ),
};
