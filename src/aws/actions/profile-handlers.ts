import type { CreateInstanceProfileCommandOutput } from "@aws-sdk/client-iam";
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  DeleteInstanceProfileCommand,
  RemoveRoleFromInstanceProfileCommand,
  TagInstanceProfileCommand,
  UntagInstanceProfileCommand,
} from "../sdk/client-iam.js";
import { iamNameKey } from "../../desired/iam-names.js";
import type { ObservedInstanceProfile } from "../../observed/snapshot.js";
import { label } from "../../plan/labels.js";
import { AwsApiError } from "../aws-error.js";
import { readInstanceProfile } from "../iam-read.js";
import { done, tagList, type HandlerGroup } from "./handler.js";
import { createOrAdopt, ignoreNotFound } from "./recovery.js";

type ProfileKind =
  | "createInstanceProfile"
  | "tagInstanceProfile"
  | "untagInstanceProfile"
  | "addRoleToInstanceProfile"
  | "removeRoleFromInstanceProfile"
  | "deleteInstanceProfile";

export const profileHandlers: HandlerGroup<ProfileKind> = {
  async createInstanceProfile(action, context) {
    const resource = label.instanceProfile(action.profileName);
    const response = await createOrAdopt<ObservedInstanceProfile>({
      resource,
      manifest: action.manifest,
      create: async () => {
        const output = await context.iam.send<CreateInstanceProfileCommandOutput>(
          new CreateInstanceProfileCommand({
            InstanceProfileName: action.profileName,
            Path: action.path,
            Tags: tagList(action.tags),
          }),
          { resource },
        );
        const profile = output.InstanceProfile;
        return {
          kind: "created",
          arn: profile?.Arn ?? "",
          ...(profile?.InstanceProfileId === undefined ? {} : { id: profile.InstanceProfileId }),
          createdAt: context.now(),
        };
      },
      readExisting: () => readInstanceProfile(context.iam, action.profileName),
    });
    context.created.add("instanceProfile", action.profileName);
    return response;
  },

  async tagInstanceProfile(action, context) {
    await context.iam.send(
      new TagInstanceProfileCommand({ InstanceProfileName: action.profileName, Tags: tagList(action.tags) }),
      { resource: label.instanceProfile(action.profileName) },
    );
    return done;
  },

  async untagInstanceProfile(action, context) {
    await context.iam.send(
      new UntagInstanceProfileCommand({ InstanceProfileName: action.profileName, TagKeys: [...action.keys] }),
      { resource: label.instanceProfile(action.profileName) },
    );
    return done;
  },

  async addRoleToInstanceProfile(action, context) {
    try {
      await context.iam.send(
        new AddRoleToInstanceProfileCommand({
          InstanceProfileName: action.profileName,
          RoleName: action.roleName,
        }),
        {
          resource: label.instanceProfile(action.profileName),
          dependsOnNewResource:
            context.created.has("role", action.roleName) ||
            context.created.has("instanceProfile", action.profileName),
        },
      );
    } catch (error) {
      // "Cannot exceed quota for InstanceSessionsPerInstanceProfile": maybe our own earlier, unseen success.
      if (!(error instanceof AwsApiError && error.code === "LimitExceeded")) throw error;
      const existing = await readInstanceProfile(context.iam, action.profileName);
      if (!existing?.roleNames.some((name) => iamNameKey(name) === iamNameKey(action.roleName))) throw error;
    }
    return done;
  },

  removeRoleFromInstanceProfile: (action, context) =>
    ignoreNotFound(
      context.iam.send(
        new RemoveRoleFromInstanceProfileCommand({
          InstanceProfileName: action.profileName,
          RoleName: action.roleName,
        }),
        { resource: label.instanceProfile(action.profileName) },
      ),
    ),

  deleteInstanceProfile: (action, context) =>
    ignoreNotFound(
      context.iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: action.profileName }), {
        resource: label.instanceProfile(action.profileName),
      }),
    ),
};
