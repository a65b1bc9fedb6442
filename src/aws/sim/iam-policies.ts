import type {
  CreatePolicyRequest,
  CreatePolicyResponse,
  CreatePolicyVersionRequest,
  CreatePolicyVersionResponse,
  DeletePolicyRequest,
  DeletePolicyVersionRequest,
  GetPolicyRequest,
  GetPolicyResponse,
  GetPolicyVersionRequest,
  GetPolicyVersionResponse,
  ListPoliciesRequest,
  ListPoliciesResponse,
  ListPolicyTagsRequest,
  ListPolicyTagsResponse,
  ListPolicyVersionsRequest,
  ListPolicyVersionsResponse,
  SetDefaultPolicyVersionRequest,
  TagPolicyRequest,
  UntagPolicyRequest,
} from "@aws-sdk/client-iam";
import { iamError } from "./errors.js";
import { handler, type HandlerTable } from "./handlers.js";
import type { IamStore, PolicyRecord, PolicyVersionRecord } from "./iam-store.js";
import { iamPage, tagPage } from "./iam-listing.js";
import { required, validName, validPath, validPathPrefix } from "./iam-validation.js";
import { policyView, versionView } from "./iam-views.js";
import { byKey, sequenceKey } from "./pagination.js";
import { validateDocument } from "./policy-document.js";
import { TagSet } from "./tags.js";

/** A managed policy keeps at most five versions. */
export const maxPolicyVersions = 5;

const byName = byKey((policy: PolicyRecord) => policy.name.toLowerCase());

function findVersion(policy: PolicyRecord, versionId: string, purpose: string): PolicyVersionRecord {
  const version = policy.versions.find((candidate) => candidate.id === versionId);
  if (version === undefined) {
    throw iamError(
      "NoSuchEntity",
      `Policy ${policy.arn} version ${versionId} does not exist or is not ${purpose}.`,
    );
  }
  return version;
}

