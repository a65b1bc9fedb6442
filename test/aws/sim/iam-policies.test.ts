import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DetachRolePolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  ListPoliciesCommand,
  ListPolicyTagsCommand,
  ListPolicyVersionsCommand,
  SetDefaultPolicyVersionCommand,
  TagPolicyCommand,
  UntagPolicyCommand,
  type CreatePolicyCommandOutput,
  type CreatePolicyVersionCommandOutput,
  type GetPolicyCommandOutput,
  type GetPolicyVersionCommandOutput,
  type ListPoliciesCommandOutput,
  type ListPoliciesRequest,
  type ListPolicyTagsCommandOutput,
  type ListPolicyVersionsCommandOutput,
} from "@aws-sdk/client-iam";
import { beforeEach, describe, expect, it } from "vitest";
import { SimCloud } from "../../../src/aws/sim/sim-cloud.js";
import { ec2Trust, expectAwsError, iamErr, json, readPolicy, writePolicy } from "./sim-fixtures.js";

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
    await expectAwsError(sim.iam.send(new GetPolicyCommand({ PolicyArn: arn })), iamErr("NoSuchEntity", 404));
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
    ((await sim.iam.send(new ListPolicyTagsCommand({ PolicyArn: arn }))) as ListPolicyTagsCommandOutput).Tags;

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
    expect(Policies!.map((policy) => [policy.PolicyName, policy.AttachmentCount])).toEqual([["attached", 1]]);
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
    for (let index = 0; index < 101; index += 1) await createPolicy(`p${index.toString().padStart(3, "0")}`);
    const first = await list({});
    expect(first.Policies).toHaveLength(100);
    expect(first.IsTruncated).toBe(true);
    const second = await list({ Marker: first.Marker! });
    expect(second.Policies!.map((policy) => policy.PolicyName)).toEqual(["p100"]);
  });
});
