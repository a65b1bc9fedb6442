import type {
  CreatePolicyRequest,
  CreatePolicyResponse,
  DeletePolicyRequest,
  GetPolicyRequest,
  GetPolicyResponse,
  ListPoliciesRequest,
  ListPoliciesResponse,
  ListPolicyTagsRequest,
  ListPolicyTagsResponse,
  TagPolicyRequest,
  UntagPolicyRequest,
} from "@aws-sdk/client-iam";
import { iamError } from "./errors.js";
import { handler, type HandlerTable } from "./handlers.js";
import type { IamStore, PolicyRecord } from "./iam-store.js";
import { iamPage, tagPage } from "./iam-listing.js";
import { policyVersionHandlers } from "./iam-policy-versions.js";
import { required, validDescription, validName, validPath, validPathPrefix } from "./iam-validation.js";
import { policyView } from "./iam-views.js";
import { byKey } from "./pagination.js";
import { validateDocument } from "./policy-document.js";
import { TagSet } from "./tags.js";

export { maxPolicyVersions } from "./iam-policy-versions.js";

const byName = byKey((policy: PolicyRecord) => policy.name.toLowerCase());

/** Every managed-policy operation: the policy itself, its versions and its tags. */
export function policyHandlers(store: IamStore): HandlerTable {
  return {
    ...policyLifecycleHandlers(store),
    ...policyTagHandlers(store),
    ...policyVersionHandlers(store),
  };
}

function policyLifecycleHandlers(store: IamStore): HandlerTable {
  return {
    CreatePolicy: handler<CreatePolicyRequest>((input) => createPolicy(store, input)),

    GetPolicy: handler<GetPolicyRequest>((input): GetPolicyResponse => {
      const policy = store.policy(required(input.PolicyArn, "policyArn"));
      return { Policy: policyView(store, policy, { tags: true }) };
    }),

    ListPolicies: handler<ListPoliciesRequest>((input) => listPolicies(store, input)),

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

function createPolicy(store: IamStore, input: Partial<CreatePolicyRequest>): CreatePolicyResponse {
  const name = validName(input.PolicyName, "policyName", 128);
  const path = validPath(input.Path);
  const document = validateDocument(input.PolicyDocument, "managed");
  const description = validDescription(input.Description);
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
    description,
    createDate: now,
    updateDate: now,
    versions: [{ id: "v1", document, createDate: now }],
    defaultVersionId: "v1",
    nextVersion: 2,
    tags,
  };
  store.policies.set(name.toLowerCase(), policy);
  return { Policy: policyView(store, policy, { tags: tags.size > 0 }) };
}

function listPolicies(store: IamStore, input: Partial<ListPoliciesRequest>): ListPoliciesResponse {
  const scope = input.Scope ?? "All";
  const prefix = validPathPrefix(input.PathPrefix);
  // AWS-managed policies can be attached but are not listed here (rolecall only ever lists its account's).
  const candidates = (scope === "AWS" ? [] : [...store.policies.values()]).filter(
    (policy) =>
      policy.path.startsWith(prefix) &&
      (input.OnlyAttached !== true || store.attachmentsOf(policy).length > 0),
  );
  const { items, ...page } = iamPage(candidates.sort(byName), (policy) => policy.name.toLowerCase(), input);
  return { Policies: items.map((policy) => policyView(store, policy, { tags: false })), ...page };
}

function policyTagHandlers(store: IamStore): HandlerTable {
  return {
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
  };
}