export function policyHandlers(store: IamStore): HandlerTable {
  return {
    CreatePolicy: handler<CreatePolicyRequest>((input): CreatePolicyResponse => {
      const name = validName(input.PolicyName, "policyName", 128);
      const path = validPath(input.Path);
      const document = validateDocument(input.PolicyDocument, "managed");
      if (input.Description !== undefined && input.Description.length > 1000) {
        throw iamError(
          "ValidationError",
          "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000",
        );
      }
      const tags = new TagSet(input.Tags);
      if (store.policies.has(name.toLowerCase())) {
        throw iamError(
          "EntityAlreadyExists",
          `A policy called ${name} already exists. Duplicate names are not allowed.`,
        );
      }
      const now = store.clock.now();
      const policy: PolicyRecord = {
        name,
        id: store.ids.iam("ANPA"),
        arn: store.arn("policy", path, name),
        path,
        description: input.Description,
        createDate: now,
        updateDate: now,
        versions: [{ id: "v1", document, createDate: now }],
        defaultVersionId: "v1",
        nextVersion: 2,
        tags,
      };
      store.policies.set(name.toLowerCase(), policy);
      return { Policy: policyView(store, policy, { tags: tags.size > 0 }) };
    }),

    GetPolicy: handler<GetPolicyRequest>((input): GetPolicyResponse => {
      const policy = store.policy(required(input.PolicyArn, "policyArn"));
      return { Policy: policyView(store, policy, { tags: true }) };
    }),

    ListPolicies: handler<ListPoliciesRequest>((input): ListPoliciesResponse => {
      const scope = input.Scope ?? "All";
      const prefix = validPathPrefix(input.PathPrefix);
      // AWS-managed policies can be attached but are not listed here (rolecall only ever lists its account's).
      const candidates = (scope === "AWS" ? [] : [...store.policies.values()]).filter(
        (policy) =>
          policy.path.startsWith(prefix) &&
          (input.OnlyAttached !== true || store.attachmentsOf(policy).length > 0),
      );
      const { items, ...page } = iamPage(
        candidates.sort(byName),
        (policy) => policy.name.toLowerCase(),
        input,
      );
      return { Policies: items.map((policy) => policyView(store, policy, { tags: false })), ...page };
    }),

    ListPolicyTags: handler<ListPolicyTagsRequest>((input): ListPolicyTagsResponse => {
      const policy = store.policy(required(input.PolicyArn, "policyArn"));
      return tagPage(policy.tags, input);
    }),

    TagPolicy: handler<TagPolicyRequest>((input) => {
      const policy = store.customerPolicy(required(input.PolicyArn, "policyArn"));
      policy.tags.apply(input.Tags ?? []);
      return {};
    }),

    UntagPolicy: handler<UntagPolicyRequest>((input) => {
      const policy = store.customerPolicy(required(input.PolicyArn, "policyArn"));
      policy.tags.remove(input.TagKeys);
      return {};
    }),

    GetPolicyVersion: handler<GetPolicyVersionRequest>((input): GetPolicyVersionResponse => {
      const policy = store.policy(required(input.PolicyArn, "policyArn"));
      const version = findVersion(policy, required(input.VersionId, "versionId"), "attachable");
      return { PolicyVersion: versionView(policy, version, { document: true }) };
    }),

    ListPolicyVersions: handler<ListPolicyVersionsRequest>((input): ListPolicyVersionsResponse => {
      const policy = store.policy(required(input.PolicyArn, "policyArn"));
      // Newest first; keyed by the inverted version number so the order and the marker agree.
      const newestFirst = [...policy.versions].reverse();
      const key = (version: PolicyVersionRecord) => sequenceKey(1e9 - Number(version.id.slice(1)));
      const { items, ...page } = iamPage(newestFirst, key, input);
      return { Versions: items.map((version) => versionView(policy, version, { document: false })), ...page };
    }),

    CreatePolicyVersion: handler<CreatePolicyVersionRequest>((input): CreatePolicyVersionResponse => {
      const policy = store.customerPolicy(required(input.PolicyArn, "policyArn"));
      const document = validateDocument(input.PolicyDocument, "managed");
      if (policy.versions.length >= maxPolicyVersions) {
        throw iamError(
          "LimitExceeded",
          `A managed policy can have up to ${maxPolicyVersions} versions. Before you create a new version, you must delete an existing version.`,
        );
      }
      const now = store.clock.now();
      const version: PolicyVersionRecord = { id: `v${policy.nextVersion}`, document, createDate: now };
      policy.nextVersion += 1;
      policy.versions.push(version);
      if (input.SetAsDefault === true) {
        policy.defaultVersionId = version.id;
        policy.updateDate = now;
      }
      return { PolicyVersion: versionView(policy, version, { document: false }) };
    }),

    SetDefaultPolicyVersion: handler<SetDefaultPolicyVersionRequest>((input) => {
      const policy = store.customerPolicy(required(input.PolicyArn, "policyArn"));
      const version = findVersion(policy, required(input.VersionId, "versionId"), "attachable");
      policy.defaultVersionId = version.id;
      policy.updateDate = store.clock.now();
      return {};
    }),

    DeletePolicyVersion: handler<DeletePolicyVersionRequest>((input) => {
      const policy = store.customerPolicy(required(input.PolicyArn, "policyArn"));
      const version = findVersion(policy, required(input.VersionId, "versionId"), "deletable");
      if (version.id === policy.defaultVersionId) {
        throw iamError("DeleteConflict", "Cannot delete the default version of a policy.");
      }
      policy.versions.splice(policy.versions.indexOf(version), 1);
      return {};
    }),

    DeletePolicy: handler<DeletePolicyRequest>((input) => {
      const policy = store.customerPolicy(required(input.PolicyArn, "policyArn"));
      if (store.attachmentsOf(policy).length > 0) {
        throw iamError("DeleteConflict", "Cannot delete a policy attached to entities.");
      }
      if (policy.versions.length > 1) {
        throw iamError(
          "DeleteConflict",
          "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
        );
      }
      store.policies.delete(policy.name.toLowerCase());
      return {};
    }),
  };
}
