import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  CreateInstanceProfileCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  GetAccountAuthorizationDetailsCommand,
  PutRolePolicyCommand,
  type CreatePolicyCommandOutput,
  type GetAccountAuthorizationDetailsCommandOutput,
  type GetAccountAuthorizationDetailsRequest,
} from "@aws-sdk/client-iam";
import { beforeEach, describe, expect, it } from "vitest";
import { SimCloud } from "../../../src/aws/sim/sim-cloud.js";
import { ec2Trust, expectAwsError, iamErr, json, readPolicy, writePolicy } from "./sim-fixtures.js";

let sim: SimCloud;
beforeEach(() => {
  sim = new SimCloud();
});

const details = (input: GetAccountAuthorizationDetailsRequest) =>
  sim.iam.send(
    new GetAccountAuthorizationDetailsCommand(input),
  ) as Promise<GetAccountAuthorizationDetailsCommandOutput>;

describe("GetAccountAuthorizationDetails", () => {
  it("describes roles with their trust policy, policies, profiles and tags, and policies with every version", async () => {
    const policyArn = (
      (await sim.iam.send(
        new CreatePolicyCommand({
          PolicyName: "P",
          Path: "/rolecall/",
          PolicyDocument: json(readPolicy),
          Description: "d",
        }),
      )) as CreatePolicyCommandOutput
    ).Policy!.Arn!;
    await sim.iam.send(
      new CreatePolicyVersionCommand({
        PolicyArn: policyArn,
        PolicyDocument: json(writePolicy),
        SetAsDefault: true,
      }),
    );
    await sim.iam.send(
      new CreateRoleCommand({
        RoleName: "R",
        Path: "/rolecall/",
        AssumeRolePolicyDocument: json(ec2Trust),
        Tags: [{ Key: "t", Value: "1" }],
      }),
    );
    await sim.iam.send(new AttachRolePolicyCommand({ RoleName: "R", PolicyArn: policyArn }));
    await sim.iam.send(
      new PutRolePolicyCommand({ RoleName: "R", PolicyName: "inline", PolicyDocument: json(readPolicy) }),
    );
    await sim.iam.send(
      new CreateInstanceProfileCommand({
        InstanceProfileName: "IP",
        Path: "/rolecall/",
        Tags: [{ Key: "p", Value: "2" }],
      }),
    );
    await sim.iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: "IP", RoleName: "R" }));

    const page = await details({ Filter: ["Role", "LocalManagedPolicy"] });
    expect(page.IsTruncated).toBe(false);
    expect(page.RoleDetailList).toHaveLength(1);
    const role = page.RoleDetailList![0]!;
    expect(role).toMatchObject({
      RoleName: "R",
      Path: "/rolecall/",
      Arn: "arn:aws:iam::123456789012:role/rolecall/R",
      AssumeRolePolicyDocument: encodeURIComponent(json(ec2Trust)),
      AttachedManagedPolicies: [{ PolicyName: "P", PolicyArn: policyArn }],
      RolePolicyList: [{ PolicyName: "inline", PolicyDocument: encodeURIComponent(json(readPolicy)) }],
      Tags: [{ Key: "t", Value: "1" }],
    });
    expect(role.RoleId).toMatch(/^AROA/);
    expect(role.CreateDate).toBeInstanceOf(Date);
    expect(role.InstanceProfileList).toHaveLength(1);
    expect(role.InstanceProfileList![0]).toMatchObject({
      InstanceProfileName: "IP",
      Arn: "arn:aws:iam::123456789012:instance-profile/rolecall/IP",
      Tags: [{ Key: "p", Value: "2" }],
    });
    expect(role.InstanceProfileList![0]!.Roles!.map((held) => held.RoleName)).toEqual(["R"]);

    expect(page.Policies).toHaveLength(1);
    const policy = page.Policies![0]!;
    expect(policy).toMatchObject({
      PolicyName: "P",
      Arn: policyArn,
      Path: "/rolecall/",
      DefaultVersionId: "v2",
      AttachmentCount: 1,
      IsAttachable: true,
      Description: "d",
    });
    expect(policy.PolicyId).toMatch(/^ANPA/);
    expect(policy.UpdateDate).toBeInstanceOf(Date);
    const versions = new Map(policy.PolicyVersionList!.map((version) => [version.VersionId, version]));
    expect(versions.get("v1")).toMatchObject({
      IsDefaultVersion: false,
      Document: encodeURIComponent(json(readPolicy)),
    });
    expect(versions.get("v2")).toMatchObject({
      IsDefaultVersion: true,
      Document: encodeURIComponent(json(writePolicy)),
    });
    expect(versions.get("v2")?.CreateDate).toBeInstanceOf(Date);
    expect(page.UserDetailList).toEqual([]);
  });

  it("honours the filter: roles only, policies only, everything when absent", async () => {
    await sim.iam.send(new CreatePolicyCommand({ PolicyName: "P", PolicyDocument: json(readPolicy) }));
    await sim.iam.send(new CreateRoleCommand({ RoleName: "R", AssumeRolePolicyDocument: json(ec2Trust) }));
    const rolesOnly = await details({ Filter: ["Role"] });
    expect([rolesOnly.RoleDetailList?.length, rolesOnly.Policies?.length]).toEqual([1, 0]);
    const policiesOnly = await details({ Filter: ["LocalManagedPolicy"] });
    expect([policiesOnly.RoleDetailList?.length, policiesOnly.Policies?.length]).toEqual([0, 1]);
    const awsManaged = await details({ Filter: ["AWSManagedPolicy"] });
    expect([awsManaged.RoleDetailList?.length, awsManaged.Policies?.length]).toEqual([0, 0]);
    const all = await details({});
    expect([all.RoleDetailList?.length, all.Policies?.length]).toEqual([1, 1]);
  });

  it("pages roles then policies with MaxItems (default 100) and Marker", async () => {
    for (let index = 0; index < 60; index += 1) {
      const suffix = index.toString().padStart(2, "0");
      await sim.iam.send(
        new CreateRoleCommand({ RoleName: `role-${suffix}`, AssumeRolePolicyDocument: json(ec2Trust) }),
      );
      await sim.iam.send(
        new CreatePolicyCommand({ PolicyName: `policy-${suffix}`, PolicyDocument: json(readPolicy) }),
      );
    }
    const first = await details({ Filter: ["Role", "LocalManagedPolicy"] });
    expect([first.RoleDetailList?.length, first.Policies?.length, first.IsTruncated]).toEqual([60, 40, true]);
    const second = await details({ Filter: ["Role", "LocalManagedPolicy"], Marker: first.Marker! });
    expect([second.RoleDetailList?.length, second.Policies?.length, second.IsTruncated]).toEqual([
      0,
      20,
      false,
    ]);
    expect([...first.Policies!, ...second.Policies!].map((policy) => policy.PolicyName)).toEqual(
      Array.from({ length: 60 }, (_, index) => `policy-${index.toString().padStart(2, "0")}`),
    );

    const roles: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await details({
        Filter: ["Role"],
        MaxItems: 25,
        ...(marker === undefined ? {} : { Marker: marker }),
      });
      pages += 1;
      roles.push(...page.RoleDetailList!.map((role) => role.RoleName!));
      marker = page.IsTruncated === true ? page.Marker : undefined;
    } while (marker !== undefined);
    expect(pages).toBe(3);
    expect(new Set(roles).size).toBe(60);
  });

  it("refuses an unknown entity type and an out-of-range MaxItems", async () => {
    await expectAwsError(details({ Filter: ["Robot" as "Role"] }), iamErr("ValidationError", 400));
    await expectAwsError(details({ MaxItems: 0 }), iamErr("ValidationError", 400));
  });
});
