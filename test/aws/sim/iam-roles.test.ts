import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  CreateInstanceProfileCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRoleTagsCommand,
  PutRolePolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
  TagRoleCommand,
  UntagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  type CreatePolicyCommandOutput,
  type CreateRoleCommandOutput,
  type GetRoleCommandOutput,
  type GetRolePolicyCommandOutput,
  type ListAttachedRolePoliciesCommandOutput,
  type ListRolePoliciesCommandOutput,
  type ListRoleTagsCommandOutput,
} from "@aws-sdk/client-iam";
import { beforeEach, describe, expect, it } from "vitest";
import { SimCloud } from "../../../src/aws/sim/sim-cloud.js";
import { ec2Trust, expectAwsError, iamErr, json, readPolicy } from "./sim-fixtures.js";

let sim: SimCloud;
beforeEach(() => {
  sim = new SimCloud();
});

const createRole = (name: string, extra: Partial<{ Path: string; Description: string }> = {}) =>
  sim.iam.send(
    new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: json(ec2Trust), ...extra }),
  ) as Promise<CreateRoleCommandOutput>;

const getRole = async (name: string) =>
  ((await sim.iam.send(new GetRoleCommand({ RoleName: name }))) as GetRoleCommandOutput).Role!;

async function createPolicy(name: string, path = "/"): Promise<string> {
  const output = (await sim.iam.send(
    new CreatePolicyCommand({ PolicyName: name, Path: path, PolicyDocument: json(readPolicy) }),
  )) as CreatePolicyCommandOutput;
  return output.Policy!.Arn!;
}

const attachedArns = async (role: string, pathPrefix?: string) =>
  (
    (await sim.iam.send(
      new ListAttachedRolePoliciesCommand({
        RoleName: role,
        ...(pathPrefix === undefined ? {} : { PathPrefix: pathPrefix }),
      }),
    )) as ListAttachedRolePoliciesCommandOutput
  ).AttachedPolicies!.map((policy) => policy.PolicyArn);

describe("CreateRole and GetRole", () => {
  it("creates a role with an AROA ID, its path in the ARN, the trust policy URL-encoded and its tags", async () => {
    const { Role } = (await sim.iam.send(
      new CreateRoleCommand({
        RoleName: "DEV_ROLE",
        Path: "/rolecall/",
        AssumeRolePolicyDocument: json(ec2Trust),
        Description: "dev box",
        Tags: [{ Key: "managed-by", Value: "rolecall" }],
      }),
    )) as CreateRoleCommandOutput;
    expect(Role).toMatchObject({
      RoleName: "DEV_ROLE",
      Path: "/rolecall/",
      Arn: "arn:aws:iam::123456789012:role/rolecall/DEV_ROLE",
      AssumeRolePolicyDocument: encodeURIComponent(json(ec2Trust)),
      Description: "dev box",
      MaxSessionDuration: 3600,
      Tags: [{ Key: "managed-by", Value: "rolecall" }],
    });
    expect(Role?.RoleId).toMatch(/^AROA[A-Z0-9]{17}$/);
    expect(Role?.CreateDate).toBeInstanceOf(Date);

    const read = await getRole("dev_role");
    expect(read).toMatchObject({
      RoleName: "DEV_ROLE",
      RoleId: Role?.RoleId,
      Tags: [{ Key: "managed-by", Value: "rolecall" }],
    });
    expect(JSON.parse(decodeURIComponent(read.AssumeRolePolicyDocument!))).toEqual(ec2Trust);
  });

  it("returns an empty tag list for a role without tags, and leaves Tags out of CreateRole's answer", async () => {
    const { Role } = await createRole("R");
    expect(Role?.Tags).toBeUndefined();
    expect((await getRole("R")).Tags).toEqual([]);
  });

  it("refuses a duplicate name, compared case-insensitively", async () => {
    await createRole("DEV_ROLE");
    await expectAwsError(
      createRole("dev_role", { Path: "/elsewhere/" }),
      iamErr("EntityAlreadyExists", 409, /dev_role already exists/),
    );
  });

  it.each([
    ["no Principal", { Statement: [{ Effect: "Allow", Action: "sts:AssumeRole" }] }, /Principal/],
    ["a Resource", { Statement: [{ ...ec2Trust.Statement[0], Resource: "*" }] }, /prohibited field Resource/],
  ])("refuses a trust policy with %s", async (_what, document, message) => {
    await expectAwsError(
      sim.iam.send(new CreateRoleCommand({ RoleName: "R", AssumeRolePolicyDocument: json(document) })),
      iamErr("MalformedPolicyDocument", 400, message),
    );
  });

  it("refuses a trust policy over 2,048 characters, a 65-character name and a missing document", async () => {
    const principals = Array.from(
      { length: 60 },
      (_, index) => `arn:aws:iam::123456789012:role/some-long-role-name-${index}`,
    );
    const big = {
      Statement: [{ Effect: "Allow", Principal: { AWS: principals }, Action: "sts:AssumeRole" }],
    };
    await expectAwsError(
      sim.iam.send(new CreateRoleCommand({ RoleName: "R", AssumeRolePolicyDocument: json(big) })),
      iamErr("LimitExceeded", 409, "Cannot exceed quota for ACLSizePerRole: 2048"),
    );
    await expectAwsError(createRole("r".repeat(65)), iamErr("ValidationError", 400));
    await expectAwsError(
      sim.iam.send(new CreateRoleCommand({ RoleName: "R", AssumeRolePolicyDocument: undefined })),
      iamErr("ValidationError", 400),
    );
  });

  it("reports an unknown role as NoSuchEntity", async () => {
    await expectAwsError(
      sim.iam.send(new GetRoleCommand({ RoleName: "missing" })),
      iamErr("NoSuchEntity", 404, "The role with name missing cannot be found."),
    );
  });
});

