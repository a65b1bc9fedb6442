import {
  AssociateIamInstanceProfileCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstancesCommand,
  DisassociateIamInstanceProfileCommand,
  ReplaceIamInstanceProfileAssociationCommand,
  type AssociateIamInstanceProfileCommandOutput,
  type DescribeIamInstanceProfileAssociationsCommandOutput,
  type DescribeIamInstanceProfileAssociationsRequest,
  type DescribeInstancesCommandOutput,
  type DescribeInstancesRequest,
  type DisassociateIamInstanceProfileCommandOutput,
  type ReplaceIamInstanceProfileAssociationCommandOutput,
} from "@aws-sdk/client-ec2";
import {
  CreateInstanceProfileCommand,
  DeleteInstanceProfileCommand,
  type CreateInstanceProfileCommandOutput,
} from "@aws-sdk/client-iam";
import { beforeEach, describe, expect, it } from "vitest";
import { SimCloud } from "../../../src/aws/sim/sim-cloud.js";
import { ec2Err, expectAwsError } from "./sim-fixtures.js";

/** EC2 as the simulator answers it: instances, then instance-profile associations. */
describe("EC2 instances", () => {
  let sim: SimCloud;
  beforeEach(() => {
    sim = new SimCloud({
      instances: [
        { id: "i-0000000000000000a", tags: { Team: "analytics", Environment: "prod" } },
        { id: "i-0000000000000000b", tags: { Team: "analytics", Environment: "prod" }, state: "stopped" },
        { id: "i-0000000000000000c", tags: { Team: "analytics", Environment: "dev" } },
        { id: "i-0000000000000000d", tags: { Environment: "staging", Name: "web-1" }, state: "pending" },
        { id: "i-0000000000000000e", tags: { Team: "Analytics", Environment: "prod" }, state: "terminated" },
      ],
    });
  });

  const describeInstances = (input: DescribeInstancesRequest) =>
    sim.ec2.send(new DescribeInstancesCommand(input)) as Promise<DescribeInstancesCommandOutput>;

  const ids = (output: DescribeInstancesCommandOutput) =>
    (output.Reservations ?? []).flatMap((reservation) =>
      (reservation.Instances ?? []).map((instance) => instance.InstanceId),
    );

  describe("DescribeInstances", () => {
    it("returns every instance in launch order, each in a reservation owned by the account, with state and tags", async () => {
      const output = await describeInstances({});
      expect(ids(output)).toEqual(["a", "b", "c", "d", "e"].map((suffix) => `i-0000000000000000${suffix}`));
      expect(output.NextToken).toBeUndefined();
      const [first] = output.Reservations!;
      expect(first?.OwnerId).toBe("123456789012");
      expect(first?.ReservationId).toMatch(/^r-[0-9a-f]{17}$/);
      expect(first?.Instances?.[0]).toMatchObject({
        InstanceId: "i-0000000000000000a",
        State: { Name: "running", Code: 16 },
        Tags: [
          { Key: "Team", Value: "analytics" },
          { Key: "Environment", Value: "prod" },
        ],
      });
      expect(first?.Instances?.[0]?.IamInstanceProfile).toBeUndefined();
      const states = output.Reservations!.map((reservation) => reservation.Instances![0]!.State);
      expect(states).toEqual([
        { Name: "running", Code: 16 },
        { Name: "stopped", Code: 80 },
        { Name: "running", Code: 16 },
        { Name: "pending", Code: 0 },
        { Name: "terminated", Code: 48 },
      ]);
    });

    it("ANDs filters and ORs the values within one", async () => {
      const output = await describeInstances({
        Filters: [
          { Name: "tag:Team", Values: ["analytics"] },
          { Name: "tag:Environment", Values: ["prod"] },
          { Name: "instance-state-name", Values: ["pending", "running", "stopping", "stopped"] },
        ],
      });
      expect(ids(output)).toEqual(["i-0000000000000000a", "i-0000000000000000b"]);
      const either = await describeInstances({
        Filters: [{ Name: "tag:Environment", Values: ["dev", "staging"] }],
      });
      expect(ids(either)).toEqual(["i-0000000000000000c", "i-0000000000000000d"]);
    });

    it("matches tag values case-sensitively, with * and ? wildcards", async () => {
      expect(
        ids(await describeInstances({ Filters: [{ Name: "tag:Team", Values: ["Analytics"] }] })),
      ).toEqual(["i-0000000000000000e"]);
      expect(
        ids(await describeInstances({ Filters: [{ Name: "tag:Team", Values: ["?nalytics"] }] })),
      ).toHaveLength(4);
      expect(ids(await describeInstances({ Filters: [{ Name: "tag:Name", Values: ["web-*"] }] }))).toEqual([
        "i-0000000000000000d",
      ]);
      expect(ids(await describeInstances({ Filters: [{ Name: "tag:Name", Values: ["web-\\*"] }] }))).toEqual(
        [],
      );
    });

    it("filters by tag-key and instance-id", async () => {
      expect(ids(await describeInstances({ Filters: [{ Name: "tag-key", Values: ["Name"] }] }))).toEqual([
        "i-0000000000000000d",
      ]);
      const byId = await describeInstances({
        Filters: [{ Name: "instance-id", Values: ["i-0000000000000000c", "i-0000000000000000f"] }],
      });
      expect(ids(byId)).toEqual(["i-0000000000000000c"]);
    });

    it("treats a filter without values as 'has the field', as EC2 does (an empty instance-id filter matches all)", async () => {
      expect(ids(await describeInstances({ Filters: [{ Name: "instance-id", Values: [] }] }))).toHaveLength(
        5,
      );
      expect(ids(await describeInstances({ Filters: [{ Name: "tag:Name", Values: [] }] }))).toEqual([
        "i-0000000000000000d",
      ]);
    });

    it("looks up InstanceIds, and reports unknown and malformed IDs", async () => {
      expect(
        ids(await describeInstances({ InstanceIds: ["i-0000000000000000d", "i-0000000000000000a"] })),
      ).toEqual(["i-0000000000000000a", "i-0000000000000000d"]);
      expect(ids(await describeInstances({ InstanceIds: [] }))).toHaveLength(5);
      await expectAwsError(
        describeInstances({ InstanceIds: ["i-0000000000000000a", "i-00000000000000099"] }),
        ec2Err("InvalidInstanceID.NotFound", "The instance ID 'i-00000000000000099' does not exist"),
      );
      await expectAwsError(
        describeInstances({ InstanceIds: ["web-1"] }),
        ec2Err("InvalidInstanceID.Malformed"),
      );
    });

    it("pages over instances with MaxResults and NextToken", async () => {
      for (let index = 0; index < 8; index += 1) sim.launchInstance({ tags: { Batch: "x" } });
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await describeInstances({
          MaxResults: 5,
          ...(token === undefined ? {} : { NextToken: token }),
        });
        pages += 1;
        expect(ids(page).length).toBeLessThanOrEqual(5);
        seen.push(...ids(page).map(String));
        token = page.NextToken;
      } while (token !== undefined);
      expect(pages).toBe(3);
      expect(seen).toHaveLength(13);
      expect(new Set(seen).size).toBe(13);
    });

    it("refuses unknown filters, too many filter values, bad MaxResults, MaxResults with InstanceIds and foreign tokens", async () => {
      await expectAwsError(
        describeInstances({ Filters: [{ Name: "colour", Values: ["red"] }] }),
        ec2Err("InvalidParameterValue", /'colour' is invalid/),
      );
      const values = Array.from({ length: 201 }, (_, index) => `i-${index.toString(16).padStart(17, "0")}`);
      await expectAwsError(
        describeInstances({ Filters: [{ Name: "instance-id", Values: values }] }),
        ec2Err("FilterLimitExceeded"),
      );
      await expectAwsError(
        describeInstances({ MaxResults: 4 }),
        ec2Err("InvalidParameterValue", /maxResults/),
      );
      await expectAwsError(describeInstances({ MaxResults: 1001 }), ec2Err("InvalidParameterValue"));
      await expectAwsError(
        describeInstances({ InstanceIds: ["i-0000000000000000a"], MaxResults: 5 }),
        ec2Err("InvalidParameterCombination"),
      );
      await expectAwsError(
        describeInstances({ MaxResults: 5, NextToken: "not-a-token" }),
        ec2Err("InvalidParameterValue"),
      );
    });

    it("reflects state and tag changes made through SimCloud", async () => {
      sim.setInstanceState("i-0000000000000000c", "stopping");
      sim.setInstanceTags("i-0000000000000000c", { Environment: "prod", Team: "analytics" });
      const output = await describeInstances({ InstanceIds: ["i-0000000000000000c"] });
      expect(output.Reservations?.[0]?.Instances?.[0]).toMatchObject({
        State: { Name: "stopping", Code: 64 },
        Tags: [
          { Key: "Environment", Value: "prod" },
          { Key: "Team", Value: "analytics" },
        ],
      });
    });
  });
});

