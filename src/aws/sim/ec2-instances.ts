import type { DescribeInstancesRequest, DescribeInstancesResult, Instance } from "@aws-sdk/client-ec2";
import { ec2Error } from "./errors.js";
import { compileFilters, type FieldReader } from "./ec2-filters.js";
import { instanceStateCodes, type Ec2Store, type InstanceRecord } from "./ec2-store.js";
import { invalidNextToken, maxResults, wellFormedInstanceId } from "./ec2-validation.js";
import { handler, type HandlerTable } from "./handlers.js";
import { paginate, sequenceKey } from "./pagination.js";

/**
 * DescribeInstances: every instance (terminated ones included, as EC2 shows them for a while) in launch order,
 * each in its own reservation, paged by instance with MaxResults/NextToken.
 */
export function instanceView(store: Ec2Store, instance: InstanceRecord): Instance {
  const association = store.associationOf(instance.id);
  return {
    InstanceId: instance.id,
    InstanceType: "t3.micro",
    LaunchTime: new Date(instance.launchTime.getTime()),
    State: { Code: instanceStateCodes[instance.state], Name: instance.state },
    Tags: [...instance.tags].map(([Key, Value]) => ({ Key, Value })),
    ...(association === undefined
      ? {}
      : { IamInstanceProfile: { Arn: association.profileArn, Id: association.profileId } }),
  };
}

function instanceFields(store: Ec2Store): FieldReader<InstanceRecord> {
  return (name) => {
    if (name === "instance-id") return (instance) => [instance.id];
    if (name === "instance-state-name") return (instance) => [instance.state];
    if (name === "tag-key") return (instance) => [...instance.tags.keys()];
    if (name === "launch-time") return (instance) => [instance.launchTime.toISOString()];
    if (name === "iam-instance-profile.arn") {
      return (instance) => {
        const association = store.associationOf(instance.id);
        return association === undefined ? [] : [association.profileArn];
      };
    }
    if (name.startsWith("tag:") && name.length > 4) {
      const key = name.slice(4);
      return (instance) => {
        const value = instance.tags.get(key);
        return value === undefined ? [] : [value];
      };
    }
    return undefined;
  };
}

export function instanceHandlers(store: Ec2Store): HandlerTable {
  return {
    DescribeInstances: handler<DescribeInstancesRequest>((input): DescribeInstancesResult => {
      const ids = input.InstanceIds ?? [];
      if (ids.length > 0 && input.MaxResults !== undefined) {
        throw ec2Error(
          "InvalidParameterCombination",
          "The parameter instancesSet cannot be used with the parameter maxResults",
        );
      }
      const limit = maxResults(input.MaxResults);
      const matches = compileFilters(input.Filters, instanceFields(store));
      // An empty InstanceIds is not sent by the SDK at all: it means every instance, as on EC2.
      for (const id of ids) wellFormedInstanceId(id);
      const missing = ids.filter((id) => !store.instances.has(id));
      if (missing.length > 0) {
        throw ec2Error(
          "InvalidInstanceID.NotFound",
          missing.length === 1
            ? `The instance ID '${missing.join("")}' does not exist`
            : `The instance IDs '${missing.join(", ")}' do not exist`,
        );
      }
      const wanted = new Set(ids);
      const selected = [...store.instances.values()]
        .filter((instance) => (wanted.size === 0 || wanted.has(instance.id)) && matches(instance))
        .sort((a, b) => a.sequence - b.sequence);
      const page = paginate(
        selected,
        (instance) => sequenceKey(instance.sequence),
        limit ?? selected.length,
        input.NextToken,
        invalidNextToken,
      );
      return {
        Reservations: page.items.map((instance) => ({
          ReservationId: instance.reservationId,
          OwnerId: store.accountId,
          Groups: [],
          Instances: [instanceView(store, instance)],
        })),
        ...(page.next === undefined ? {} : { NextToken: page.next }),
      };
    }),
  };
}