describe("UpdateAssumeRolePolicy", () => {
  it("replaces the trust policy after validating it", async () => {
    await createRole("R");
    const lambdaTrust = {
      ...ec2Trust,
      Statement: [{ ...ec2Trust.Statement[0], Principal: { Service: "lambda.amazonaws.com" } }],
    };
    await sim.iam.send(
      new UpdateAssumeRolePolicyCommand({ RoleName: "r", PolicyDocument: json(lambdaTrust) }),
    );
    expect(JSON.parse(decodeURIComponent((await getRole("R")).AssumeRolePolicyDocument!))).toEqual(
      lambdaTrust,
    );
    await expectAwsError(
      sim.iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: "R", PolicyDocument: json(readPolicy) })),
      iamErr("MalformedPolicyDocument", 400),
    );
    await expectAwsError(
      sim.iam.send(
        new UpdateAssumeRolePolicyCommand({ RoleName: "missing", PolicyDocument: json(ec2Trust) }),
      ),
      iamErr("NoSuchEntity", 404),
    );
  });
});

describe("role tags", () => {
  it("adds, overwrites case-insensitively, lists and removes tags", async () => {
    await createRole("R");
    await sim.iam.send(
      new TagRoleCommand({
        RoleName: "R",
        Tags: [
          { Key: "Team", Value: "a" },
          { Key: "env", Value: "prod" },
        ],
      }),
    );
    await sim.iam.send(new TagRoleCommand({ RoleName: "R", Tags: [{ Key: "team", Value: "b" }] }));
    const listed = (await sim.iam.send(
      new ListRoleTagsCommand({ RoleName: "R" }),
    )) as ListRoleTagsCommandOutput;
    expect(listed.Tags).toEqual([
      { Key: "env", Value: "prod" },
      { Key: "team", Value: "b" },
    ]);
    expect(listed.IsTruncated).toBe(false);
    await sim.iam.send(new UntagRoleCommand({ RoleName: "R", TagKeys: ["ENV"] }));
    expect((await getRole("R")).Tags).toEqual([{ Key: "team", Value: "b" }]);
    await expectAwsError(
      sim.iam.send(new TagRoleCommand({ RoleName: "x", Tags: [] })),
      iamErr("NoSuchEntity", 404),
    );
    await expectAwsError(
      sim.iam.send(new UntagRoleCommand({ RoleName: "R", TagKeys: undefined })),
      iamErr("ValidationError", 400),
    );
  });
});

