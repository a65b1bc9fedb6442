import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  CreateInstanceProfileCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  DeleteInstanceProfileCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetAccountAuthorizationDetailsCommand,
  GetInstanceProfileCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListInstanceProfilesCommand,
  ListInstanceProfileTagsCommand,
  ListPoliciesCommand,
  ListPolicyTagsCommand,
  ListPolicyVersionsCommand,
  ListRolePoliciesCommand,
  ListRoleTagsCommand,
  PutRolePolicyCommand,
  RemoveRoleFromInstanceProfileCommand,
  SetDefaultPolicyVersionCommand,
  TagInstanceProfileCommand,
  TagPolicyCommand,
  TagRoleCommand,
  UntagInstanceProfileCommand,
  UntagPolicyCommand,
  UntagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  type CreateInstanceProfileCommandOutput,
  type CreatePolicyCommandOutput,
  type CreatePolicyVersionCommandOutput,
  type CreateRoleCommandOutput,
  type GetAccountAuthorizationDetailsCommandOutput,
  type GetAccountAuthorizationDetailsRequest,
  type GetInstanceProfileCommandOutput,
  type GetPolicyCommandOutput,
  type GetPolicyVersionCommandOutput,
  type GetRoleCommandOutput,
  type GetRolePolicyCommandOutput,
  type ListAttachedRolePoliciesCommandOutput,
  type ListInstanceProfilesCommandOutput,
  type ListInstanceProfilesRequest,
  type ListInstanceProfileTagsCommandOutput,
  type ListPoliciesCommandOutput,
  type ListPoliciesRequest,
  type ListPolicyTagsCommandOutput,
  type ListPolicyVersionsCommandOutput,
  type ListRolePoliciesCommandOutput,
  type ListRoleTagsCommandOutput,
} from "@aws-sdk/client-iam";
import { beforeEach, describe, expect, it } from "vitest";
import { SimCloud } from "../../../src/aws/sim/sim-cloud.js";
import { ec2Trust, expectAwsError, iamErr, json, readPolicy, writePolicy } from "./sim-fixtures.js";

/** IAM as the simulator answers it, in one file: each test file costs a worker process and an SDK import. */

