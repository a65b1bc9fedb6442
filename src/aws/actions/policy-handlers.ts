import type { CreatePolicyCommandOutput, CreatePolicyVersionCommandOutput } from "@aws-sdk/client-iam";
import {
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  TagPolicyCommand,
  UntagPolicyCommand,
} from "../sdk/client-iam.js";
import { readOwnership, type Tags } from "../../desired/ownership.js";
import type { PolicyDocument } from "../../desired/policy-document.js";
import type { ObservedPolicy } from "../../observed/snapshot.js";
import { nameFromArn } from "../../observed/snapshot.js";
import type { OwnershipExpectation } from "../../plan/action.js";
import { label } from "../../plan/labels.js";
import { policiesEqual } from "../../plan/policy-equality.js";
import type { AwsCaller } from "../aws-caller.js";
import { findPolicyArn, readPolicy, readPolicyTags } from "../iam-read.js";
import { absent, done, json, tagList, type HandlerContext, type HandlerGroup } from "./handler.js";
import { createOrAdopt, ignoreNotFound, isNotFound, OwnershipError } from "./recovery.js";

type PolicyKind =
  | "createPolicy"
  | "createPolicyVersion"
  | "deletePolicyVersion"
  | "tagPolicy"
  | "untagPolicy"
  | "deletePolicy";

export const policyHandlers: HandlerGroup<PolicyKind> = {
  async createPolicy(action, context) {
    const resource = label.policy(action.policyName);
    const response = await createOrAdopt<ObservedPolicy>({
      resource,
      manifest: action.manifest,
      create: async () => {
        const output = await context.iam.send<CreatePolicyCommandOutput>(
          new CreatePolicyCommand({
            PolicyName: action.policyName,
            Path: action.path,
            PolicyDocument: json(action.document),
            Description: action.description,
            Tags: tagList(action.tags),
          }),
          { resource },
        );
        return {
          kind: "created",
          arn: output.Policy?.Arn ?? "",
          versionId: output.Policy?.DefaultVersionId ?? "v1",
          createdAt: context.now(),
        };
      },
      readExisting: async () => {
        const arn = await findPolicyArn(context.iam, action.policyName);
        return arn === undefined ? undefined : readPolicy(context.iam, arn);
      },
      update: async (existing) => {
        if (policiesEqual(existing.document, action.document)) return existing;
        const versionId = await createDefaultVersion(context.iam, existing.arn, action.document, resource);
        return {
          ...existing,
          document: action.document,
          defaultVersionId: versionId,
          versions: [
            ...existing.versions.map((version) => ({ ...version, isDefault: false })),
            { id: versionId, isDefault: true, createdAt: context.now() },
          ],
        };
      },
    });
    context.created.add("policy", action.policyName);
    return response;
  },

  async createPolicyVersion(action, context) {
    await confirmPolicyOwner(context, action.policyArn, action.expectOwner);
    const versionId = await createDefaultVersion(
      context.iam,
      action.policyArn,
      action.document,
      label.policy(action.policyName),
    );
    return { kind: "versioned", versionId, createdAt: context.now() };
  },

  async deletePolicyVersion(action, context) {
    if (!(await confirmPolicyOwner(context, action.policyArn, action.expectOwner))) return absent;
    const deleted = await ignoreNotFound(
      context.iam.send(
        new DeletePolicyVersionCommand({ PolicyArn: action.policyArn, VersionId: action.versionId }),
        {
          resource: action.policyArn,
        },
      ),
    );
    // The version is gone either way; "absent" would say the policy is.
    return deleted.kind === "absent" ? done : deleted;
  },

  async tagPolicy(action, context) {
    if (!(await confirmPolicyOwner(context, action.policyArn, action.expectOwner))) return absent;
    await context.iam.send(
      new TagPolicyCommand({ PolicyArn: action.policyArn, Tags: tagList(action.tags) }),
      {
        resource: action.policyArn,
      },
    );
    return done;
  },

  async untagPolicy(action, context) {
    if (!(await confirmPolicyOwner(context, action.policyArn, action.expectOwner))) return absent;
    await context.iam.send(
      new UntagPolicyCommand({ PolicyArn: action.policyArn, TagKeys: [...action.keys] }),
      {
        resource: action.policyArn,
      },
    );
    return done;
  },

  async deletePolicy(action, context) {
    if (!(await confirmPolicyOwner(context, action.policyArn, action.expectOwner))) return absent;
    return ignoreNotFound(
      context.iam.send(new DeletePolicyCommand({ PolicyArn: action.policyArn }), {
        resource: action.policyArn,
      }),
    );
  },
};

/**
 * CreatePolicyVersion is not idempotent: sent again after an answer that got lost, it adds a second version (and
 * at five versions it fails for good). Before a resend, look whether the default document is already the one
 * wanted; if so, the lost attempt succeeded. Returns the ID of the version now in force.
 */
async function createDefaultVersion(
  iam: AwsCaller,
  policyArn: string,
  document: PolicyDocument,
  resource: string,
): Promise<string> {
  const output = await iam.send<CreatePolicyVersionCommandOutput>(
    new CreatePolicyVersionCommand({
      PolicyArn: policyArn,
      PolicyDocument: json(document),
      SetAsDefault: true,
    }),
    {
      resource,
      confirmApplied: async () => {
        const current = await readPolicy(iam, policyArn);
        if (current === undefined || !policiesEqual(current.document, document)) return undefined;
        return { PolicyVersion: { VersionId: current.defaultVersionId, IsDefaultVersion: true } };
      },
    },
  );
  return output.PolicyVersion?.VersionId ?? "";
}

/**
 * Tags decide ownership: read them before changing a policy whose ownership only its description suggested.
 * Returns false when the policy no longer exists (for a removal, that is success).
 */
async function confirmPolicyOwner(
  context: HandlerContext,
  policyArn: string,
  expected: OwnershipExpectation | undefined,
): Promise<boolean> {
  if (expected === undefined) return true;
  const name = nameFromArn(policyArn);
  const resource = label.policy(name);
  let tags: Tags;
  try {
    tags = await readPolicyTags(context.iam, policyArn, name);
  } catch (error) {
    if (isNotFound(error)) return false;
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
