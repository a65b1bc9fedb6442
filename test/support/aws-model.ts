import type { ActionExecutor } from "../../src/aws/aws-action-executor.js";
import { OwnershipError } from "../../src/aws/aws-action-executor.js";
import { iamNameKey } from "../../src/desired/iam-names.js";
import { readOwnership, type Tags } from "../../src/desired/ownership.js";
import { mergeTags, type SnapshotWriter } from "../../src/observed/snapshot-writer.js";
import { nameFromArn } from "../../src/observed/snapshot.js";
import type { Action } from "../../src/plan/action.js";
import { policyArn, profileArn, roleArn } from "./desired-fixtures.js";

const notFoundCodes = new Set(["NoSuchEntity", "InvalidAssociationID.NotFound"]);
const toleratesNotFound = new Set<Action["kind"]>([
  "deletePolicyVersion",
  "deletePolicy",
  "detachRolePolicy",
  "deleteRolePolicy",
  "deleteRole",
  "removeRoleFromInstanceProfile",
  "deleteInstanceProfile",
  "disassociateInstanceProfile",
]);

/** An AWS refusal in the model, named by the code AWS would give. */
export class ModelAwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = "ModelAwsError";
  }
}

/**
 * A small model of IAM and EC2 over a SnapshotWriter that holds the whole truth (every tag known). It enforces
 * the rules that make AWS refuse a call: deleting what is still attached or held, a sixth policy version, a
 * second role in a profile, associating an instance that already has a profile, using what does not exist.
 * Version and association IDs come from a counter, so runs are deterministic.
 */
export class ModelExecutor implements ActionExecutor {
  private counter = 0;

