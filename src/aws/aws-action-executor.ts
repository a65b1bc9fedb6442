import {
  AssociateIamInstanceProfileCommand,
  DisassociateIamInstanceProfileCommand,
  ReplaceIamInstanceProfileAssociationCommand,
  type AssociateIamInstanceProfileCommandOutput,
  type ReplaceIamInstanceProfileAssociationCommandOutput,
} from "@aws-sdk/client-ec2";
import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  CreateInstanceProfileCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  DeleteInstanceProfileCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
  TagInstanceProfileCommand,
  TagPolicyCommand,
  TagRoleCommand,
  UntagInstanceProfileCommand,
  UntagPolicyCommand,
  UntagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  type CreateInstanceProfileCommandOutput,
  type CreatePolicyCommandOutput,
  type CreatePolicyVersionCommandOutput,
  type CreateRoleCommandOutput,
} from "@aws-sdk/client-iam";
import { readOwnership, type Tags } from "../desired/ownership.js";
import { label } from "../plan/labels.js";
import { policiesEqual } from "../plan/policy-equality.js";
import { mergeTags, type SnapshotWriter } from "../observed/snapshot-writer.js";
import type { PolicyDocument } from "../desired/policy-document.js";
import type { Action, OwnershipExpectation } from "../plan/action.js";
import type { AwsCaller } from "./aws-caller.js";
import { AwsApiError } from "./aws-error.js";
import { describeAssociations } from "./ec2-read.js";
import {
  findPolicyArn,
  readInstanceProfile,
  readPolicy,
  readPolicyTags,
  readRole,
  toObservedProfile,
} from "./iam-read.js";

/** Carries out one planned action; the engine's only way to change AWS. */
export interface ActionExecutor {
  execute(action: Action, state: SnapshotWriter, created: CreatedInPass): Promise<void>;
}

/** Names created during the current pass, so calls that use them wait out IAM propagation. */
export class CreatedInPass {
  private readonly names = new Set<string>();
  add(kind: string, name: string): void {
    this.names.add(`${kind}:${name.toLowerCase()}`);
  }
  has(kind: string, name: string): boolean {
    return this.names.has(`${kind}:${name.toLowerCase()}`);
  }
}

/** A change refused because the resource is not, or no longer, rolecall's (or this manifest's). */
export class OwnershipError extends Error {
  readonly code = "NotOwned";
  constructor(
    readonly resource: string,
    message: string,
  ) {
    super(`${resource}: ${message}`);
    this.name = "OwnershipError";
  }
}

const tagList = (tags: Tags) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
const json = (document: unknown) => JSON.stringify(document);

/** Executes actions with the AWS SDK clients, resolving conflicts by re-reading instead of failing blindly. */
export class AwsActionExecutor implements ActionExecutor {
  constructor(
    private readonly iam: AwsCaller,
    private readonly ec2: AwsCaller,
  ) {}

