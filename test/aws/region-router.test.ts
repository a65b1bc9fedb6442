import {
  AssociateIamInstanceProfileCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstancesCommand,
  DisassociateIamInstanceProfileCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { mockClient } from "aws-sdk-client-mock";
import { describe, expect, it } from "vitest";
import { createCallers, defaultAwsSettings } from "../../src/aws/aws-clients.js";
import { CallCounter } from "../../src/aws/call-observer.js";
import { describeAssociations, describeInstances } from "../../src/aws/ec2-read.js";
import { RegionRouter } from "../../src/aws/region-router.js";
import { IAMClient } from "@aws-sdk/client-iam";

/** One mocked EC2 client per region, each behind its own caller (own rate limit, own call count). */
function regionsOf(names: readonly string[]) {
  const counters = new Map<string, CallCounter>();
  const mocks = new Map<string, ReturnType<typeof mockClient>>();
  const callers = new Map(
    names.map((region) => {
      const client = new EC2Client({ region });
      mocks.set(region, mockClient(client));
      const counter = new CallCounter();
      counters.set(region, counter);
      const { ec2 } = createCallers(
        { iam: new IAMClient({ region }), ec2: client },
        defaultAwsSettings,
        counter,
      );
      return [region, ec2] as const;
    }),
  );
  return { router: new RegionRouter(callers), counters, mocks };
}

const reservation = (...ids: string[]) => ({
  OwnerId: "111111111111",
  Instances: ids.map((id) => ({ InstanceId: id, State: { Name: "running" as const } })),
});

describe("RegionRouter", () => {
  it("merges a listing from every region, every page of it", async () => {
    const { router, mocks, counters } = regionsOf(["us-east-1", "eu-west-1"]);
    mocks
      .get("us-east-1")
      ?.on(DescribeInstancesCommand)
      .resolvesOnce({ Reservations: [reservation("i-us1")], NextToken: "page2" })
      .resolvesOnce({ Reservations: [reservation("i-us2")] });
    mocks
      .get("eu-west-1")
      ?.on(DescribeInstancesCommand)
      .resolves({ Reservations: [reservation("i-eu1")] });
    const page = await describeInstances(router, []);
    expect(page.instances.map((instance) => instance.id).sort()).toEqual(["i-eu1", "i-us1", "i-us2"]);
    expect(page.accountId).toBe("111111111111");
    expect(counters.get("us-east-1")?.byOperation()).toEqual({ "ec2:DescribeInstances": 2 });
    expect(counters.get("eu-west-1")?.byOperation()).toEqual({ "ec2:DescribeInstances": 1 });
  });

  it("sends a change to the region its instance or association was listed in", async () => {
    const { router, mocks } = regionsOf(["us-east-1", "eu-west-1"]);
    mocks
      .get("us-east-1")
      ?.on(DescribeInstancesCommand)
      .resolves({ Reservations: [reservation("i-us1")] });
    mocks
      .get("eu-west-1")
      ?.on(DescribeInstancesCommand)
      .resolves({ Reservations: [reservation("i-eu1")] });
    mocks.get("us-east-1")?.on(DescribeIamInstanceProfileAssociationsCommand).resolves({});
    mocks
      .get("eu-west-1")
      ?.on(DescribeIamInstanceProfileAssociationsCommand)
      .resolves({
        IamInstanceProfileAssociations: [
          {
            AssociationId: "iip-assoc-eu",
            InstanceId: "i-eu1",
            State: "associated",
            IamInstanceProfile: { Arn: "a" },
          },
        ],
      });
    mocks
      .get("us-east-1")
      ?.on(AssociateIamInstanceProfileCommand)
      .resolves({
        IamInstanceProfileAssociation: { AssociationId: "iip-assoc-us", InstanceId: "i-us1" },
      });
    mocks.get("eu-west-1")?.on(DisassociateIamInstanceProfileCommand).resolves({});
    mocks.get("us-east-1")?.on(DisassociateIamInstanceProfileCommand).resolves({});
    await describeInstances(router, []);
    expect(await describeAssociations(router)).toHaveLength(1);

    await router.send(
      new AssociateIamInstanceProfileCommand({ InstanceId: "i-us1", IamInstanceProfile: { Name: "p" } }),
    );
    await router.send(new DisassociateIamInstanceProfileCommand({ AssociationId: "iip-assoc-eu" }));
    // The association it just made is known too: replacing it later goes to the same region.
    await router.send(new DisassociateIamInstanceProfileCommand({ AssociationId: "iip-assoc-us" }));
    expect(mocks.get("us-east-1")?.commandCalls(AssociateIamInstanceProfileCommand)).toHaveLength(1);
    expect(mocks.get("eu-west-1")?.commandCalls(DisassociateIamInstanceProfileCommand)).toHaveLength(1);
    expect(mocks.get("us-east-1")?.commandCalls(DisassociateIamInstanceProfileCommand)).toHaveLength(1);
    expect(mocks.get("eu-west-1")?.commandCalls(AssociateIamInstanceProfileCommand)).toHaveLength(0);
  });

  it("refuses, as a terminal error naming the instance, a change to an instance no listing saw", async () => {
    const { router } = regionsOf(["us-east-1", "eu-west-1"]);
    const attempt = router.send(
      new AssociateIamInstanceProfileCommand({ InstanceId: "i-ghost", IamInstanceProfile: { Name: "p" } }),
    );
    await expect(attempt).rejects.toMatchObject({ code: "UnknownRegion", kind: "terminal" });
    await expect(attempt).rejects.toThrow(/i-ghost.*us-east-1, eu-west-1/);
  });
});