describe("managed policy attachments", () => {
  it("attaches (idempotently), lists by path prefix and detaches", async () => {
    await createRole("R");
    const mine = await createPolicy("Mine", "/rolecall/");
    const other = await createPolicy("Other");
    await sim.iam.send(new AttachRolePolicyCommand({ RoleName: "R", PolicyArn: mine }));
    await sim.iam.send(new AttachRolePolicyCommand({ RoleName: "r", PolicyArn: mine }));
    await sim.iam.send(new AttachRolePolicyCommand({ RoleName: "R", PolicyArn: other }));
    expect(await attachedArns("R")).toEqual([mine, other]);
    expect(await attachedArns("R", "/rolecall/")).toEqual([mine]);
    await sim.iam.send(new DetachRolePolicyCommand({ RoleName: "R", PolicyArn: mine }));
    expect(await attachedArns("R")).toEqual([other]);
  });

  it("reports a missing policy or role as NoSuchEntity, and detaching what is not attached too", async () => {
    await createRole("R");
    const arn = await createPolicy("P");
    await expectAwsError(
      sim.iam.send(
        new AttachRolePolicyCommand({ RoleName: "R", PolicyArn: "arn:aws:iam::123456789012:policy/Nope" }),
      ),
      iamErr("NoSuchEntity", 404, /does not exist or is not attachable/),
    );
    await expectAwsError(
      sim.iam.send(new AttachRolePolicyCommand({ RoleName: "Nobody", PolicyArn: arn })),
      iamErr("NoSuchEntity", 404),
    );
    await expectAwsError(
      sim.iam.send(new DetachRolePolicyCommand({ RoleName: "R", PolicyArn: arn })),
      iamErr("NoSuchEntity", 404, `Policy ${arn} was not found.`),
    );
  });

  it("refuses an eleventh managed policy with LimitExceeded", async () => {
    await createRole("R");
    for (let index = 0; index < 10; index += 1) {
      await sim.iam.send(
        new AttachRolePolicyCommand({ RoleName: "R", PolicyArn: await createPolicy(`P${index}`) }),
      );
    }
    const eleventh = await createPolicy("P10");
    await expectAwsError(
      sim.iam.send(new AttachRolePolicyCommand({ RoleName: "R", PolicyArn: eleventh })),
      iamErr("LimitExceeded", 409, "Cannot exceed quota for PoliciesPerRole: 10"),
    );
  });

  it("pages attached policies", async () => {
    await createRole("R");
    for (const name of ["a", "b", "c"])
      await sim.iam.send(new AttachRolePolicyCommand({ RoleName: "R", PolicyArn: await createPolicy(name) }));
    const first = (await sim.iam.send(
      new ListAttachedRolePoliciesCommand({ RoleName: "R", MaxItems: 2 }),
    )) as ListAttachedRolePoliciesCommandOutput;
    const second = (await sim.iam.send(
      new ListAttachedRolePoliciesCommand({ RoleName: "R", MaxItems: 2, Marker: first.Marker! }),
    )) as ListAttachedRolePoliciesCommandOutput;
    expect(
      [...first.AttachedPolicies!, ...second.AttachedPolicies!].map((policy) => policy.PolicyName),
    ).toEqual(["a", "b", "c"]);
    expect([first.IsTruncated, second.IsTruncated]).toEqual([true, false]);
  });
});