describe("IAM managed policies", () => {
  let sim: SimCloud;
  beforeEach(() => {
    sim = new SimCloud();
  });

  async function createPolicy(
    name: string,
    extra: Partial<{ Path: string; Description: string }> = {},
  ): Promise<string> {
    const output = (await sim.iam.send(
      new CreatePolicyCommand({ PolicyName: name, PolicyDocument: json(readPolicy), ...extra }),
    )) as CreatePolicyCommandOutput;
    return output.Policy!.Arn!;
  }

  const getPolicy = async (arn: string) =>
    ((await sim.iam.send(new GetPolicyCommand({ PolicyArn: arn }))) as GetPolicyCommandOutput).Policy!;

  const newVersion = async (arn: string, setAsDefault: boolean) =>
    (
      (await sim.iam.send(
        new CreatePolicyVersionCommand({
          PolicyArn: arn,
          PolicyDocument: json(writePolicy),
          SetAsDefault: setAsDefault,
        }),
      )) as CreatePolicyVersionCommandOutput
    ).PolicyVersion!;

  describe("CreatePolicy and GetPolicy", () => {
    it("creates a policy under its path with an ANPA ID, version v1 and the given tags and description", async () => {
      const output = (await sim.iam.send(
        new CreatePolicyCommand({
          PolicyName: "DevS3ReadAccess",
          Path: "/rolecall/",
          PolicyDocument: json(readPolicy),
          Description: "read my-dev-bucket",
          Tags: [{ Key: "managed-by", Value: "rolecall" }],
        }),
      )) as CreatePolicyCommandOutput;
      expect(output.Policy).toMatchObject({
        PolicyName: "DevS3ReadAccess",
        Arn: "arn:aws:iam::123456789012:policy/rolecall/DevS3ReadAccess",
        Path: "/rolecall/",
        DefaultVersionId: "v1",
        AttachmentCount: 0,
        IsAttachable: true,
        Description: "read my-dev-bucket",
        Tags: [{ Key: "managed-by", Value: "rolecall" }],
      });
      expect(output.Policy?.PolicyId).toMatch(/^ANPA[A-Z0-9]{17}$/);
      expect(output.Policy?.CreateDate).toBeInstanceOf(Date);
      expect(output.$metadata.httpStatusCode).toBe(200);

      const policy = await getPolicy("arn:aws:iam::123456789012:policy/rolecall/DevS3ReadAccess");
      expect(policy.Tags).toEqual([{ Key: "managed-by", Value: "rolecall" }]);
      expect(policy.PolicyId).toBe(output.Policy?.PolicyId);
    });

    it("uses the configured partition and account in ARNs", async () => {
      sim = new SimCloud({ accountId: "210987654321", partition: "aws-cn" });
      expect(await createPolicy("P")).toBe("arn:aws-cn:iam::210987654321:policy/P");
    });

    it("refuses a duplicate name, compared case-insensitively and across paths", async () => {
      await createPolicy("DevS3ReadAccess");
      await expectAwsError(
        sim.iam.send(
          new CreatePolicyCommand({
            PolicyName: "devs3readaccess",
            Path: "/other/",
            PolicyDocument: json(readPolicy),
          }),
        ),
        iamErr("EntityAlreadyExists", 409, /devs3readaccess already exists/),
      );
    });

    it.each([
      ["text that is not JSON", "{not json", /Syntax errors/],
      ["a JSON array", "[]", /Syntax errors/],
      ["no Statement", json({ Version: "2012-10-17" }), /Statement/],
      ["a Principal", json(ec2Trust), /should not specify a principal/],
      ["no Resource", json({ Statement: [{ Effect: "Allow", Action: "s3:GetObject" }] }), /resources/],
      ["an unknown Version", json({ ...readPolicy, Version: "2020-01-01" }), /legacy parsing/],
      ["a bad Effect", json({ Statement: [{ Effect: "Maybe", Action: "s3:*", Resource: "*" }] }), /Effect/],
    ])("refuses a document with %s as MalformedPolicyDocument", async (_what, document, message) => {
      await expectAwsError(
        sim.iam.send(new CreatePolicyCommand({ PolicyName: "P", PolicyDocument: document })),
        iamErr("MalformedPolicyDocument", 400, message),
      );
    });

    it("refuses a document over 6,144 characters (white space not counted) with LimitExceeded", async () => {
      const resources = Array.from({ length: 200 }, (_, index) => `arn:aws:s3:::bucket-number-${index}/*`);
      const big = json({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: resources }],
      });
      expect(big.length).toBeGreaterThan(6144);
      await expectAwsError(
        sim.iam.send(new CreatePolicyCommand({ PolicyName: "Big", PolicyDocument: big })),
        iamErr("LimitExceeded", 409, "Cannot exceed quota for PolicySize: 6144"),
      );
      const padded = json(readPolicy).replace("{", `{${" ".repeat(7000)}`);
      expect(padded.length).toBeGreaterThan(6144);
      await expect(
        sim.iam.send(new CreatePolicyCommand({ PolicyName: "Padded", PolicyDocument: padded })),
      ).resolves.toBeDefined();
    });

    it.each([
      ["a name with a space", { PolicyName: "bad name" }],
      ["a name of 129 characters", { PolicyName: "p".repeat(129) }],
      ["no name", { PolicyName: undefined }],
      ["a path without a trailing slash", { PolicyName: "P", Path: "/rolecall" }],
    ])("refuses %s with ValidationError", async (_what, input) => {
      await expectAwsError(
        sim.iam.send(new CreatePolicyCommand({ PolicyDocument: json(readPolicy), ...input })),
        iamErr("ValidationError", 400),
      );
    });

    it("finds a policy by ARN whatever the name's case, and reports unknown and malformed ARNs", async () => {
      await createPolicy("DevS3ReadAccess");
      expect((await getPolicy("arn:aws:iam::123456789012:policy/DEVS3READACCESS")).PolicyName).toBe(
        "DevS3ReadAccess",
      );
      await expectAwsError(
        sim.iam.send(new GetPolicyCommand({ PolicyArn: "arn:aws:iam::123456789012:policy/Missing" })),
        iamErr(
          "NoSuchEntity",
          404,
          "Policy arn:aws:iam::123456789012:policy/Missing does not exist or is not attachable.",
        ),
      );
      await expectAwsError(
        sim.iam.send(
          new GetPolicyCommand({ PolicyArn: "arn:aws:iam::123456789012:policy/other-path/DevS3ReadAccess" }),
        ),
        iamErr("NoSuchEntity", 404),
      );
      await expectAwsError(
        sim.iam.send(new GetPolicyCommand({ PolicyArn: "DevS3ReadAccess" })),
        iamErr("InvalidInput", 400),
      );
    });
  });

  describe("policy versions", () => {
    it("returns documents URL-encoded, as IAM does", async () => {
      const document = JSON.stringify(readPolicy, null, 2);
      const arn = (
        (await sim.iam.send(
          new CreatePolicyCommand({ PolicyName: "P", PolicyDocument: document }),
        )) as CreatePolicyCommandOutput
      ).Policy!.Arn!;
      const version = (
        (await sim.iam.send(
          new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: "v1" }),
        )) as GetPolicyVersionCommandOutput
      ).PolicyVersion!;
      expect(version.Document).toBe(encodeURIComponent(document));
      expect(version.Document).not.toContain("{");
      expect(decodeURIComponent(version.Document!)).toBe(document);
      expect(version).toMatchObject({ VersionId: "v1", IsDefaultVersion: true });
    });

    it("adds versions, sets the default only when asked, and moves UpdateDate with the default", async () => {
      const arn = await createPolicy("P");
      const created = (await getPolicy(arn)).UpdateDate!;
      const v2 = await newVersion(arn, false);
      expect(v2).toMatchObject({ VersionId: "v2", IsDefaultVersion: false });
      expect(v2.Document).toBeUndefined();
      expect((await getPolicy(arn)).DefaultVersionId).toBe("v1");
      const v3 = await newVersion(arn, true);
      expect(v3).toMatchObject({ VersionId: "v3", IsDefaultVersion: true });
      const after = await getPolicy(arn);
      expect(after.DefaultVersionId).toBe("v3");
      expect(after.UpdateDate!.getTime()).toBeGreaterThan(created.getTime());
      const defaultDocument = (
        (await sim.iam.send(
          new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: "v3" }),
        )) as GetPolicyVersionCommandOutput
      ).PolicyVersion!.Document!;
      expect(JSON.parse(decodeURIComponent(defaultDocument))).toEqual(writePolicy);
    });

    it("lists versions newest first, without documents, with strictly increasing creation dates", async () => {
      const arn = await createPolicy("P");
      await newVersion(arn, true);
      await newVersion(arn, false);
      const { Versions } = (await sim.iam.send(
        new ListPolicyVersionsCommand({ PolicyArn: arn }),
      )) as ListPolicyVersionsCommandOutput;
      expect(Versions!.map((version) => [version.VersionId, version.IsDefaultVersion])).toEqual([
        ["v3", false],
        ["v2", true],
        ["v1", false],
      ]);
      expect(Versions!.every((version) => version.Document === undefined)).toBe(true);
      const dates = Versions!.map((version) => version.CreateDate!.getTime());
      expect(dates[0]! > dates[1]! && dates[1]! > dates[2]!).toBe(true);
    });

    it("pages versions with MaxItems and Marker", async () => {
      const arn = await createPolicy("P");
      await newVersion(arn, false);
      await newVersion(arn, false);
      const first = (await sim.iam.send(
        new ListPolicyVersionsCommand({ PolicyArn: arn, MaxItems: 2 }),
      )) as ListPolicyVersionsCommandOutput;
      expect(first.IsTruncated).toBe(true);
      const second = (await sim.iam.send(
        new ListPolicyVersionsCommand({ PolicyArn: arn, MaxItems: 2, Marker: first.Marker! }),
      )) as ListPolicyVersionsCommandOutput;
      expect([...first.Versions!, ...second.Versions!].map((version) => version.VersionId)).toEqual([
        "v3",
        "v2",
        "v1",
      ]);
      expect(second.IsTruncated).toBe(false);
    });

    it("refuses a sixth version with LimitExceeded, and never reuses a deleted version's ID", async () => {
      const arn = await createPolicy("P");
      for (let count = 0; count < 4; count += 1) await newVersion(arn, false);
      await expectAwsError(newVersion(arn, true), iamErr("LimitExceeded", 409, /up to 5 versions/));
      await sim.iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: "v5" }));
      expect((await newVersion(arn, false)).VersionId).toBe("v6");
    });

    it("refuses to delete the default version (DeleteConflict) or an unknown one (NoSuchEntity)", async () => {
      const arn = await createPolicy("P");
      await expectAwsError(
        sim.iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: "v1" })),
        iamErr("DeleteConflict", 409, "Cannot delete the default version of a policy."),
      );
      await expectAwsError(
        sim.iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: "v9" })),
        iamErr("NoSuchEntity", 404),
      );
      await expectAwsError(
        sim.iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: "v9" })),
        iamErr("NoSuchEntity", 404),
      );
    });

    it("switches the default with SetDefaultPolicyVersion, after which the old default can be deleted", async () => {
      const arn = await createPolicy("P");
      await newVersion(arn, false);
      await sim.iam.send(new SetDefaultPolicyVersionCommand({ PolicyArn: arn, VersionId: "v2" }));
      expect((await getPolicy(arn)).DefaultVersionId).toBe("v2");
      await sim.iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: "v1" }));
      const { Versions } = (await sim.iam.send(
        new ListPolicyVersionsCommand({ PolicyArn: arn }),
      )) as ListPolicyVersionsCommandOutput;
      expect(Versions!.map((version) => version.VersionId)).toEqual(["v2"]);
      await expectAwsError(
        sim.iam.send(new SetDefaultPolicyVersionCommand({ PolicyArn: arn, VersionId: "v1" })),
        iamErr("NoSuchEntity", 404),
      );
    });

    it("validates a new version's document", async () => {
      const arn = await createPolicy("P");
      await expectAwsError(
        sim.iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: "{" })),
        iamErr("MalformedPolicyDocument", 400),
      );
    });
  });

  describe("DeletePolicy", () => {
    it("refuses while the policy is attached, then while it has other versions, and deletes it after", async () => {
      const arn = await createPolicy("P");
      await newVersion(arn, true);
      await sim.iam.send(new CreateRoleCommand({ RoleName: "R", AssumeRolePolicyDocument: json(ec2Trust) }));
      await sim.iam.send(new AttachRolePolicyCommand({ RoleName: "R", PolicyArn: arn }));
      await expectAwsError(
        sim.iam.send(new DeletePolicyCommand({ PolicyArn: arn })),
        iamErr("DeleteConflict", 409, "Cannot delete a policy attached to entities."),
      );
      await sim.iam.send(new DetachRolePolicyCommand({ RoleName: "R", PolicyArn: arn }));
      await expectAwsError(
        sim.iam.send(new DeletePolicyCommand({ PolicyArn: arn })),
        iamErr("DeleteConflict", 409, /more than one version/),
      );
      await sim.iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: "v1" }));
      await sim.iam.send(new DeletePolicyCommand({ PolicyArn: arn }));
      await expectAwsError(
        sim.iam.send(new GetPolicyCommand({ PolicyArn: arn })),
        iamErr("NoSuchEntity", 404),
      );
      await expectAwsError(
        sim.iam.send(new DeletePolicyCommand({ PolicyArn: arn })),
        iamErr("NoSuchEntity", 404),
      );
      // The name is free again.
      expect(await createPolicy("p")).toBe("arn:aws:iam::123456789012:policy/p");
    });
  });

  describe("policy tags", () => {
    const listTags = async (arn: string) =>
      ((await sim.iam.send(new ListPolicyTagsCommand({ PolicyArn: arn }))) as ListPolicyTagsCommandOutput)
        .Tags;

    it("adds, overwrites (keys case-insensitive) and removes tags", async () => {
      const arn = await createPolicy("P");
      await sim.iam.send(
        new TagPolicyCommand({
          PolicyArn: arn,
          Tags: [
            { Key: "a", Value: "1" },
            { Key: "b", Value: "2" },
          ],
        }),
      );
      await sim.iam.send(new TagPolicyCommand({ PolicyArn: arn, Tags: [{ Key: "A", Value: "3" }] }));
      expect(await listTags(arn)).toEqual([
        { Key: "b", Value: "2" },
        { Key: "A", Value: "3" },
      ]);
      await sim.iam.send(new UntagPolicyCommand({ PolicyArn: arn, TagKeys: ["B", "absent"] }));
      expect(await listTags(arn)).toEqual([{ Key: "A", Value: "3" }]);
      expect((await getPolicy(arn)).Tags).toEqual([{ Key: "A", Value: "3" }]);
    });

    it("refuses reserved keys, duplicate keys, a 51st tag, and tags on an unknown policy", async () => {
      const arn = await createPolicy("P");
      await expectAwsError(
        sim.iam.send(new TagPolicyCommand({ PolicyArn: arn, Tags: [{ Key: "aws:owner", Value: "x" }] })),
        iamErr("InvalidInput", 400),
      );
      await expectAwsError(
        sim.iam.send(
          new TagPolicyCommand({
            PolicyArn: arn,
            Tags: [
              { Key: "k", Value: "1" },
              { Key: "K", Value: "2" },
            ],
          }),
        ),
        iamErr("InvalidInput", 400, /Duplicate tag keys/),
      );
      const fifty = Array.from({ length: 50 }, (_, index) => ({ Key: `k${index}`, Value: "v" }));
      await sim.iam.send(new TagPolicyCommand({ PolicyArn: arn, Tags: fifty }));
      await expectAwsError(
        sim.iam.send(new TagPolicyCommand({ PolicyArn: arn, Tags: [{ Key: "one-more", Value: "v" }] })),
        iamErr("LimitExceeded", 409),
      );
      expect(await listTags(arn)).toHaveLength(50);
      await expectAwsError(
        sim.iam.send(new TagPolicyCommand({ PolicyArn: `${arn}x`, Tags: [{ Key: "k", Value: "v" }] })),
        iamErr("NoSuchEntity", 404),
      );
    });

    it("pages tags with MaxItems", async () => {
      const arn = await createPolicy("P");
      await sim.iam.send(
        new TagPolicyCommand({
          PolicyArn: arn,
          Tags: ["a", "b", "c"].map((Key) => ({ Key, Value: Key.toUpperCase() })),
        }),
      );
      const first = (await sim.iam.send(
        new ListPolicyTagsCommand({ PolicyArn: arn, MaxItems: 2 }),
      )) as ListPolicyTagsCommandOutput;
      const second = (await sim.iam.send(
        new ListPolicyTagsCommand({ PolicyArn: arn, MaxItems: 2, Marker: first.Marker! }),
      )) as ListPolicyTagsCommandOutput;
      expect(first.IsTruncated).toBe(true);
      expect(second.IsTruncated).toBe(false);
      expect([...first.Tags!, ...second.Tags!].map((tag) => tag.Key)).toEqual(["a", "b", "c"]);
    });
  });

  describe("ListPolicies", () => {
    const list = async (input: ListPoliciesRequest) =>
      (await sim.iam.send(new ListPoliciesCommand(input))) as ListPoliciesCommandOutput;

    it("lists local policies by name, filtered by path prefix, without tags", async () => {
      await sim.iam.send(
        new CreatePolicyCommand({
          PolicyName: "b",
          Path: "/rolecall/",
          PolicyDocument: json(readPolicy),
          Tags: [{ Key: "k", Value: "v" }],
        }),
      );
      await createPolicy("A", { Path: "/rolecall/team/" });
      await createPolicy("c");
      expect((await list({ Scope: "Local" })).Policies!.map((policy) => policy.PolicyName)).toEqual([
        "A",
        "b",
        "c",
      ]);
      const underRolecall = await list({ Scope: "Local", PathPrefix: "/rolecall/" });
      expect(underRolecall.Policies!.map((policy) => policy.PolicyName)).toEqual(["A", "b"]);
      expect(underRolecall.Policies!.every((policy) => policy.Tags === undefined)).toBe(true);
      expect(
        (await list({ PathPrefix: "/rolecall/team" })).Policies!.map((policy) => policy.PolicyName),
      ).toEqual(["A"]);
      expect((await list({ Scope: "All" })).Policies).toHaveLength(3);
      expect((await list({ Scope: "AWS" })).Policies).toEqual([]);
    });

    it("lists only attached policies when asked, with their attachment counts", async () => {
      const attached = await createPolicy("attached");
      await createPolicy("loose");
      await sim.iam.send(new CreateRoleCommand({ RoleName: "R", AssumeRolePolicyDocument: json(ec2Trust) }));
      await sim.iam.send(new AttachRolePolicyCommand({ RoleName: "R", PolicyArn: attached }));
      const { Policies } = await list({ OnlyAttached: true });
      expect(Policies!.map((policy) => [policy.PolicyName, policy.AttachmentCount])).toEqual([
        ["attached", 1],
      ]);
    });

    it("pages with MaxItems and Marker, unaffected by a deletion between pages", async () => {
      const arns = [];
      for (const name of ["p1", "p2", "p3", "p4", "p5"]) arns.push(await createPolicy(name));
      const first = await list({ MaxItems: 2 });
      expect(first.Policies!.map((policy) => policy.PolicyName)).toEqual(["p1", "p2"]);
      expect(first.IsTruncated).toBe(true);
      await sim.iam.send(new DeletePolicyCommand({ PolicyArn: arns[1]! }));
      const second = await list({ MaxItems: 2, Marker: first.Marker! });
      expect(second.Policies!.map((policy) => policy.PolicyName)).toEqual(["p3", "p4"]);
      const third = await list({ MaxItems: 2, Marker: second.Marker! });
      expect(third.Policies!.map((policy) => policy.PolicyName)).toEqual(["p5"]);
      expect(third.IsTruncated).toBe(false);
      expect(third.Marker).toBeUndefined();
    });

    it("refuses an out-of-range MaxItems and a marker it did not issue", async () => {
      await expectAwsError(
        sim.iam.send(new ListPoliciesCommand({ MaxItems: 0 })),
        iamErr("ValidationError", 400),
      );
      await expectAwsError(
        sim.iam.send(new ListPoliciesCommand({ MaxItems: 1001 })),
        iamErr("ValidationError", 400),
      );
      await expectAwsError(
        sim.iam.send(new ListPoliciesCommand({ Marker: "bogus" })),
        iamErr("ValidationError", 400),
      );
    });

    it("defaults to 100 items a page", async () => {
      for (let index = 0; index < 101; index += 1)
        await createPolicy(`p${index.toString().padStart(3, "0")}`);
      const first = await list({});
      expect(first.Policies).toHaveLength(100);
      expect(first.IsTruncated).toBe(true);
      const second = await list({ Marker: first.Marker! });
      expect(second.Policies!.map((policy) => policy.PolicyName)).toEqual(["p100"]);
    });
  });
});

