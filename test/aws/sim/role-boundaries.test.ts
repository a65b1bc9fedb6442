import {
  CreatePolicyCommand,
  CreateRoleCommand,
  DeleteRolePermissionsBoundaryCommand,
  GetAccountAuthorizationDetailsCommand,
  GetRoleCommand,
  PutRolePermissionsBoundaryCommand,
  type GetAccountAuthorizationDetailsCommandOutput,
  type GetRoleCommandOutput,
} from "@aws-sdk/client-iam";
import { beforeEach, describe, expect, it } from "vitest";
import { SimCloud } from "../../../src/aws/sim/sim-cloud.js";
import { ec2Trust, expectAwsError, json, readPolicy } from "./sim-fixtures.js";

describe("IAM role permissions boundaries in the simulator", () => {
  let sim: SimCloud;
  let boundary: string;

  beforeEach(async () => {
    sim = new SimCloud();
    const created = (await sim.iam.send(
      new CreatePolicyCommand({ PolicyName: "boundary", Path: "/b/", PolicyDocument: json(readPolicy) }),
    )) as { Policy?: { Arn?: string } };
    boundary = created.Policy?.Arn ?? "";
  });

  const boundaryOf = async (name: string) =>
    ((await sim.iam.send(new GetRoleCommand({ RoleName: name }))) as GetRoleCommandOutput).Role
      ?.PermissionsBoundary;

  it("a role created with a boundary shows it in GetRole and in the account's details", async () => {
    await sim.iam.send(
      new CreateRoleCommand({
        RoleName: "R",
        AssumeRolePolicyDocument: json(ec2Trust),
        PermissionsBoundary: boundary,
      }),
    );
    expect(await boundaryOf("R")).toEqual({
      PermissionsBoundaryType: "PermissionsBoundaryPolicy",
      PermissionsBoundaryArn: boundary,
    });
    const details = (await sim.iam.send(
      new GetAccountAuthorizationDetailsCommand({ Filter: ["Role"] }),
    )) as GetAccountAuthorizationDetailsCommandOutput;
    expect(details.RoleDetailList?.[0]?.PermissionsBoundary?.PermissionsBoundaryArn).toBe(boundary);
  });

  it("a boundary is put, replaced and removed; a role without one shows no element", async () => {
    await sim.iam.send(new CreateRoleCommand({ RoleName: "R", AssumeRolePolicyDocument: json(ec2Trust) }));
    expect(await boundaryOf("R")).toBeUndefined();
    await sim.iam.send(
      new PutRolePermissionsBoundaryCommand({ RoleName: "R", PermissionsBoundary: boundary }),
    );
    expect((await boundaryOf("R"))?.PermissionsBoundaryArn).toBe(boundary);
    await sim.iam.send(new DeleteRolePermissionsBoundaryCommand({ RoleName: "R" }));
    expect(await boundaryOf("R")).toBeUndefined();
  });

  it("a boundary that is not an existing policy is refused", async () => {
    await expectAwsError(
      sim.iam.send(
        new CreateRoleCommand({
          RoleName: "R",
          AssumeRolePolicyDocument: json(ec2Trust),
          PermissionsBoundary: "arn:aws:iam::123456789012:policy/missing",
        }),
      ),
      { name: "NoSuchEntityException", Code: "NoSuchEntity", status: 404 },
    );
  });
});