describe("inline policies", () => {
  const names = async (role: string) =>
    ((await sim.iam.send(new ListRolePoliciesCommand({ RoleName: role }))) as ListRolePoliciesCommandOutput)
      .PolicyNames;

  it("puts (and overwrites), reads back URL-encoded, lists and deletes inline policies", async () => {
    await createRole("R");
    await sim.iam.send(
      new PutRolePolicyCommand({ RoleName: "R", PolicyName: "zeta", PolicyDocument: json(readPolicy) }),
    );
    await sim.iam.send(
      new PutRolePolicyCommand({ RoleName: "R", PolicyName: "alpha", PolicyDocument: json(readPolicy) }),
    );
    const replaced = {
      ...readPolicy,
      Statement: [{ ...readPolicy.Statement[0], Action: ["s3:ListBucket"] }],
    };
    await sim.iam.send(
      new PutRolePolicyCommand({ RoleName: "R", PolicyName: "zeta", PolicyDocument: json(replaced) }),
    );
    expect(await names("R")).toEqual(["alpha", "zeta"]);
    const read = (await sim.iam.send(
      new GetRolePolicyCommand({ RoleName: "R", PolicyName: "zeta" }),
    )) as GetRolePolicyCommandOutput;
    expect(read.PolicyDocument).toBe(encodeURIComponent(json(replaced)));
    await sim.iam.send(new DeleteRolePolicyCommand({ RoleName: "R", PolicyName: "zeta" }));
    expect(await names("R")).toEqual(["alpha"]);
    await expectAwsError(
      sim.iam.send(new DeleteRolePolicyCommand({ RoleName: "R", PolicyName: "zeta" })),
      iamErr("NoSuchEntity", 404, /zeta cannot be found/),
    );
  });

  it("refuses a Principal, an unknown role, and inline policies totalling over 10,240 characters", async () => {
    await createRole("R");
    await expectAwsError(
      sim.iam.send(
        new PutRolePolicyCommand({ RoleName: "R", PolicyName: "p", PolicyDocument: json(ec2Trust) }),
      ),
      iamErr("MalformedPolicyDocument", 400),
    );
    await expectAwsError(
      sim.iam.send(
        new PutRolePolicyCommand({ RoleName: "nobody", PolicyName: "p", PolicyDocument: json(readPolicy) }),
      ),
      iamErr("NoSuchEntity", 404),
    );
    const resources = Array.from({ length: 150 }, (_, index) => `arn:aws:s3:::bucket-number-${index}/*`);
    const big = json({ Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: resources }] });
    expect(big.length).toBeGreaterThan(5120);
    expect(big.length).toBeLessThan(10240);
    await sim.iam.send(new PutRolePolicyCommand({ RoleName: "R", PolicyName: "one", PolicyDocument: big }));
    // Overwriting the same policy does not count it twice.
    await sim.iam.send(new PutRolePolicyCommand({ RoleName: "R", PolicyName: "one", PolicyDocument: big }));
    await expectAwsError(
      sim.iam.send(new PutRolePolicyCommand({ RoleName: "R", PolicyName: "two", PolicyDocument: big })),
      iamErr("LimitExceeded", 409, /Maximum policy size of 10240 bytes exceeded for role R/),
    );
  });
});

describe("DeleteRole", () => {
  it("refuses while the role is in a profile, has attached or inline policies; deletes it after", async () => {
    await createRole("R");
    const arn = await createPolicy("P");
    await sim.iam.send(new AttachRolePolicyCommand({ RoleName: "R", PolicyArn: arn }));
    await sim.iam.send(
      new PutRolePolicyCommand({ RoleName: "R", PolicyName: "inline", PolicyDocument: json(readPolicy) }),
    );
    await sim.iam.send(new CreateInstanceProfileCommand({ InstanceProfileName: "IP" }));
    await sim.iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: "IP", RoleName: "R" }));

    const deleteRole = () => sim.iam.send(new DeleteRoleCommand({ RoleName: "R" }));
    await expectAwsError(deleteRole(), iamErr("DeleteConflict", 409, /remove roles from instance profile/));
    await sim.iam.send(
      new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: "IP", RoleName: "R" }),
    );
    await expectAwsError(deleteRole(), iamErr("DeleteConflict", 409, /detach all policies/));
    await sim.iam.send(new DetachRolePolicyCommand({ RoleName: "R", PolicyArn: arn }));
    await expectAwsError(deleteRole(), iamErr("DeleteConflict", 409, /delete policies first/));
    await sim.iam.send(new DeleteRolePolicyCommand({ RoleName: "R", PolicyName: "inline" }));
    await deleteRole();
    await expectAwsError(sim.iam.send(new GetRoleCommand({ RoleName: "R" })), iamErr("NoSuchEntity", 404));
    await expectAwsError(deleteRole(), iamErr("NoSuchEntity", 404));
  });
});
