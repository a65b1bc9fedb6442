import {
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstancesCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import {
  GetAccountAuthorizationDetailsCommand,
  GetInstanceProfileCommand,
  IAMClient,
  ListInstanceProfilesCommand,
  type GetInstanceProfileCommandInput,
  type ListInstanceProfilesCommandInput,
} from "@aws-sdk/client-iam";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { createCallers, defaultAwsSettings } from "../../src/aws/aws-clients.js";
import { CallCounter } from "../../src/aws/call-observer.js";
import { readFullSnapshot } from "../../src/aws/snapshot-reader.js";
import { planPass } from "../../src/plan/plan-pass.js";
import { desiredFor, iamPath, profileArn } from "../support/desired-fixtures.js";
import { VirtualClock } from "../support/virtual-clock.js";

const iamMock = mockClient(IAMClient);
const ec2Mock = mockClient(EC2Client);

/** A role-less instance profile made by hand under /legacy/, as AWS lists it: only when the path prefix covers it. */
const legacy = {
  InstanceProfileName: "legacy-profile",
  InstanceProfileId: "AIPALEGACY",
  Arn: profileArn("legacy-profile", "/legacy/"),
  Path: "/legacy/",
  CreateDate: new Date(0),
  Roles: [],
};

beforeEach(() => {
  iamMock.reset();
  ec2Mock.reset();
  // Real AWS, unlike moto: no top-level profile list here, and ListInstanceProfiles honours PathPrefix.
  iamMock
    .on(GetAccountAuthorizationDetailsCommand)
    .resolves({ IsTruncated: false, RoleDetailList: [], Policies: [] });
  iamMock.on(ListInstanceProfilesCommand).callsFake((input: ListInstanceProfilesCommandInput) => ({
    IsTruncated: false,
    InstanceProfiles: legacy.Path.startsWith(input.PathPrefix ?? "/") ? [legacy] : [],
  }));
  iamMock.on(GetInstanceProfileCommand).callsFake((input: GetInstanceProfileCommandInput) => {
    if (input.InstanceProfileName !== legacy.InstanceProfileName) throw new Error("unexpected read");
    return { InstanceProfile: { ...legacy, Tags: [] } };
  });
  ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
  ec2Mock.on(DescribeIamInstanceProfileAssociationsCommand).resolves({ IamInstanceProfileAssociations: [] });
});

describe("readFullSnapshot and instance profiles outside rolecall's path", () => {
  it("sees a role-less profile a manifest wants to adopt, so the pass tags it instead of creating it", async () => {
    const clients = createCallers(
      { iam: new IAMClient({ region: "us-east-1" }), ec2: new EC2Client({ region: "us-east-1" }) },
      defaultAwsSettings,
      new CallCounter(),
      undefined,
      new VirtualClock(),
    );
    const adopter = desiredFor("adopter", { adopt: true, iam: { instanceProfileName: "legacy-profile" } });
    const { snapshot } = await readFullSnapshot(
      { ...clients, concurrency: 2 },
      { iamPath, partition: "aws", inForce: [adopter] },
    );
    expect(snapshot.instanceProfiles.get("legacy-profile")).toMatchObject({ path: "/legacy/", tags: {} });

    const plan = planPass(snapshot, {
      inForce: [adopter],
      protectedNames: new Set(),
      unnamedInvalid: false,
      allowMassPrune: false,
      defaultMode: "enforce",
    });
    const kinds = plan.manifests.get("adopter")?.actions.map((action) => action.kind) ?? [];
    expect(kinds).toContain("tagInstanceProfile");
    expect(kinds).not.toContain("createInstanceProfile");
  });
});