describe("IAM roles", () => {
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
      [
        "a Resource",
        { Statement: [{ ...ec2Trust.Statement[0], Resource: "*" }] },
        /prohibited field Resource/,
      ],
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
        await sim.iam.send(
          new AttachRolePolicyCommand({ RoleName: "R", PolicyArn: await createPolicy(name) }),
        );
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
});

describe("IAM instance profiles", () => {
  let sim: SimCloud;
  beforeEach(() => {
    sim = new SimCloud();
  });

  const createProfile = (name: string, path?: string) =>
    sim.iam.send(
      new CreateInstanceProfileCommand({
        InstanceProfileName: name,
        ...(path === undefined ? {} : { Path: path }),
      }),
    ) as Promise<CreateInstanceProfileCommandOutput>;
  const createRole = (name: string) =>
    sim.iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: json(ec2Trust) }));
  const getProfile = async (name: string) =>
    (
      (await sim.iam.send(
        new GetInstanceProfileCommand({ InstanceProfileName: name }),
      )) as GetInstanceProfileCommandOutput
    ).InstanceProfile!;
  const list = (input: ListInstanceProfilesRequest) =>
    sim.iam.send(new ListInstanceProfilesCommand(input)) as Promise<ListInstanceProfilesCommandOutput>;

  describe("CreateInstanceProfile and GetInstanceProfile", () => {
    it("creates a profile with an AIPA ID, its path in the ARN, no roles, and its tags", async () => {
      const { InstanceProfile } = (await sim.iam.send(
        new CreateInstanceProfileCommand({
          InstanceProfileName: "DEV_PROFILE",
          Path: "/rolecall/",
          Tags: [{ Key: "k", Value: "v" }],
        }),
      )) as CreateInstanceProfileCommandOutput;
      expect(InstanceProfile).toMatchObject({
        InstanceProfileName: "DEV_PROFILE",
        Path: "/rolecall/",
        Arn: "arn:aws:iam::123456789012:instance-profile/rolecall/DEV_PROFILE",
        Roles: [],
        Tags: [{ Key: "k", Value: "v" }],
      });
      expect(InstanceProfile?.InstanceProfileId).toMatch(/^AIPA[A-Z0-9]{17}$/);
      expect(InstanceProfile?.CreateDate).toBeInstanceOf(Date);
      expect(await getProfile("dev_profile")).toMatchObject({
        InstanceProfileName: "DEV_PROFILE",
        Tags: [{ Key: "k", Value: "v" }],
      });
    });

    it("refuses a duplicate name case-insensitively and reports an unknown profile as NoSuchEntity", async () => {
      await createProfile("DEV_PROFILE");
      await expectAwsError(
        createProfile("Dev_Profile"),
        iamErr("EntityAlreadyExists", 409, /already exists/),
      );
      await expectAwsError(
        sim.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: "nope" })),
        iamErr("NoSuchEntity", 404, "Instance Profile nope cannot be found."),
      );
      await expectAwsError(createProfile("bad/name"), iamErr("ValidationError", 400));
    });
  });

  describe("roles in instance profiles", () => {
    it("adds a role, shows it (trust policy URL-encoded) in Get and List, and removes it", async () => {
      await createProfile("IP");
      await createRole("R");
      await sim.iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: "ip", RoleName: "r" }));
      const profile = await getProfile("IP");
      expect(profile.Roles?.map((role) => role.RoleName)).toEqual(["R"]);
      expect(profile.Roles?.[0]?.AssumeRolePolicyDocument).toBe(encodeURIComponent(json(ec2Trust)));
      expect((await list({})).InstanceProfiles?.[0]?.Roles?.map((role) => role.RoleName)).toEqual(["R"]);
      await sim.iam.send(
        new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: "IP", RoleName: "R" }),
      );
      expect((await getProfile("IP")).Roles).toEqual([]);
    });

    it("holds one role at most: a second, or the same again, is LimitExceeded", async () => {
      await createProfile("IP");
      await createRole("R1");
      await createRole("R2");
      await sim.iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: "IP", RoleName: "R1" }));
      for (const role of ["R2", "R1"]) {
        await expectAwsError(
          sim.iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: "IP", RoleName: role })),
          iamErr("LimitExceeded", 409, "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1"),
        );
      }
    });

    it("reports a missing role or profile as NoSuchEntity, and removing a role it does not hold too", async () => {
      await createProfile("IP");
      await createRole("R");
      await expectAwsError(
        sim.iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: "IP", RoleName: "nobody" })),
        iamErr("NoSuchEntity", 404, /role with name nobody/),
      );
      await expectAwsError(
        sim.iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: "nothing", RoleName: "R" })),
        iamErr("NoSuchEntity", 404, /Instance Profile nothing/),
      );
      await expectAwsError(
        sim.iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: "IP", RoleName: "R" })),
        iamErr("NoSuchEntity", 404),
      );
    });
  });

  describe("DeleteInstanceProfile", () => {
    it("refuses while it holds a role, deletes it after", async () => {
      await createProfile("IP");
      await createRole("R");
      await sim.iam.send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: "IP", RoleName: "R" }));
      await expectAwsError(
        sim.iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: "IP" })),
        iamErr("DeleteConflict", 409, /remove roles from instance profile/),
      );
      await sim.iam.send(
        new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: "IP", RoleName: "R" }),
      );
      await sim.iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: "ip" }));
      await expectAwsError(
        sim.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: "IP" })),
        iamErr("NoSuchEntity", 404),
      );
      await expectAwsError(
        sim.iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: "IP" })),
        iamErr("NoSuchEntity", 404),
      );
    });
  });

  describe("instance profile tags", () => {
    it("tags, lists, overwrites and untags", async () => {
      await createProfile("IP");
      await sim.iam.send(
        new TagInstanceProfileCommand({
          InstanceProfileName: "IP",
          Tags: [
            { Key: "a", Value: "1" },
            { Key: "b", Value: "2" },
          ],
        }),
      );
      await sim.iam.send(
        new TagInstanceProfileCommand({ InstanceProfileName: "IP", Tags: [{ Key: "a", Value: "3" }] }),
      );
      await sim.iam.send(new UntagInstanceProfileCommand({ InstanceProfileName: "IP", TagKeys: ["b"] }));
      const listed = (await sim.iam.send(
        new ListInstanceProfileTagsCommand({ InstanceProfileName: "IP" }),
      )) as ListInstanceProfileTagsCommandOutput;
      expect(listed.Tags).toEqual([{ Key: "a", Value: "3" }]);
      expect((await getProfile("IP")).Tags).toEqual([{ Key: "a", Value: "3" }]);
      await expectAwsError(
        sim.iam.send(
          new TagInstanceProfileCommand({ InstanceProfileName: "none", Tags: [{ Key: "a", Value: "1" }] }),
        ),
        iamErr("NoSuchEntity", 404),
      );
    });
  });

  describe("ListInstanceProfiles", () => {
    it("lists by name under a path prefix, including role-less profiles, without tags", async () => {
      await sim.iam.send(
        new CreateInstanceProfileCommand({
          InstanceProfileName: "b",
          Path: "/rolecall/",
          Tags: [{ Key: "k", Value: "v" }],
        }),
      );
      await createProfile("A", "/rolecall/");
      await createProfile("c");
      const { InstanceProfiles, IsTruncated } = await list({ PathPrefix: "/rolecall/" });
      expect(InstanceProfiles?.map((profile) => profile.InstanceProfileName)).toEqual(["A", "b"]);
      expect(InstanceProfiles?.every((profile) => profile.Tags === undefined)).toBe(true);
      expect(IsTruncated).toBe(false);
      expect((await list({})).InstanceProfiles).toHaveLength(3);
    });

    it("pages with MaxItems and Marker over more than one page", async () => {
      for (let index = 0; index < 7; index += 1) await createProfile(`profile-${index}`, "/rolecall/");
      const names: string[] = [];
      let marker: string | undefined;
      let pages = 0;
      do {
        const page = await list({
          PathPrefix: "/rolecall/",
          MaxItems: 3,
          ...(marker === undefined ? {} : { Marker: marker }),
        });
        pages += 1;
        names.push(...page.InstanceProfiles!.map((profile) => profile.InstanceProfileName!));
        expect(page.InstanceProfiles!.length).toBeLessThanOrEqual(3);
        marker = page.IsTruncated === true ? page.Marker : undefined;
      } while (marker !== undefined);
      expect(pages).toBe(3);
      expect(names).toEqual(Array.from({ length: 7 }, (_, index) => `profile-${index}`));
    });

    it("refuses a path prefix that does not begin with a slash", async () => {
      await expectAwsError(list({ PathPrefix: "rolecall/" }), iamErr("ValidationError", 400));
    });
  });
});

describe("IAM GetAccountAuthorizationDetails", () => {
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
      expect([first.RoleDetailList?.length, first.Policies?.length, first.IsTruncated]).toEqual([
        60,
        40,
        true,
      ]);
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
});
