import type { Ec2Caller } from "./region-router.js";
import type {
  DescribeIamInstanceProfileAssociationsCommandOutput,
  DescribeInstancesCommandOutput,
  Filter,
} from "@aws-sdk/client-ec2";
import { DescribeIamInstanceProfileAssociationsCommand, DescribeInstancesCommand } from "./sdk/client-ec2.js";
import {
  selectableInstanceStates,
  type InstanceState,
  type ObservedAssociation,
  type ObservedInstance,
} from "../observed/snapshot.js";
import { toTags } from "./iam-read.js";
import {
  foldInstancesResponse,
  type InstanceEntry,
  type InstancesPageEntries,
} from "./instances-page-stream.js";
import { ec2Next, pages, withNextToken } from "./paginate.js";

/** EC2 accepts at most 200 values per filter. */
export const maxFilterValues = 200;

const knownStates = new Set<string>([...selectableInstanceStates, "shutting-down", "terminated"]);
const isKnownState = (state: string): state is InstanceState => knownStates.has(state);

export interface InstancesPage {
  readonly instances: ObservedInstance[];
  /** The account ID, as EC2 reports it on reservations (undefined when no instance matched). */
  readonly accountId: string | undefined;
}

/** Every instance matching the filters, following every NextToken; each page is folded as it arrives. */
export async function describeInstances(ec2: Ec2Caller, filters: Filter[]): Promise<InstancesPage> {
  const instances: ObservedInstance[] = [];
  let accountId: string | undefined;
  const listing = pages(
    async (token) => {
      const command = new DescribeInstancesCommand({
        Filters: filters,
        MaxResults: 1000,
        ...withNextToken(token),
      });
      const folded = foldInstancesResponse(command);
      const output = await ec2.send<DescribeInstancesCommandOutput>(command);
      return folded.entries() ?? entriesOf(output);
    },
    (page) => page.nextToken,
  );
  for await (const page of listing) {
    accountId ??= page.accountId;
    for (const instance of page.instances)
      instances.push({
        id: instance.id,
        state: isKnownState(instance.state) ? instance.state : "unknown",
        tags: instance.tags,
      });
  }
  return { instances, accountId };
}

/** The same entries from the SDK's output shapes (test doubles and the simulator answer with those). */
export function entriesOf(output: DescribeInstancesCommandOutput): InstancesPageEntries {
  let accountId: string | undefined;
  const instances: InstanceEntry[] = [];
  for (const reservation of output.Reservations ?? []) {
    accountId ??= reservation.OwnerId;
    for (const instance of reservation.Instances ?? []) {
      if (instance.InstanceId === undefined) continue;
      instances.push({
        id: instance.InstanceId,
        state: instance.State?.Name ?? "unknown",
        tags: toTags(instance.Tags),
      });
    }
  }
  return { instances, accountId, nextToken: ec2Next(output) };
}

/** Current instance-profile associations (associating or associated), following every NextToken. */
export async function describeAssociations(
  ec2: Ec2Caller,
  instanceIds?: readonly string[],
): Promise<ObservedAssociation[]> {
  const filters: Filter[] = [{ Name: "state", Values: ["associating", "associated"] }];
  if (instanceIds !== undefined) filters.push({ Name: "instance-id", Values: [...instanceIds] });
  const associations: ObservedAssociation[] = [];
  const listing = pages(
    (token) =>
      ec2.send<DescribeIamInstanceProfileAssociationsCommandOutput>(
        new DescribeIamInstanceProfileAssociationsCommand({
          Filters: filters,
          MaxResults: 1000,
          ...withNextToken(token),
        }),
      ),
    ec2Next,
  );
  for await (const page of listing) {
    for (const association of page.IamInstanceProfileAssociations ?? []) {
      if (association.AssociationId === undefined || association.InstanceId === undefined) continue;
      const state = association.State ?? "unknown";
      if (state !== "associating" && state !== "associated") continue;
      associations.push({
        associationId: association.AssociationId,
        instanceId: association.InstanceId,
        profileArn: association.IamInstanceProfile?.Arn ?? "",
        profileId: association.IamInstanceProfile?.Id,
        state,
      });
    }
  }
  return associations;
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}
