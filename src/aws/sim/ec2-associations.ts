import type {
  AssociateIamInstanceProfileRequest,
  AssociateIamInstanceProfileResult,
  DescribeIamInstanceProfileAssociationsRequest,
  DescribeIamInstanceProfileAssociationsResult,
  DisassociateIamInstanceProfileRequest,
  DisassociateIamInstanceProfileResult,
  IamInstanceProfileAssociation,
  IamInstanceProfileAssociationState,
  IamInstanceProfileSpecification,
  ReplaceIamInstanceProfileAssociationRequest,
  ReplaceIamInstanceProfileAssociationResult,
} from "@aws-sdk/client-ec2";
import { parseIamArn } from "./arns.js";
import { compileFilters, type FieldReader } from "./ec2-filters.js";
import type { AssociationRecord, Ec2Store } from "./ec2-store.js";
import { invalidNextToken, maxResults, requiredParameter, wellFormedInstanceId } from "./ec2-validation.js";
import { ec2Error } from "./errors.js";
import { handler, type HandlerTable } from "./handlers.js";
import type { IamStore, ProfileRecord } from "./iam-store.js";
import { paginate, sequenceKey } from "./pagination.js";

/**
 * Instance-profile associations. EC2 reports a new association as "associating" and then, seconds later,
 * "associated"; here the transition is immediate: the call returns "associating", every describe "associated".
 * Disassociation is immediate too: the association is gone from describes at once.
 */
function associationView(
  association: AssociationRecord,
  state: IamInstanceProfileAssociationState,
): IamInstanceProfileAssociation {
  return {
    AssociationId: association.id,
    InstanceId: association.instanceId,
    IamInstanceProfile: { Arn: association.profileArn, Id: association.profileId },
    State: state,
    Timestamp: new Date(association.timestamp.getTime()),
  };
}

const associationFields: FieldReader<AssociationRecord> = (name) => {
  if (name === "instance-id") return (association) => [association.instanceId];
  if (name === "state") return () => ["associated"];
  return undefined;
};

/** The profile an association request names, as EC2 resolves it through IAM. */
function resolveProfile(
  iam: IamStore,
  specification: IamInstanceProfileSpecification | undefined,
): ProfileRecord {
  const spec = requiredParameter(specification, "IamInstanceProfile");
  if (spec.Arn !== undefined) {
    const parts = parseIamArn(spec.Arn, "instance-profile");
    const profile = parts === undefined ? undefined : iam.profiles.get(parts.name.toLowerCase());
    if (profile === undefined || profile.arn.toLowerCase() !== spec.Arn.toLowerCase()) {
      throw ec2Error(
        "InvalidParameterValue",
        `Value (${spec.Arn}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN`,
      );
    }
    return profile;
  }
  const name = requiredParameter(spec.Name, "IamInstanceProfile.Name");
  const profile = iam.profiles.get(name.toLowerCase());
  if (profile === undefined) {
    throw ec2Error(
      "InvalidParameterValue",
      `Value (${name}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name`,
    );
  }
  return profile;
}

function existingAssociation(store: Ec2Store, id: string | undefined): AssociationRecord {
  const associationId = requiredParameter(id, "AssociationId");
  const association = store.associations.get(associationId);
  if (association === undefined) {
    throw ec2Error("InvalidAssociationID.NotFound", `The association ID '${associationId}' does not exist`);
  }
  return association;
}

export function associationHandlers(store: Ec2Store, iam: IamStore): HandlerTable {
  return {
    DescribeIamInstanceProfileAssociations: handler<DescribeIamInstanceProfileAssociationsRequest>((input) =>
      describeAssociations(store, input),
    ),

    AssociateIamInstanceProfile: handler<AssociateIamInstanceProfileRequest>((input) =>
      associateProfile(store, iam, input),
    ),

    ReplaceIamInstanceProfileAssociation: handler<ReplaceIamInstanceProfileAssociationRequest>(
      (input): ReplaceIamInstanceProfileAssociationResult => {
        const old = existingAssociation(store, input.AssociationId);
        const profile = resolveProfile(iam, input.IamInstanceProfile);
        store.associations.delete(old.id);
        const association = store.newAssociation(old.instanceId, profile);
        return { IamInstanceProfileAssociation: associationView(association, "associating") };
      },
    ),

    DisassociateIamInstanceProfile: handler<DisassociateIamInstanceProfileRequest>(
      (input): DisassociateIamInstanceProfileResult => {
        const association = existingAssociation(store, input.AssociationId);
        store.associations.delete(association.id);
        return { IamInstanceProfileAssociation: associationView(association, "disassociating") };
      },
    ),
  };
}

function describeAssociations(
  store: Ec2Store,
  input: Partial<DescribeIamInstanceProfileAssociationsRequest>,
): DescribeIamInstanceProfileAssociationsResult {
  const limit = maxResults(input.MaxResults);
  const matches = compileFilters(input.Filters, associationFields);
  const ids = input.AssociationIds ?? [];
  for (const id of ids) existingAssociation(store, id);
  const wanted = new Set(ids);
  const selected = [...store.associations.values()]
    .filter((association) => (wanted.size === 0 || wanted.has(association.id)) && matches(association))
    .sort((a, b) => a.sequence - b.sequence);
  const page = paginate(
    selected,
    (association) => sequenceKey(association.sequence),
    limit ?? selected.length,
    input.NextToken,
    invalidNextToken,
  );
  return {
    IamInstanceProfileAssociations: page.items.map((association) =>
      associationView(association, "associated"),
    ),
    ...(page.next === undefined ? {} : { NextToken: page.next }),
  };
}

function associateProfile(
  store: Ec2Store,
  iam: IamStore,
  input: Partial<AssociateIamInstanceProfileRequest>,
): AssociateIamInstanceProfileResult {
  const instanceId = wellFormedInstanceId(requiredParameter(input.InstanceId, "InstanceId"));
  const instance = store.instances.get(instanceId);
  if (instance === undefined) {
    throw ec2Error("InvalidInstanceID.NotFound", `The instance ID '${instanceId}' does not exist`);
  }
  const profile = resolveProfile(iam, input.IamInstanceProfile);
  if (instance.state === "terminated" || instance.state === "shutting-down") {
    throw ec2Error(
      "IncorrectInstanceState",
      `The instance '${instanceId}' is not in a valid state for this operation.`,
    );
  }
  if (store.associationOf(instanceId) !== undefined) {
    throw ec2Error("IncorrectState", `There is an existing association for instance ${instanceId}`);
  }
  const association = store.newAssociation(instanceId, profile);
  return { IamInstanceProfileAssociation: associationView(association, "associating") };
}