  async execute(action: Action, state: SnapshotWriter, created: CreatedInPass): Promise<void> {
    const iam = this.iam;
    switch (action.kind) {
      case "createPolicy": {
        const resource = label.policy(action.policyName);
        try {
          const output = await iam.send<CreatePolicyCommandOutput>(
            new CreatePolicyCommand({
              PolicyName: action.policyName,
              Path: action.path,
              PolicyDocument: json(action.document),
              Description: action.description,
              Tags: tagList(action.tags),
            }),
            { resource },
          );
          const arn = output.Policy?.Arn ?? "";
          state.putPolicy({
            name: action.policyName,
            arn,
            path: action.path,
            description: action.description,
            document: action.document,
            defaultVersionId: output.Policy?.DefaultVersionId ?? "v1",
            versions: [
              { id: output.Policy?.DefaultVersionId ?? "v1", isDefault: true, createdAt: Date.now() },
            ],
            tags: action.tags,
          });
        } catch (error) {
          if (!isConflict(error)) throw error;
          // An earlier attempt may have succeeded unseen (a dropped response): adopt it if it is ours.
          const arn = await findPolicyArn(iam, action.policyName);
          const existing = arn === undefined ? undefined : await readPolicy(iam, arn);
          if (existing === undefined) throw error;
          this.requireOwner(resource, existing.tags, action.manifest);
          state.putPolicy(existing);
          if (!policiesEqual(existing.document, action.document)) {
            const versionId = await this.createDefaultVersion(existing.arn, action.document, resource);
            state.putPolicy({
              ...existing,
              document: action.document,
              defaultVersionId: versionId,
              versions: [
                ...existing.versions.map((version) => ({ ...version, isDefault: false })),
                { id: versionId, isDefault: true, createdAt: Date.now() },
              ],
            });
          }
        }
        created.add("policy", action.policyName);
        return;
      }
      case "createPolicyVersion": {
        await this.confirmPolicyOwner(action.policyArn, action.expectOwner);
        const versionId = await this.createDefaultVersion(
          action.policyArn,
          action.document,
          label.policy(action.policyName),
        );
        state.updatePolicy(action.policyArn, (policy) => ({
          ...policy,
          document: action.document,
          defaultVersionId: versionId,
          versions: [
            ...policy.versions.map((version) => ({ ...version, isDefault: false })),
            { id: versionId, isDefault: true, createdAt: Date.now() },
          ],
        }));
        return;
      }
      case "deletePolicyVersion": {
        if (!(await this.confirmPolicyOwner(action.policyArn, action.expectOwner))) {
          state.removePolicy(action.policyArn);
          return;
        }
        await ignoreNotFound(
          iam.send(
            new DeletePolicyVersionCommand({ PolicyArn: action.policyArn, VersionId: action.versionId }),
            { resource: action.policyArn },
          ),
        );
        state.updatePolicy(action.policyArn, (policy) => ({
          ...policy,
          versions: policy.versions.filter((version) => version.id !== action.versionId),
        }));
        return;
      }
      case "tagPolicy":
        if (!(await this.confirmPolicyOwner(action.policyArn, action.expectOwner))) return;
        await iam.send(new TagPolicyCommand({ PolicyArn: action.policyArn, Tags: tagList(action.tags) }), {
          resource: action.policyArn,
        });
        state.updatePolicy(action.policyArn, (policy) => ({
          ...policy,
          tags: policy.tags === undefined ? undefined : mergeTags(policy.tags, action.tags),
        }));
        return;
      case "untagPolicy":
        if (!(await this.confirmPolicyOwner(action.policyArn, action.expectOwner))) return;
        await iam.send(new UntagPolicyCommand({ PolicyArn: action.policyArn, TagKeys: [...action.keys] }), {
          resource: action.policyArn,
        });
        state.updatePolicy(action.policyArn, (policy) => ({
          ...policy,
          tags: policy.tags === undefined ? undefined : mergeTags(policy.tags, {}, action.keys),
        }));
        return;
      case "deletePolicy": {
        if (!(await this.confirmPolicyOwner(action.policyArn, action.expectOwner))) {
          state.removePolicy(action.policyArn);
          return;
        }
        await ignoreNotFound(
          iam.send(new DeletePolicyCommand({ PolicyArn: action.policyArn }), { resource: action.policyArn }),
        );
        state.removePolicy(action.policyArn);
        return;
      }
      case "createRole": {
        const resource = label.role(action.roleName);
        try {
          const output = await iam.send<CreateRoleCommandOutput>(
            new CreateRoleCommand({
              RoleName: action.roleName,
              Path: action.path,
              AssumeRolePolicyDocument: json(action.trustPolicy),
              Description: action.description,
              Tags: tagList(action.tags),
            }),
            { resource },
          );
          state.putRole({
            name: action.roleName,
            arn: output.Role?.Arn ?? "",
            path: action.path,
            trustPolicy: action.trustPolicy,
            attachedPolicyArns: [],
            inlinePolicyNames: [],
            tags: action.tags,
          });
        } catch (error) {
          if (!isConflict(error)) throw error;
          const existing = await readRole(iam, action.roleName);
          if (existing === undefined) throw error;
          this.requireOwner(resource, existing.tags, action.manifest);
          state.putRole(existing);
        }
        created.add("role", action.roleName);
        return;
      }
      case "updateAssumeRolePolicy":
        await iam.send(
          new UpdateAssumeRolePolicyCommand({
            RoleName: action.roleName,
            PolicyDocument: json(action.trustPolicy),
          }),
          {
            resource: label.role(action.roleName),
          },
        );
        state.updateRole(action.roleName, (role) => ({ ...role, trustPolicy: action.trustPolicy }));
        return;
      case "tagRole":
        await iam.send(new TagRoleCommand({ RoleName: action.roleName, Tags: tagList(action.tags) }), {
          resource: label.role(action.roleName),
        });
        state.updateRole(action.roleName, (role) => ({ ...role, tags: mergeTags(role.tags, action.tags) }));
        return;
      case "untagRole":
        await iam.send(new UntagRoleCommand({ RoleName: action.roleName, TagKeys: [...action.keys] }), {
          resource: label.role(action.roleName),
        });
        state.updateRole(action.roleName, (role) => ({
          ...role,
          tags: mergeTags(role.tags, {}, action.keys),
        }));
        return;
      case "attachRolePolicy": {
        const arn = action.policyArn ?? state.policy(action.policyName)?.arn;
        if (arn === undefined || arn === "")
          throw new Error(`policy ${action.policyName} has no known ARN; it was not created`);
        await iam.send(new AttachRolePolicyCommand({ RoleName: action.roleName, PolicyArn: arn }), {
          resource: label.role(action.roleName),
          dependsOnNewResource:
            created.has("policy", action.policyName) || created.has("role", action.roleName),
        });
        state.updateRole(action.roleName, (role) => ({
          ...role,
          attachedPolicyArns: [...new Set([...role.attachedPolicyArns, arn])],
        }));
        return;
      }
      case "detachRolePolicy":
        await ignoreNotFound(
          iam.send(new DetachRolePolicyCommand({ RoleName: action.roleName, PolicyArn: action.policyArn }), {
            resource: label.role(action.roleName),
          }),
        );
        state.updateRole(action.roleName, (role) => ({
          ...role,
          attachedPolicyArns: role.attachedPolicyArns.filter((arn) => arn !== action.policyArn),
        }));
        return;
      case "deleteRolePolicy":
        await ignoreNotFound(
          iam.send(
            new DeleteRolePolicyCommand({ RoleName: action.roleName, PolicyName: action.inlinePolicyName }),
            { resource: label.role(action.roleName) },
          ),
        );
        state.updateRole(action.roleName, (role) => ({
          ...role,
          inlinePolicyNames: role.inlinePolicyNames.filter((name) => name !== action.inlinePolicyName),
        }));
        return;
      case "deleteRole":
        await ignoreNotFound(
          iam.send(new DeleteRoleCommand({ RoleName: action.roleName }), {
            resource: label.role(action.roleName),
          }),
        );
        state.removeRole(action.roleName);
        return;
      case "createInstanceProfile": {
        const resource = label.instanceProfile(action.profileName);
        try {
          const output = await iam.send<CreateInstanceProfileCommandOutput>(
            new CreateInstanceProfileCommand({
              InstanceProfileName: action.profileName,
              Path: action.path,
              Tags: tagList(action.tags),
            }),
            { resource },
          );
          const profile = toObservedProfile(output.InstanceProfile);
          state.putProfile({
            ...(profile ?? { name: action.profileName, arn: "", path: action.path, roleNames: [] }),
            tags: action.tags,
          });
        } catch (error) {
          if (!isConflict(error)) throw error;
          const existing = await readInstanceProfile(iam, action.profileName);
          if (existing === undefined) throw error;
          this.requireOwner(resource, existing.tags, action.manifest);
          state.putProfile(existing);
        }
        created.add("instanceProfile", action.profileName);
        return;
      }
      case "tagInstanceProfile":
        await iam.send(
          new TagInstanceProfileCommand({
            InstanceProfileName: action.profileName,
            Tags: tagList(action.tags),
          }),
          {
            resource: label.instanceProfile(action.profileName),
          },
        );
        state.updateProfile(action.profileName, (profile) => ({
          ...profile,
          tags: mergeTags(profile.tags, action.tags),
        }));
        return;
      case "untagInstanceProfile":
        await iam.send(
          new UntagInstanceProfileCommand({
            InstanceProfileName: action.profileName,
            TagKeys: [...action.keys],
          }),
          {
            resource: label.instanceProfile(action.profileName),
          },
        );
        state.updateProfile(action.profileName, (profile) => ({
          ...profile,
          tags: mergeTags(profile.tags, {}, action.keys),
        }));
        return;
      case "addRoleToInstanceProfile": {
        const resource = label.instanceProfile(action.profileName);
        try {
          await iam.send(
            new AddRoleToInstanceProfileCommand({
              InstanceProfileName: action.profileName,
              RoleName: action.roleName,
            }),
            {
              resource,
              dependsOnNewResource:
                created.has("role", action.roleName) || created.has("instanceProfile", action.profileName),
            },
          );
        } catch (error) {
          // "Cannot exceed quota for InstanceSessionsPerInstanceProfile": maybe our own earlier, unseen success.
          if (!(error instanceof AwsApiError && error.code === "LimitExceeded")) throw error;
          const existing = await readInstanceProfile(iam, action.profileName);
          if (!existing?.roleNames.some((name) => name.toLowerCase() === action.roleName.toLowerCase()))
            throw error;
        }
        state.updateProfile(action.profileName, (profile) => ({ ...profile, roleNames: [action.roleName] }));
        return;
      }
      case "removeRoleFromInstanceProfile":
        await ignoreNotFound(
          iam.send(
            new RemoveRoleFromInstanceProfileCommand({
              InstanceProfileName: action.profileName,
              RoleName: action.roleName,
            }),
            {
              resource: label.instanceProfile(action.profileName),
            },
          ),
        );
        state.updateProfile(action.profileName, (profile) => ({
          ...profile,
          roleNames: profile.roleNames.filter((name) => name !== action.roleName),
        }));
        return;
      case "deleteInstanceProfile": {
        await ignoreNotFound(
          iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: action.profileName }), {
            resource: label.instanceProfile(action.profileName),
          }),
        );
        state.removeProfile(action.profileName);
        return;
      }
      case "associateInstanceProfile":
        await this.associate(action.instanceId, action.profileName, state, created);
        return;
      case "replaceInstanceProfileAssociation": {
        try {
          const output = await this.ec2.send<ReplaceIamInstanceProfileAssociationCommandOutput>(
            new ReplaceIamInstanceProfileAssociationCommand({
              AssociationId: action.associationId,
              IamInstanceProfile: { Name: action.profileName },
            }),
            {
              resource: label.instance(action.instanceId),
              dependsOnNewResource: created.has("instanceProfile", action.profileName),
            },
          );
          state.putAssociation({
            associationId: output.IamInstanceProfileAssociation?.AssociationId ?? action.associationId,
            instanceId: action.instanceId,
            profileArn:
              output.IamInstanceProfileAssociation?.IamInstanceProfile?.Arn ??
              state.profile(action.profileName)?.arn ??
              "",
            state: "associating",
          });
        } catch (error) {
          // The old association is gone meanwhile: a plain association finishes the job.
          if (!(error instanceof AwsApiError && error.kind === "not-found")) throw error;
          await this.associate(action.instanceId, action.profileName, state, created);
        }
        return;
      }
      case "disassociateInstanceProfile":
        await ignoreNotFound(
          this.ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId: action.associationId }), {
            resource: label.instance(action.instanceId),
          }),
        );
        state.removeAssociation(action.instanceId);
        return;
    }
  }

  private async associate(
    instanceId: string,
    profileName: string,
    state: SnapshotWriter,
    created: CreatedInPass,
  ): Promise<void> {
    const resource = label.instance(instanceId);
    try {
      const output = await this.ec2.send<AssociateIamInstanceProfileCommandOutput>(
        new AssociateIamInstanceProfileCommand({
          InstanceId: instanceId,
          IamInstanceProfile: { Name: profileName },
        }),
        { resource, dependsOnNewResource: created.has("instanceProfile", profileName) },
      );
      state.putAssociation({
        associationId: output.IamInstanceProfileAssociation?.AssociationId ?? "",
        instanceId,
        profileArn:
          output.IamInstanceProfileAssociation?.IamInstanceProfile?.Arn ??
          state.profile(profileName)?.arn ??
          "",
        state: "associating",
      });
    } catch (error) {
      if (!isConflict(error)) throw error;
      // "There is an existing association": fine if it is the one we wanted (an unseen earlier success).
      const [current] = await describeAssociations(this.ec2, [instanceId]);
      const held = current?.profileArn.split("/").pop()?.toLowerCase();
      if (current === undefined || held !== profileName.toLowerCase()) throw error;
      state.putAssociation(current);
    }
  }

  /**
   * CreatePolicyVersion is not idempotent: sent again after an answer that got lost, it adds a second version (and
   * at five versions it fails for good). Before a resend, look whether the default document is already the one
   * wanted; if so, the lost attempt succeeded. Returns the ID of the version now in force.
   */
  private async createDefaultVersion(
    policyArn: string,
    document: PolicyDocument,
    resource: string,
  ): Promise<string> {
    const output = await this.iam.send<CreatePolicyVersionCommandOutput>(
      new CreatePolicyVersionCommand({
        PolicyArn: policyArn,
        PolicyDocument: json(document),
        SetAsDefault: true,
      }),
      {
        resource,
        confirmApplied: async () => {
          const current = await readPolicy(this.iam, policyArn);
          if (current === undefined || !policiesEqual(current.document, document)) return undefined;
          return { PolicyVersion: { VersionId: current.defaultVersionId, IsDefaultVersion: true } };
        },
      },
    );
    return output.PolicyVersion?.VersionId ?? "";
  }

  private requireOwner(resource: string, tags: Tags | undefined, manifest: string): void {
    const ownership = readOwnership(tags ?? {});
    if (!ownership.managed || ownership.manifest !== manifest) {
      throw new OwnershipError(
        resource,
        `exists and is not owned by manifest "${manifest}"; it was left untouched`,
      );
    }
  }

  /** Tags decide ownership: read them before changing a policy whose ownership only its description suggested. */
  /** Returns false when the policy no longer exists (for a removal, that is success). */
  private async confirmPolicyOwner(
    policyArn: string,
    expected: OwnershipExpectation | undefined,
  ): Promise<boolean> {
    if (expected === undefined) return true;
    const name = policyArn.split("/").pop() ?? policyArn;
    const resource = label.policy(name);
    let tags: Tags;
    try {
      tags = await readPolicyTags(this.iam, policyArn, name);
    } catch (error) {
      if (error instanceof AwsApiError && error.kind === "not-found") return false;
      throw error;
    }
    const ownership = readOwnership(tags);
    if (!ownership.managed || ownership.manifest !== expected.manifest) {
      throw new OwnershipError(
        resource,
        `its tags do not say it belongs to manifest "${expected.manifest}"; it was left untouched`,
      );
    }
    if (expected.deletionPolicy !== undefined && ownership.deletionPolicy !== expected.deletionPolicy) {
      throw new OwnershipError(
        resource,
        `its tags say deletion-policy ${ownership.deletionPolicy}; it was left in place`,
      );
    }
    return true;
  }
}

function isConflict(error: unknown): boolean {
  return error instanceof AwsApiError && error.kind === "conflict";
}

async function ignoreNotFound(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof AwsApiError && error.kind === "not-found")) throw error;
  }
}