describe("EC2 instance-profile associations", () => {
  const running = "i-0000000000000000a";
  const stopped = "i-0000000000000000b";
  const gone = "i-0000000000000000c";

  let sim: SimCloud;
  let profile: { Arn: string; Id: string };
  beforeEach(async () => {
    sim = new SimCloud({
      instances: [{ id: running }, { id: stopped, state: "stopped" }, { id: gone, state: "terminated" }],
    });
    profile = await createProfile("DEV_PROFILE");
  });

  async function createProfile(name: string): Promise<{ Arn: string; Id: string }> {
    const { InstanceProfile } = (await sim.iam.send(
      new CreateInstanceProfileCommand({ InstanceProfileName: name, Path: "/rolecall/" }),
    )) as CreateInstanceProfileCommandOutput;
    return { Arn: InstanceProfile!.Arn!, Id: InstanceProfile!.InstanceProfileId! };
  }

  const associate = (instanceId: string, spec: { Name?: string; Arn?: string }) =>
    sim.ec2.send(
      new AssociateIamInstanceProfileCommand({ InstanceId: instanceId, IamInstanceProfile: spec }),
    ) as Promise<AssociateIamInstanceProfileCommandOutput>;

  const describeAssociations = (input: DescribeIamInstanceProfileAssociationsRequest = {}) =>
    sim.ec2.send(
      new DescribeIamInstanceProfileAssociationsCommand(input),
    ) as Promise<DescribeIamInstanceProfileAssociationsCommandOutput>;

  describe("AssociateIamInstanceProfile", () => {
    it("associates by name: the answer says associating, describes say associated, the instance shows the profile", async () => {
      const { IamInstanceProfileAssociation } = await associate(running, { Name: "dev_profile" });
      expect(IamInstanceProfileAssociation).toMatchObject({
        InstanceId: running,
        IamInstanceProfile: profile,
        State: "associating",
      });
      expect(IamInstanceProfileAssociation?.AssociationId).toMatch(/^iip-assoc-[0-9a-f]{17}$/);

      const { IamInstanceProfileAssociations } = await describeAssociations();
      expect(IamInstanceProfileAssociations).toEqual([
        expect.objectContaining({
          AssociationId: IamInstanceProfileAssociation?.AssociationId,
          InstanceId: running,
          IamInstanceProfile: profile,
          State: "associated",
        }),
      ]);
      const instances = (await sim.ec2.send(
        new DescribeInstancesCommand({ InstanceIds: [running] }),
      )) as DescribeInstancesCommandOutput;
      expect(instances.Reservations?.[0]?.Instances?.[0]?.IamInstanceProfile).toEqual(profile);
    });

    it("associates by ARN, and a stopped instance too", async () => {
      const { IamInstanceProfileAssociation } = await associate(stopped, { Arn: profile.Arn });
      expect(IamInstanceProfileAssociation?.IamInstanceProfile).toEqual(profile);
    });

    it("refuses a second association with IncorrectState, as EC2 words it", async () => {
      await associate(running, { Name: "DEV_PROFILE" });
      await expectAwsError(
        associate(running, { Name: "DEV_PROFILE" }),
        ec2Err("IncorrectState", `There is an existing association for instance ${running}`),
      );
    });

    it("refuses an unknown profile name or ARN with InvalidParameterValue, as EC2 words it", async () => {
      await expectAwsError(
        associate(running, { Name: "NOPE" }),
        ec2Err(
          "InvalidParameterValue",
          "Value (NOPE) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name",
        ),
      );
      const wrongPath = "arn:aws:iam::123456789012:instance-profile/DEV_PROFILE";
      await expectAwsError(
        associate(running, { Arn: wrongPath }),
        ec2Err(
          "InvalidParameterValue",
          `Value (${wrongPath}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN`,
        ),
      );
    });

    it("refuses unknown, malformed and terminated instances, and a missing profile specification", async () => {
      await expectAwsError(
        associate("i-0000000000000000f", { Name: "DEV_PROFILE" }),
        ec2Err("InvalidInstanceID.NotFound"),
      );
      await expectAwsError(
        associate("dev-box", { Name: "DEV_PROFILE" }),
        ec2Err("InvalidInstanceID.Malformed"),
      );
      await expectAwsError(associate(gone, { Name: "DEV_PROFILE" }), ec2Err("IncorrectInstanceState"));
      await expectAwsError(
        sim.ec2.send(
          new AssociateIamInstanceProfileCommand({ InstanceId: running, IamInstanceProfile: undefined }),
        ),
        ec2Err("MissingParameter"),
      );
    });

    it("keeps an association whose profile was deleted, pointing at the old ARN", async () => {
      await associate(running, { Name: "DEV_PROFILE" });
      await sim.iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: "DEV_PROFILE" }));
      const { IamInstanceProfileAssociations } = await describeAssociations();
      expect(IamInstanceProfileAssociations?.[0]?.IamInstanceProfile).toEqual(profile);
    });
  });

  describe("ReplaceIamInstanceProfileAssociation and DisassociateIamInstanceProfile", () => {
    it("replaces the profile under a new association ID", async () => {
      const other = await createProfile("OTHER");
      const first = (await associate(running, { Name: "DEV_PROFILE" })).IamInstanceProfileAssociation!;
      const { IamInstanceProfileAssociation } = (await sim.ec2.send(
        new ReplaceIamInstanceProfileAssociationCommand({
          AssociationId: first.AssociationId,
          IamInstanceProfile: { Name: "OTHER" },
        }),
      )) as ReplaceIamInstanceProfileAssociationCommandOutput;
      expect(IamInstanceProfileAssociation).toMatchObject({
        InstanceId: running,
        IamInstanceProfile: other,
        State: "associating",
      });
      expect(IamInstanceProfileAssociation?.AssociationId).not.toBe(first.AssociationId);
      const { IamInstanceProfileAssociations } = await describeAssociations();
      expect(
        IamInstanceProfileAssociations?.map((association) => [
          association.AssociationId,
          association.IamInstanceProfile?.Arn,
        ]),
      ).toEqual([[IamInstanceProfileAssociation?.AssociationId, other.Arn]]);
    });

    it("reports unknown association IDs as InvalidAssociationID.NotFound and an unknown profile as InvalidParameterValue", async () => {
      await expectAwsError(
        sim.ec2.send(
          new ReplaceIamInstanceProfileAssociationCommand({
            AssociationId: "iip-assoc-00000000000000000",
            IamInstanceProfile: { Name: "DEV_PROFILE" },
          }),
        ),
        ec2Err("InvalidAssociationID.NotFound"),
      );
      await expectAwsError(
        sim.ec2.send(
          new DisassociateIamInstanceProfileCommand({ AssociationId: "iip-assoc-00000000000000000" }),
        ),
        ec2Err("InvalidAssociationID.NotFound"),
      );
      const { AssociationId } = (await associate(running, { Name: "DEV_PROFILE" }))
        .IamInstanceProfileAssociation!;
      await expectAwsError(
        sim.ec2.send(
          new ReplaceIamInstanceProfileAssociationCommand({
            AssociationId,
            IamInstanceProfile: { Name: "NOPE" },
          }),
        ),
        ec2Err("InvalidParameterValue", /iamInstanceProfile\.name is invalid/),
      );
      await expectAwsError(
        describeAssociations({ AssociationIds: ["iip-assoc-00000000000000000"] }),
        ec2Err("InvalidAssociationID.NotFound"),
      );
    });

    it("disassociates: the answer says disassociating, the association is gone, the instance can be associated again", async () => {
      const { AssociationId } = (await associate(running, { Name: "DEV_PROFILE" }))
        .IamInstanceProfileAssociation!;
      const output = (await sim.ec2.send(
        new DisassociateIamInstanceProfileCommand({ AssociationId }),
      )) as DisassociateIamInstanceProfileCommandOutput;
      expect(output.IamInstanceProfileAssociation).toMatchObject({
        AssociationId,
        InstanceId: running,
        State: "disassociating",
      });
      expect((await describeAssociations()).IamInstanceProfileAssociations).toEqual([]);
      await expectAwsError(
        sim.ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId })),
        ec2Err("InvalidAssociationID.NotFound"),
      );
      await expect(associate(running, { Name: "DEV_PROFILE" })).resolves.toBeDefined();
    });

    it("drops the association when the instance is terminated", async () => {
      const { AssociationId } = (await associate(running, { Name: "DEV_PROFILE" }))
        .IamInstanceProfileAssociation!;
      sim.setInstanceState(running, "terminated");
      expect((await describeAssociations()).IamInstanceProfileAssociations).toEqual([]);
      await expectAwsError(
        sim.ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId })),
        ec2Err("InvalidAssociationID.NotFound"),
      );
      expect(() => {
        sim.setInstanceState(running, "running");
      }).toThrow(/terminated/);
    });
  });

  describe("DescribeIamInstanceProfileAssociations", () => {
    it("filters by instance-id and state, and looks up AssociationIds", async () => {
      const a = (await associate(running, { Name: "DEV_PROFILE" })).IamInstanceProfileAssociation!;
      await associate(stopped, { Name: "DEV_PROFILE" });
      const byInstance = await describeAssociations({
        Filters: [{ Name: "instance-id", Values: [stopped] }],
      });
      expect(byInstance.IamInstanceProfileAssociations?.map((association) => association.InstanceId)).toEqual(
        [stopped],
      );
      const current = await describeAssociations({
        Filters: [{ Name: "state", Values: ["associating", "associated"] }],
      });
      expect(current.IamInstanceProfileAssociations).toHaveLength(2);
      const leaving = await describeAssociations({
        Filters: [{ Name: "state", Values: ["disassociating"] }],
      });
      expect(leaving.IamInstanceProfileAssociations).toEqual([]);
      const byId = await describeAssociations({ AssociationIds: [a.AssociationId!] });
      expect(byId.IamInstanceProfileAssociations?.map((association) => association.InstanceId)).toEqual([
        running,
      ]);
      await expectAwsError(
        describeAssociations({ Filters: [{ Name: "profile", Values: ["x"] }] }),
        ec2Err("InvalidParameterValue"),
      );
    });

    it("pages with MaxResults and NextToken over more than one page", async () => {
      const instances = Array.from({ length: 12 }, () => sim.launchInstance());
      for (const id of instances) await associate(id, { Name: "DEV_PROFILE" });
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await describeAssociations({
          MaxResults: 5,
          ...(token === undefined ? {} : { NextToken: token }),
        });
        pages += 1;
        seen.push(...page.IamInstanceProfileAssociations!.map((association) => association.InstanceId!));
        token = page.NextToken;
      } while (token !== undefined);
      expect(pages).toBe(3);
      expect(seen).toEqual(instances);
      await expectAwsError(describeAssociations({ MaxResults: 2 }), ec2Err("InvalidParameterValue"));
    });
  });
});
