import type { AwsCaller, AwsCommand, CallOptions } from "./aws-caller.js";
import { AwsApiError } from "./aws-error.js";
import { ec2Next } from "./paginate.js";

/** What the readers and handlers need of an EC2 caller: one region's AwsCaller, or a RegionRouter over several. */
export type Ec2Caller = Pick<AwsCaller, "send" | "stop" | "guardMutations">;

interface Ec2Listing {
  NextToken?: string | undefined;
  Reservations?: { Instances?: { InstanceId?: string | undefined }[] | undefined }[] | undefined;
  IamInstanceProfileAssociations?:
    { AssociationId?: string | undefined; InstanceId?: string | undefined }[] | undefined;
}

interface AssociationAnswer {
  IamInstanceProfileAssociation?: { AssociationId?: string | undefined } | undefined;
}

type CommandClass = new (input: unknown) => AwsCommand;

const listings = new Set(["DescribeInstances", "DescribeIamInstanceProfileAssociations"]);

/**
 * One target's EC2 across its regions, behind the single caller the readers and handlers already use: a listing
 * is sent to every region (each with its own caller, so its own rate limit) and merged, every page of it; a change
 * to an instance or an association goes to the region the listings saw it in. Instance and association IDs are
 * unique across regions, so the snapshot needs no region field and a one-region target needs no router at all.
 */
export class RegionRouter implements Ec2Caller {
  private readonly regionOf = new Map<string, string>();

  constructor(private readonly regions: ReadonlyMap<string, AwsCaller>) {}

  async send<Output>(command: AwsCommand, options: CallOptions = {}): Promise<Output> {
    const operation = command.constructor.name.replace(/Command$/, "");
    if (listings.has(operation)) return (await this.listEverywhere(command, options)) as Output;
    const input = command.input as { InstanceId?: string; AssociationId?: string };
    const key = input.AssociationId ?? input.InstanceId;
    const region = key === undefined ? undefined : this.regionOf.get(key);
    const caller = region === undefined ? undefined : this.regions.get(region);
    if (caller === undefined || region === undefined)
      throw new AwsApiError(
        "ec2",
        operation,
        "UnknownRegion",
        "terminal",
        undefined,
        `no listing of this pass saw ${key ?? "the resource"} in the target's regions (${[...this.regions.keys()].join(", ")})`,
        options.resource,
      );
    const output = await caller.send<Output>(command, options);
    const association = (output as AssociationAnswer | undefined)?.IamInstanceProfileAssociation
      ?.AssociationId;
    if (association !== undefined) this.regionOf.set(association, region);
    return output;
  }

  stop(): void {
    for (const caller of this.regions.values()) caller.stop();
  }

  /** Leader election's guard, on every region's caller: a standby writes to none of them. */
  guardMutations(guard: Parameters<AwsCaller["guardMutations"]>[0]): void {
    for (const caller of this.regions.values()) caller.guardMutations(guard);
  }

  /** Every page in every region, as one page: the readers' pagination then ends after this one. */
  private async listEverywhere(command: AwsCommand, options: CallOptions): Promise<Ec2Listing> {
    const perRegion = await Promise.all(
      [...this.regions].map(async ([region, caller]) => {
        const pages: Ec2Listing[] = [];
        let token: string | undefined = (command.input as Ec2Listing).NextToken;
        do {
          const input = {
            ...(command.input as object),
            ...(token === undefined ? {} : { NextToken: token }),
          };
          const page = await caller.send<Ec2Listing>(
            new (command.constructor as CommandClass)(input),
            options,
          );
          this.remember(region, page);
          pages.push(page);
          token = ec2Next(page);
        } while (token !== undefined);
        return pages;
      }),
    );
    const pages = perRegion.flat();
    return {
      Reservations: pages.flatMap((page) => page.Reservations ?? []),
      IamInstanceProfileAssociations: pages.flatMap((page) => page.IamInstanceProfileAssociations ?? []),
    };
  }

  private remember(region: string, page: Ec2Listing): void {
    for (const reservation of page.Reservations ?? [])
      for (const instance of reservation.Instances ?? [])
        if (instance.InstanceId !== undefined) this.regionOf.set(instance.InstanceId, region);
    for (const association of page.IamInstanceProfileAssociations ?? []) {
      if (association.AssociationId !== undefined) this.regionOf.set(association.AssociationId, region);
      if (association.InstanceId !== undefined) this.regionOf.set(association.InstanceId, region);
    }
  }
}