  execute(action: Action, state: SnapshotWriter): Promise<void> {
    try {
      this.apply(action, state);
      return Promise.resolve();
    } catch (error) {
      // As AwsActionExecutor does: removing what is already gone has succeeded.
      if (
        error instanceof ModelAwsError &&
        notFoundCodes.has(error.code) &&
        toleratesNotFound.has(action.kind)
      )
        return Promise.resolve();
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private apply(action: Action, state: SnapshotWriter): void {
    const fail = (code: string, message: string): never => {
      throw new ModelAwsError(code, `${action.kind}: ${message}`);
    };
    const policyAt = (arn: string) => {
      const policy = state.policyByArn(arn);
      return policy?.arn === arn ? policy : fail("NoSuchEntity", `no policy ${arn}`);
    };
    const roleNamed = (name: string) => state.role(name) ?? fail("NoSuchEntity", `no role ${name}`);
    const profileNamed = (name: string) => state.profile(name) ?? fail("NoSuchEntity", `no profile ${name}`);
    const checkOwner = (
      arn: string,
      expected: { manifest: string; deletionPolicy?: "delete" } | undefined,
    ) => {
      if (expected === undefined) return;
      const ownership = readOwnership(policyAt(arn).tags ?? {});
      if (!ownership.managed || ownership.manifest !== expected.manifest)
        throw new OwnershipError(arn, "not this manifest's");
      if (expected.deletionPolicy !== undefined && ownership.deletionPolicy !== expected.deletionPolicy)
        throw new OwnershipError(arn, "deletion policy differs");
    };
    const allRoles = () => [...state.snapshot().roles.values()];
    const allProfiles = () => [...state.snapshot().instanceProfiles.values()];
    const same = (a: string, b: string) => iamNameKey(a) === iamNameKey(b);

    switch (action.kind) {
      case "createPolicy":
        if (state.policy(action.policyName) !== undefined) fail("EntityAlreadyExists", action.policyName);
        state.putPolicy({
          name: action.policyName,
          arn: policyArn(action.policyName, action.path),
          path: action.path,
          description: action.description,
          document: action.document,
          defaultVersionId: "v1",
          versions: [{ id: "v1", isDefault: true, createdAt: this.tick() }],
          tags: action.tags,
        });
        return;
      case "createPolicyVersion": {
        checkOwner(action.policyArn, action.expectOwner);
        const policy = policyAt(action.policyArn);
        if (policy.versions.length >= 5) fail("LimitExceeded", "five versions already");
        const id = `v${this.tick()}`;
        state.putPolicy({
          ...policy,
          document: action.document,
          defaultVersionId: id,
          versions: [
            ...policy.versions.map((version) => ({ ...version, isDefault: false })),
            { id, isDefault: true, createdAt: this.tick() },
          ],
        });
        return;
      }
      case "deletePolicyVersion": {
        checkOwner(action.policyArn, action.expectOwner);
        const policy = policyAt(action.policyArn);
        const version = policy.versions.find((item) => item.id === action.versionId);
        if (version === undefined) fail("NoSuchEntity", action.versionId);
        if (version?.isDefault === true) fail("DeleteConflict", "the default version");
        state.putPolicy({
          ...policy,
          versions: policy.versions.filter((item) => item.id !== action.versionId),
        });
        return;
      }
      case "deletePolicy": {
        checkOwner(action.policyArn, action.expectOwner);
        const policy = policyAt(action.policyArn);
        const holders = allRoles().filter((role) => role.attachedPolicyArns.includes(policy.arn));
        if (holders.length > 0)
          fail(
            "DeleteConflict",
            `${policy.name} is attached to ${holders.map((role) => role.name).join(", ")}`,
          );
        if (policy.versions.some((version) => !version.isDefault))
          fail("DeleteConflict", `${policy.name} has other versions`);
        state.removePolicy(policy.arn);
        return;
      }
      case "tagPolicy":
      case "untagPolicy": {
        const policy = policyAt(action.policyArn);
        const tags: Tags =
          action.kind === "tagPolicy"
            ? mergeTags(policy.tags, action.tags)
            : mergeTags(policy.tags, {}, action.keys);
        state.putPolicy({ ...policy, tags });
        return;
      }
      case "createRole":
        if (state.role(action.roleName) !== undefined) fail("EntityAlreadyExists", action.roleName);
        state.putRole({
          name: action.roleName,
          arn: roleArn(action.roleName, action.path),
          path: action.path,
          trustPolicy: action.trustPolicy,
          attachedPolicyArns: [],
          inlinePolicyNames: [],
          tags: action.tags,
        });
        return;
      case "updateAssumeRolePolicy":
        state.putRole({ ...roleNamed(action.roleName), trustPolicy: action.trustPolicy });
        return;
      case "tagRole":
        state.putRole({
          ...roleNamed(action.roleName),
          tags: mergeTags(roleNamed(action.roleName).tags, action.tags),
        });
        return;
      case "untagRole":
        state.putRole({
          ...roleNamed(action.roleName),
          tags: mergeTags(roleNamed(action.roleName).tags, {}, action.keys),
        });
        return;
      case "attachRolePolicy": {
        const role = roleNamed(action.roleName);
        const arn =
          action.policyArn ?? state.policy(action.policyName)?.arn ?? fail("NoSuchEntity", action.policyName);
        if (!arn.includes(":aws:policy/")) policyAt(arn);
        state.putRole({ ...role, attachedPolicyArns: [...new Set([...role.attachedPolicyArns, arn])] });
        return;
      }
      case "detachRolePolicy": {
        const role = roleNamed(action.roleName);
        if (!role.attachedPolicyArns.includes(action.policyArn)) fail("NoSuchEntity", "not attached");
        state.putRole({
          ...role,
          attachedPolicyArns: role.attachedPolicyArns.filter((arn) => arn !== action.policyArn),
        });
        return;
      }
      case "deleteRolePolicy": {
        const role = roleNamed(action.roleName);
        state.putRole({
          ...role,
          inlinePolicyNames: role.inlinePolicyNames.filter((name) => name !== action.inlinePolicyName),
        });
        return;
      }
      case "deleteRole": {
        const role = roleNamed(action.roleName);
        if (role.attachedPolicyArns.length > 0) fail("DeleteConflict", `${role.name} has attached policies`);
        if (role.inlinePolicyNames.length > 0) fail("DeleteConflict", `${role.name} has inline policies`);
        const holders = allProfiles().filter((profile) =>
          profile.roleNames.some((name) => same(name, role.name)),
        );
        if (holders.length > 0)
          fail("DeleteConflict", `${role.name} is in ${holders.map((p) => p.name).join(", ")}`);
        state.removeRole(role.name);
        return;
      }
      case "createInstanceProfile":
        if (state.profile(action.profileName) !== undefined) fail("EntityAlreadyExists", action.profileName);
        state.putProfile({
          name: action.profileName,
          arn: profileArn(action.profileName, action.path),
          path: action.path,
          roleNames: [],
          tags: action.tags,
        });
        return;
      case "tagInstanceProfile":
      case "untagInstanceProfile": {
        const profile = profileNamed(action.profileName);
        const tags =
          action.kind === "tagInstanceProfile"
            ? mergeTags(profile.tags, action.tags)
            : mergeTags(profile.tags, {}, action.keys);
        state.putProfile({ ...profile, tags });
        return;
      }
      case "addRoleToInstanceProfile": {
        const profile = profileNamed(action.profileName);
        const role = roleNamed(action.roleName);
        if (profile.roleNames.some((name) => same(name, role.name))) return; // the executor accepts this
        if (profile.roleNames.length > 0) fail("LimitExceeded", `${profile.name} already holds a role`);
        state.putProfile({ ...profile, roleNames: [role.name] });
        return;
      }
      case "removeRoleFromInstanceProfile": {
        const profile = profileNamed(action.profileName);
        if (!profile.roleNames.some((name) => same(name, action.roleName)))
          fail("NoSuchEntity", "role not in profile");
        state.putProfile({
          ...profile,
          roleNames: profile.roleNames.filter((name) => !same(name, action.roleName)),
        });
        return;
      }
      case "deleteInstanceProfile": {
        const profile = profileNamed(action.profileName);
        if (profile.roleNames.length > 0) fail("DeleteConflict", `${profile.name} still holds a role`);
        const users = [...state.snapshot().associations.values()].filter((association) =>
          same(nameFromArn(association.profileArn), profile.name),
        );
        // AWS lets a profile in use be deleted, but the instances keep a dangling association: count it as an error.
        if (users.length > 0)
          fail(
            "ProfileInUse",
            `${profile.name} is associated with ${users.map((u) => u.instanceId).join(", ")}`,
          );
        state.removeProfile(profile.name);
        return;
      }
      case "associateInstanceProfile":
      case "replaceInstanceProfileAssociation": {
        const profile = profileNamed(action.profileName);
        if (profile.roleNames.length === 0)
          fail("InvalidParameterValue", `${profile.name} has no associated IAM Roles`);
        const current = state.association(action.instanceId);
        if (action.kind === "associateInstanceProfile" && current !== undefined) {
          if (same(nameFromArn(current.profileArn), profile.name)) return; // the executor accepts this
          fail("IncorrectState", `There is an existing association for instance ${action.instanceId}`);
        }
        if (
          action.kind === "replaceInstanceProfileAssociation" &&
          current?.associationId !== action.associationId
        )
          fail("InvalidAssociationID.NotFound", action.associationId);
        state.putAssociation({
          associationId: `iip-assoc-model-${this.tick()}`,
          instanceId: action.instanceId,
          profileArn: profile.arn,
          state: "associated",
        });
        return;
      }
      case "disassociateInstanceProfile": {
        const current = state.association(action.instanceId);
        if (current?.associationId !== action.associationId)
          fail("InvalidAssociationID.NotFound", action.associationId);
        state.removeAssociation(action.instanceId);
        return;
      }
    }
  }

  private tick(): number {
    this.counter += 1;
    return 10_000 + this.counter;
  }
}
