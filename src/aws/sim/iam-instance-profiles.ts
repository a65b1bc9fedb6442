import type {
  AddRoleToInstanceProfileRequest,
  CreateInstanceProfileRequest,
  CreateInstanceProfileResponse,
  DeleteInstanceProfileRequest,
  GetInstanceProfileRequest,
  GetInstanceProfileResponse,
  ListInstanceProfilesRequest,
  ListInstanceProfilesResponse,
  ListInstanceProfileTagsRequest,
  ListInstanceProfileTagsResponse,
  RemoveRoleFromInstanceProfileRequest,
  TagInstanceProfileRequest,
  UntagInstanceProfileRequest,
} from "@aws-sdk/client-iam";
import { iamError } from "./errors.js";
import { handler, type HandlerTable } from "./handlers.js";
import { iamPage, tagPage } from "./iam-listing.js";
import { profileNamed, roleNamed, type IamStore, type ProfileRecord } from "./iam-store.js";
import { required, validName, validPath, validPathPrefix } from "./iam-validation.js";
import { profileView } from "./iam-views.js";
import { byKey } from "./pagination.js";
import { TagSet } from "./tags.js";

const byName = byKey((profile: ProfileRecord) => profile.name.toLowerCase());

/** Every instance-profile operation: the profile itself, its tags and the role it holds. */
export function instanceProfileHandlers(store: IamStore): HandlerTable {
  return {
    ...profileLifecycleHandlers(store),
    ...profileTagHandlers(store),
    ...profileRoleHandlers(store),
  };
}

function profileLifecycleHandlers(store: IamStore): HandlerTable {
  return {
    CreateInstanceProfile: handler<CreateInstanceProfileRequest>((input) => createProfile(store, input)),

    GetInstanceProfile: handler<GetInstanceProfileRequest>((input): GetInstanceProfileResponse => ({
      InstanceProfile: profileView(store, profileNamed(store, input.InstanceProfileName), { tags: true }),
    })),

    ListInstanceProfiles: handler<ListInstanceProfilesRequest>((input): ListInstanceProfilesResponse => {
      const prefix = validPathPrefix(input.PathPrefix);
      const profiles = [...store.profiles.values()]
        .filter((profile) => profile.path.startsWith(prefix))
        .sort(byName);
      const { items, ...page } = iamPage(profiles, (profile) => profile.name.toLowerCase(), input);
      return {
        InstanceProfiles: items.map((profile) => profileView(store, profile, { tags: false })),
        ...page,
      };
    }),

    DeleteInstanceProfile: handler<DeleteInstanceProfileRequest>((input) => {
      const profile = profileNamed(store, input.InstanceProfileName);
      if (profile.role !== undefined) {
        throw iamError(
          "DeleteConflict",
          "Cannot delete entity, must remove roles from instance profile first.",
        );
      }
      // EC2 associations that use it stay, pointing at a profile that no longer exists, as on AWS.
      store.profiles.delete(profile.name.toLowerCase());
      return {};
    }),
  };
}

function createProfile(
  store: IamStore,
  input: Partial<CreateInstanceProfileRequest>,
): CreateInstanceProfileResponse {
  const name = validName(input.InstanceProfileName, "instanceProfileName", 128);
  const path = validPath(input.Path);
  const tags = new TagSet(input.Tags);
  if (store.profiles.has(name.toLowerCase())) {
    throw iamError("EntityAlreadyExists", `Instance Profile ${name} already exists.`);
  }
  const profile: ProfileRecord = {
    name,
    id: store.ids.iam("AIPA"),
    arn: store.arn("instance-profile", path, name),
    path,
    createDate: store.clock.now(),
    role: undefined,
    tags,
  };
  store.profiles.set(name.toLowerCase(), profile);
  return { InstanceProfile: profileView(store, profile, { tags: tags.size > 0 }) };
}

function profileTagHandlers(store: IamStore): HandlerTable {
  return {
    ListInstanceProfileTags: handler<ListInstanceProfileTagsRequest>(
      (input): ListInstanceProfileTagsResponse =>
        tagPage(profileNamed(store, input.InstanceProfileName).tags, input),
    ),

    TagInstanceProfile: handler<TagInstanceProfileRequest>((input) => {
      profileNamed(store, input.InstanceProfileName).tags.apply(input.Tags ?? []);
      return {};
    }),

    UntagInstanceProfile: handler<UntagInstanceProfileRequest>((input) => {
      profileNamed(store, input.InstanceProfileName).tags.remove(input.TagKeys);
      return {};
    }),
  };
}

function profileRoleHandlers(store: IamStore): HandlerTable {
  return {
    AddRoleToInstanceProfile: handler<AddRoleToInstanceProfileRequest>((input) => {
      const profile = profileNamed(store, input.InstanceProfileName);
      const role = roleNamed(store, input.RoleName);
      // Even the same role again: IAM counts the slot, not the role.
      if (profile.role !== undefined) {
        throw iamError("LimitExceeded", "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1");
      }
      profile.role = role.name.toLowerCase();
      return {};
    }),

    RemoveRoleFromInstanceProfile: handler<RemoveRoleFromInstanceProfileRequest>((input) => {
      const profile = profileNamed(store, input.InstanceProfileName);
      const roleName = required(input.RoleName, "roleName");
      if (profile.role !== roleName.toLowerCase()) {
        throw iamError(
          "NoSuchEntity",
          `The role with name ${roleName} cannot be found in instance profile ${profile.name}.`,
        );
      }
      profile.role = undefined;
      return {};
    }),
  };
}
