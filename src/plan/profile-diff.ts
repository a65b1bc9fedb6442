import { sameIamName } from "../desired/iam-names.js";
import type { ObservedInstanceProfile } from "../observed/snapshot.js";
import { takeoverTags, type ChainWork } from "./chain-work.js";
import { show } from "./labels.js";
import { tagActions, tagChanges, tagReason } from "./tag-changes.js";

/** Instance profile: exists and holds exactly the manifest's role. */
export function diffProfile(work: ChainWork): void {
  const { spec, manifest } = work;
  const { profile, labels } = work.chain;
  const roleName = work.chain.role?.name ?? spec.role.name;
  if (profile === undefined) {
    const reason = {
      resource: labels.instanceProfile,
      field: "exists",
      desired: "present",
      actual: "absent",
    };
    work.want(reason, {
      kind: "createInstanceProfile",
      manifest,
      reason,
      profileName: spec.instanceProfile.name,
      path: spec.instanceProfile.path,
      tags: spec.tags,
    });
  } else {
    diffProfileTags(work, profile);
    for (const held of profile.roleNames) {
      if (sameIamName(held, roleName)) continue;
      const reason = {
        resource: labels.instanceProfile,
        field: "roles",
        desired: show([roleName]),
        actual: show(profile.roleNames),
      };
      work.want(reason, {
        kind: "removeRoleFromInstanceProfile",
        manifest,
        reason,
        profileName: profile.name,
        roleName: held,
      });
    }
  }
  if (profile !== undefined && profile.roleNames.some((held) => sameIamName(held, roleName))) return;
  const reason = {
    resource: labels.instanceProfile,
    field: "roles",
    desired: show([roleName]),
    actual: show(profile?.roleNames ?? []),
  };
  const profileName = profile?.name ?? spec.instanceProfile.name;
  work.want(reason, { kind: "addRoleToInstanceProfile", manifest, reason, profileName, roleName });
}

function diffProfileTags(work: ChainWork, profile: ObservedInstanceProfile): void {
  const [, , profileClaim] = work.chain.claims;
  const found = tagChanges(profile.tags, work.spec.tags);
  const changes =
    profileClaim?.kind === "takeover"
      ? { set: takeoverTags(work.spec, profile.path), remove: found.remove }
      : found;
  const reason = tagReason(work.chain.labels.instanceProfile, work.spec.tags, profile.tags);
  const target = { kind: "instanceProfile" as const, profileName: profile.name };
  for (const action of tagActions(work.manifest, target, changes, reason)) work.want(reason, action);
}
