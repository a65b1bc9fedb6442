import type {
  CreatePolicyVersionRequest,
  CreatePolicyVersionResponse,
  DeletePolicyVersionRequest,
  GetPolicyVersionRequest,
  GetPolicyVersionResponse,
  ListPolicyVersionsRequest,
  ListPolicyVersionsResponse,
  SetDefaultPolicyVersionRequest,
} from "@aws-sdk/client-iam";
import { iamError } from "./errors.js";
import { handler, type HandlerTable } from "./handlers.js";
import type { IamStore, PolicyRecord, PolicyVersionRecord } from "./iam-store.js";
import { iamPage } from "./iam-listing.js";
import { required } from "./iam-validation.js";
import { versionView } from "./iam-views.js";
import { sequenceKey } from "./pagination.js";
import { validateDocument } from "./policy-document.js";

/** A managed policy keeps at most five versions. */
export const maxPolicyVersions = 5;

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

/** The versions of managed policies; AWS-managed ones can be read but not changed. */
export function policyVersionHandlers(store: IamStore): HandlerTable {
  return {
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

    CreatePolicyVersion: handler<CreatePolicyVersionRequest>((input) => createPolicyVersion(store, input)),

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
  };
}

function createPolicyVersion(
  store: IamStore,
  input: Partial<CreatePolicyVersionRequest>,
): CreatePolicyVersionResponse {
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
}
