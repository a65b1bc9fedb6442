import {
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstancesCommand,
  EC2Client,
  type DescribeIamInstanceProfileAssociationsCommandInput,
  type DescribeIamInstanceProfileAssociationsCommandOutput,
  type DescribeInstancesCommandInput,
  type DescribeInstancesCommandOutput,
} from "@aws-sdk/client-ec2";
import {
  GetAccountAuthorizationDetailsCommand,
  GetInstanceProfileCommand,
  IAMClient,
  ListInstanceProfilesCommand,
  ListPolicyTagsCommand,
  type GetAccountAuthorizationDetailsCommandInput,
  type GetAccountAuthorizationDetailsCommandOutput,
  type GetInstanceProfileCommandInput,
  type ListInstanceProfilesCommandInput,
  type ListInstanceProfilesCommandOutput,
  type ListPolicyTagsCommandInput,
  type ManagedPolicyDetail,
  type RoleDetail,
} from "@aws-sdk/client-iam";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { createCallers, defaultAwsSettings } from "../../src/aws/aws-clients.js";
import { CallCounter } from "../../src/aws/call-observer.js";
import { describeAssociations, describeInstances } from "../../src/aws/ec2-read.js";
import { listInstanceProfiles, readAuthorizationDetails } from "../../src/aws/iam-read.js";
import { readFullSnapshot } from "../../src/aws/snapshot-reader.js";
import type { DesiredAccess } from "../../src/desired/desired-access.js";
import { ownershipTags, policyDescription } from "../../src/desired/ownership.js";
import { ec2TrustPolicy } from "../../src/desired/policy-document.js";
import { desiredFor, iamPath, policyArn, profileArn, roleArn } from "../support/desired-fixtures.js";
import { VirtualClock } from "../support/virtual-clock.js";

const iamMock = mockClient(IAMClient);
const ec2Mock = mockClient(EC2Client);

let counter: CallCounter;
let clients: ReturnType<typeof createCallers>;

beforeEach(() => {
  iamMock.reset();
  ec2Mock.reset();
  counter = new CallCounter();
  clients = createCallers(
    { iam: new IAMClient({ region: "us-east-1" }), ec2: new EC2Client({ region: "us-east-1" }) },
    defaultAwsSettings,
    counter,
    undefined,
    new VirtualClock(),
  );
});

const s3Document = (bucket: string) => ({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: ["s3:GetObject"], Resource: [`arn:aws:s3:::${bucket}/*`] }],
});
const tagList = (tags: Record<string, string>) =>
  Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

function roleDetail(name: string, extra: Partial<RoleDetail> = {}): RoleDetail {
  return {
    RoleName: name,
    Arn: roleArn(name),
    Path: iamPath,
    AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(ec2TrustPolicy())),
    AttachedManagedPolicies: [],
    RolePolicyList: [],
    InstanceProfileList: [],
    Tags: [],
    ...extra,
  };
}

function policyDetail(
  name: string,
  document: string,
  extra: Partial<ManagedPolicyDetail> = {},
): ManagedPolicyDetail {
  return {
    PolicyName: name,
    Arn: policyArn(name),
    Path: iamPath,
    DefaultVersionId: "v1",
    PolicyVersionList: [
      { VersionId: "v1", IsDefaultVersion: true, Document: document, CreateDate: new Date(1000) },
    ],
    ...extra,
  };
}

/** Serves pages keyed by the Marker asked for ("" for the first request). */
function pagedByMarker<Output extends { Marker?: string | undefined; IsTruncated?: boolean | undefined }>(
  pages: Output[],
) {
  const markers: (string | undefined)[] = [];
  const serve = (input: { Marker?: string | undefined }) => {
    markers.push(input.Marker);
    const index = input.Marker === undefined ? 0 : Number(input.Marker.replace("marker-", ""));
    const page = pages[index];
    if (page === undefined) throw new Error(`unexpected marker ${String(input.Marker)}`);
    const last = index === pages.length - 1;
    return { ...page, IsTruncated: !last, ...(last ? {} : { Marker: `marker-${index + 1}` }) };
  };
  return { markers, serve };
}

/** Serves pages keyed by NextToken, as EC2 does. */
function pagedByToken<Output extends { NextToken?: string | undefined }>(pages: Output[]) {
  const tokens: (string | undefined)[] = [];
  const serve = (input: { NextToken?: string | undefined }) => {
    tokens.push(input.NextToken);
    const index = input.NextToken === undefined ? 0 : Number(input.NextToken.replace("token-", ""));
    const page = pages[index];
    if (page === undefined) throw new Error(`unexpected token ${String(input.NextToken)}`);
    const last = index === pages.length - 1;
    return { ...page, ...(last ? {} : { NextToken: `token-${index + 1}` }) };
  };
  return { tokens, serve };
}

describe("readAuthorizationDetails", () => {
  it("reads every page, decodes both document forms and names a policy from its ARN when IAM omits it", async () => {
    const { markers, serve } = pagedByMarker<GetAccountAuthorizationDetailsCommandOutput>([
      {
        $metadata: {},
        RoleDetailList: [
          roleDetail("role-one", {
            AttachedManagedPolicies: [{ PolicyName: "policy-one", PolicyArn: policyArn("policy-one") }],
            RolePolicyList: [{ PolicyName: "inline-one", PolicyDocument: "%7B%7D" }],
            InstanceProfileList: [
              {
                InstanceProfileName: "profile-one",
                InstanceProfileId: "AIPA1",
                Arn: profileArn("profile-one"),
                Path: iamPath,
                CreateDate: new Date(0),
                Roles: [
                  {
                    RoleName: "role-one",
                    RoleId: "AROA1",
                    Arn: roleArn("role-one"),
                    Path: iamPath,
                    CreateDate: new Date(0),
                  },
                ],
                Tags: tagList(ownershipTags("one", "delete")),
              },
            ],
            Tags: tagList(ownershipTags("one", "delete")),
          }),
        ],
        Policies: [
          // AWS returns documents URL-encoded.
          policyDetail("policy-one", encodeURIComponent(JSON.stringify(s3Document("one"))), {
            Description: policyDescription("one"),
          }),
        ],
      },
      {
        $metadata: {},
        RoleDetailList: [],
        Policies: [
          // moto omits PolicyName and returns plain JSON.
          policyDetail("policy-two", JSON.stringify(s3Document("two")), {
            PolicyName: undefined,
            DefaultVersionId: "v2",
            PolicyVersionList: [
              {
                VersionId: "v1",
                IsDefaultVersion: false,
                Document: JSON.stringify(s3Document("old")),
                CreateDate: new Date(1000),
              },
              {
                VersionId: "v2",
                IsDefaultVersion: true,
                Document: JSON.stringify(s3Document("two")),
                CreateDate: new Date(2000),
              },
            ],
          }),
        ],
      },
      {
        $metadata: {},
        RoleDetailList: [
          roleDetail("role-three", {
            Path: "/",
            Arn: roleArn("role-three", "/"),
            AssumeRolePolicyDocument: JSON.stringify(ec2TrustPolicy()),
          }),
        ],
        Policies: [],
      },
    ]);
    iamMock
      .on(GetAccountAuthorizationDetailsCommand)
      .callsFake((input: GetAccountAuthorizationDetailsCommandInput) => serve(input));

    const details = await readAuthorizationDetails(clients.iam);

    expect(markers).toEqual([undefined, "marker-1", "marker-2"]);
    expect(iamMock.commandCalls(GetAccountAuthorizationDetailsCommand)[0]!.args[0].input.Filter).toEqual([
      "Role",
      "LocalManagedPolicy",
    ]);
    expect(details.roles.map((role) => role.name)).toEqual(["role-one", "role-three"]);
    expect(details.policies.map((policy) => policy.name)).toEqual(["policy-one", "policy-two"]);

    const [one, two] = details.policies;
    expect(one!.document).toEqual(s3Document("one"));
    expect(one!.description).toBe(policyDescription("one"));
    expect(one!.tags).toBeUndefined(); // not in whole-account reads
    expect(two!.document).toEqual(s3Document("two")); // the default version's, not the first listed
    expect(two!.defaultVersionId).toBe("v2");
    expect(two!.versions).toEqual([
      { id: "v1", isDefault: false, createdAt: 1000 },
      { id: "v2", isDefault: true, createdAt: 2000 },
    ]);

    const [roleOne, roleThree] = details.roles;
    expect(roleOne!.trustPolicy).toEqual(ec2TrustPolicy());
    expect(roleThree!.trustPolicy).toEqual(ec2TrustPolicy());
    expect(roleOne!.attachedPolicyArns).toEqual([policyArn("policy-one")]);
    expect(roleOne!.inlinePolicyNames).toEqual(["inline-one"]);
    expect(roleOne!.tags).toEqual(ownershipTags("one", "delete"));
    expect(roleThree!.path).toBe("/");

    expect(details.profiles).toEqual([
      {
        name: "profile-one",
        arn: profileArn("profile-one"),
        id: "AIPA1",
        path: iamPath,
        roleNames: ["role-one"],
        tags: ownershipTags("one", "delete"),
      },
    ]);
    expect(counter.byOperation()).toEqual({ "iam:GetAccountAuthorizationDetails": 3 });
  });

  it("stops at a page that is not truncated even if it carries a Marker", async () => {
    iamMock
      .on(GetAccountAuthorizationDetailsCommand)
      .resolves({ IsTruncated: false, Marker: "stale", RoleDetailList: [], Policies: [] });
    await readAuthorizationDetails(clients.iam);
    expect(iamMock.commandCalls(GetAccountAuthorizationDetailsCommand)).toHaveLength(1);
  });
});

describe("listInstanceProfiles", () => {
  it("follows Marker over every page, under the path asked for", async () => {
    const profile = (name: string, roles: string[] = []) => ({
      InstanceProfileName: name,
      InstanceProfileId: `AIPA${name}`,
      Arn: profileArn(name),
      Path: iamPath,
      CreateDate: new Date(0),
      Roles: roles.map((role) => ({
        RoleName: role,
        RoleId: "AROA",
        Arn: roleArn(role),
        Path: iamPath,
        CreateDate: new Date(0),
      })),
    });
    const { markers, serve } = pagedByMarker<ListInstanceProfilesCommandOutput>([
      { $metadata: {}, InstanceProfiles: [profile("a"), profile("b", ["role-b"])] },
      { $metadata: {}, InstanceProfiles: [profile("c")] },
      { $metadata: {}, InstanceProfiles: [profile("d")] },
    ]);
    iamMock
      .on(ListInstanceProfilesCommand)
      .callsFake((input: ListInstanceProfilesCommandInput) => serve(input));

    const profiles = await listInstanceProfiles(clients.iam, iamPath);

    expect(markers).toEqual([undefined, "marker-1", "marker-2"]);
    for (const call of iamMock.commandCalls(ListInstanceProfilesCommand))
      expect(call.args[0].input.PathPrefix).toBe(iamPath);
    expect(profiles.map((item) => item.name)).toEqual(["a", "b", "c", "d"]);
    expect(profiles[1]!.roleNames).toEqual(["role-b"]);
    // Listings carry no tags: unknown, not "no tags".
    expect(profiles.every((item) => item.tags === undefined)).toBe(true);
  });
});

describe("EC2 readers", () => {
  it("describeInstances follows NextToken over every page and keeps each instance", async () => {
    const instance = (id: string, state: string, tags: Record<string, string> = {}) => ({
      InstanceId: id,
      State: { Name: state as "running" },
      Tags: tagList(tags),
    });
    const { tokens, serve } = pagedByToken<DescribeInstancesCommandOutput>([
      {
        $metadata: {},
        Reservations: [{ OwnerId: "123456789012", Instances: [instance("i-1", "running", { app: "x" })] }],
      },
      { $metadata: {}, Reservations: [] }, // EC2 may return an empty page with a token
      {
        $metadata: {},
        Reservations: [
          {
            OwnerId: "123456789012",
            Instances: [instance("i-2", "stopped"), instance("i-3", "rebooting-ish")],
          },
          { OwnerId: "123456789012", Instances: [instance("i-4", "pending")] },
        ],
      },
      {
        $metadata: {},
        Reservations: [{ OwnerId: "123456789012", Instances: [instance("i-5", "terminated")] }],
      },
    ]);
    ec2Mock.on(DescribeInstancesCommand).callsFake((input: DescribeInstancesCommandInput) => serve(input));
    const filters = [{ Name: "tag-key", Values: ["app"] }];

    const page = await describeInstances(clients.ec2, filters);

    expect(tokens).toEqual([undefined, "token-1", "token-2", "token-3"]);
    for (const call of ec2Mock.commandCalls(DescribeInstancesCommand))
      expect(call.args[0].input.Filters).toEqual(filters);
    expect(page.accountId).toBe("123456789012");
    expect(page.instances).toEqual([
      { id: "i-1", state: "running", tags: { app: "x" } },
      { id: "i-2", state: "stopped", tags: {} },
      { id: "i-3", state: "unknown", tags: {} },
      { id: "i-4", state: "pending", tags: {} },
      { id: "i-5", state: "terminated", tags: {} },
    ]);
  });

  it("describeAssociations follows NextToken over every page and keeps current associations only", async () => {
    const assoc = (id: string, instance: string, state: string, profile = "p") => ({
      AssociationId: id,
      InstanceId: instance,
      State: state as "associated",
      IamInstanceProfile: { Arn: profileArn(profile), Id: "AIPA" },
    });
    const { tokens, serve } = pagedByToken<DescribeIamInstanceProfileAssociationsCommandOutput>([
      { $metadata: {}, IamInstanceProfileAssociations: [assoc("a-1", "i-1", "associated")] },
      {
        $metadata: {},
        IamInstanceProfileAssociations: [
          assoc("a-2", "i-2", "associating"),
          assoc("a-3", "i-3", "disassociating"),
        ],
      },
      {
        $metadata: {},
        IamInstanceProfileAssociations: [assoc("a-4", "i-4", "associated", "q")],
        NextToken: "",
      },
    ]);
    ec2Mock
      .on(DescribeIamInstanceProfileAssociationsCommand)
      .callsFake((input: DescribeIamInstanceProfileAssociationsCommandInput) => serve(input));

    const associations = await describeAssociations(clients.ec2, ["i-1", "i-2", "i-3", "i-4"]);

    expect(tokens).toEqual([undefined, "token-1", "token-2"]);
    const firstInput = ec2Mock.commandCalls(DescribeIamInstanceProfileAssociationsCommand)[0]!.args[0].input;
    expect(firstInput.Filters).toEqual([
      { Name: "state", Values: ["associating", "associated"] },
      { Name: "instance-id", Values: ["i-1", "i-2", "i-3", "i-4"] },
    ]);
    expect(associations).toEqual([
      {
        associationId: "a-1",
        instanceId: "i-1",
        profileArn: profileArn("p"),
        profileId: "AIPA",
        state: "associated",
      },
      {
        associationId: "a-2",
        instanceId: "i-2",
        profileArn: profileArn("p"),
        profileId: "AIPA",
        state: "associating",
      },
      {
        associationId: "a-4",
        instanceId: "i-4",
        profileArn: profileArn("q"),
        profileId: "AIPA",
        state: "associated",
      },
    ]);
  });
});

describe("readFullSnapshot: per-resource reads only where a listing cannot settle ownership", () => {
  const alpha = desiredFor("alpha");
  const beta = desiredFor("beta");
  const document = encodeURIComponent(JSON.stringify(s3Document("x")));

  function account(
    policies: ManagedPolicyDetail[],
    options: {
      roles?: RoleDetail[];
      listedProfiles?: ListInstanceProfilesCommandOutput["InstanceProfiles"];
    } = {},
  ) {
    iamMock
      .on(GetAccountAuthorizationDetailsCommand)
      .resolves({ IsTruncated: false, RoleDetailList: options.roles ?? [], Policies: policies });
    iamMock
      .on(ListInstanceProfilesCommand)
      .resolves({ IsTruncated: false, InstanceProfiles: options.listedProfiles ?? [] });
    iamMock.on(ListPolicyTagsCommand).callsFake((input: ListPolicyTagsCommandInput) => ({
      IsTruncated: false,
      Tags: tagList(ownershipTags(input.PolicyArn?.endsWith("-alpha") === true ? "alpha" : "beta", "delete")),
    }));
    iamMock.on(GetInstanceProfileCommand).callsFake((input: GetInstanceProfileCommandInput) => ({
      InstanceProfile: {
        InstanceProfileName: input.InstanceProfileName,
        InstanceProfileId: "AIPA",
        Arn: profileArn(input.InstanceProfileName ?? ""),
        Path: iamPath,
        CreateDate: new Date(0),
        Roles: [],
        Tags: tagList(ownershipTags("alpha", "delete")),
      },
    }));
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    ec2Mock
      .on(DescribeIamInstanceProfileAssociationsCommand)
      .resolves({ IamInstanceProfileAssociations: [] });
  }

  const read = (inForce: DesiredAccess[]) =>
    readFullSnapshot({ ...clients, concurrency: 4 }, { iamPath, partition: "aws", inForce });

  const taggedArns = () =>
    iamMock.commandCalls(ListPolicyTagsCommand).map((call) => call.args[0].input.PolicyArn);

  it("a policy whose description marker names the manifest that wants it: no ListPolicyTags", async () => {
    account([policyDetail(alpha.policy.name, document, { Description: policyDescription("alpha") })]);
    const { snapshot } = await read([alpha, beta]);
    expect(taggedArns()).toEqual([]);
    expect(snapshot.policies.get(alpha.policy.name)?.tags).toBeUndefined();
    expect(snapshot.policies.get(alpha.policy.name)?.document).toEqual(s3Document("x"));
  });

  it("a policy wanted by a manifest but without the marker: exactly one ListPolicyTags", async () => {
    account([
      policyDetail(alpha.policy.name, document, { Description: policyDescription("alpha") }),
      policyDetail(beta.policy.name, document, { Description: "made by hand" }),
    ]);
    const { snapshot } = await read([alpha, beta]);
    expect(taggedArns()).toEqual([policyArn(beta.policy.name)]);
    expect(snapshot.policies.get(beta.policy.name)?.tags).toEqual(ownershipTags("beta", "delete"));
  });

  it("a policy wanted by one manifest whose marker names another: its tags are read", async () => {
    account([policyDetail(beta.policy.name, document, { Description: policyDescription("alpha") })]);
    await read([alpha, beta]);
    expect(taggedArns()).toEqual([policyArn(beta.policy.name)]);
  });

  it("a marked policy that no manifest in force wants (a removed manifest's): its tags are read", async () => {
    account([policyDetail("rolecall-gone", document, { Description: policyDescription("gone") })]);
    const { snapshot } = await read([alpha]);
    expect(taggedArns()).toEqual([policyArn("rolecall-gone")]);
    expect(snapshot.policies.get("rolecall-gone")?.tags).toBeDefined();
  });

  it("an unmarked policy outside rolecall's path and not attached to a rolecall role: no tag read", async () => {
    account([policyDetail("SomeonesPolicy", document, { Path: "/", Arn: policyArn("SomeonesPolicy", "/") })]);
    const { snapshot } = await read([alpha]);
    expect(taggedArns()).toEqual([]);
    expect(snapshot.policies.get("someonespolicy")?.tags).toBeUndefined();
  });

  it("an unmarked policy attached to a rolecall-owned role: its tags are read", async () => {
    const foreign = policyArn("HandAttached", "/");
    account([policyDetail("HandAttached", document, { Path: "/", Arn: foreign })], {
      roles: [
        roleDetail(alpha.role.name, {
          AttachedManagedPolicies: [{ PolicyName: "HandAttached", PolicyArn: foreign }],
          Tags: tagList(alpha.tags),
        }),
      ],
    });
    await read([alpha]);
    expect(taggedArns()).toEqual([foreign]);
  });

  it("a role-less profile from ListInstanceProfiles (no tags) is read with GetInstanceProfile; one under a role is not", async () => {
    account([], {
      listedProfiles: [
        {
          InstanceProfileName: alpha.instanceProfile.name,
          InstanceProfileId: "AIPA1",
          Arn: profileArn(alpha.instanceProfile.name),
          Path: iamPath,
          CreateDate: new Date(0),
          Roles: [],
        },
        {
          InstanceProfileName: beta.instanceProfile.name,
          InstanceProfileId: "AIPA2",
          Arn: profileArn(beta.instanceProfile.name),
          Path: iamPath,
          CreateDate: new Date(0),
          Roles: [],
        },
      ],
      roles: [
        roleDetail(beta.role.name, {
          Tags: tagList(beta.tags),
          InstanceProfileList: [
            {
              InstanceProfileName: beta.instanceProfile.name,
              InstanceProfileId: "AIPA2",
              Arn: profileArn(beta.instanceProfile.name),
              Path: iamPath,
              CreateDate: new Date(0),
              Roles: [
                {
                  RoleName: beta.role.name,
                  RoleId: "AROA",
                  Arn: roleArn(beta.role.name),
                  Path: iamPath,
                  CreateDate: new Date(0),
                },
              ],
              Tags: tagList(beta.tags),
            },
          ],
        }),
      ],
    });
    const { snapshot } = await read([alpha, beta]);
    const asked = iamMock
      .commandCalls(GetInstanceProfileCommand)
      .map((call) => call.args[0].input.InstanceProfileName);
    expect(asked).toEqual([alpha.instanceProfile.name]);
    expect(snapshot.instanceProfiles.get(alpha.instanceProfile.name)?.tags).toEqual(
      ownershipTags("alpha", "delete"),
    );
    expect(snapshot.instanceProfiles.get(beta.instanceProfile.name)).toMatchObject({
      roleNames: [beta.role.name],
      tags: beta.tags,
    });
  });

  it("an instance holding a rolecall profile that no selector matches is read too, by ID", async () => {
    account([], {
      listedProfiles: [
        {
          InstanceProfileName: alpha.instanceProfile.name,
          InstanceProfileId: "AIPA1",
          Arn: profileArn(alpha.instanceProfile.name),
          Path: iamPath,
          CreateDate: new Date(0),
          Roles: [],
        },
      ],
    });
    ec2Mock.on(DescribeIamInstanceProfileAssociationsCommand).resolves({
      IamInstanceProfileAssociations: [
        {
          AssociationId: "a-1",
          InstanceId: "i-0000000000000000c",
          State: "associated",
          IamInstanceProfile: { Arn: profileArn(alpha.instanceProfile.name) },
        },
        {
          AssociationId: "a-2",
          InstanceId: "i-0000000000000000d",
          State: "associated",
          IamInstanceProfile: { Arn: profileArn("someone-else", "/") },
        },
      ],
    });
    ec2Mock.on(DescribeInstancesCommand).callsFake((input: DescribeInstancesCommandInput) => {
      const ids = input.Filters?.find((filter) => filter.Name === "instance-id")?.Values ?? [];
      return {
        Reservations: [
          { Instances: ids.map((id) => ({ InstanceId: id, State: { Name: "running" }, Tags: [] })) },
        ],
      };
    });
    const { snapshot } = await read([alpha]);
    const byId = ec2Mock
      .commandCalls(DescribeInstancesCommand)
      .map((call) => call.args[0].input.Filters?.find((filter) => filter.Name === "instance-id")?.Values)
      .filter((values) => values !== undefined);
    expect(byId).toEqual([["i-0000000000000000c"]]);
    expect(snapshot.instances.get("i-0000000000000000c")?.state).toBe("running");
    expect(snapshot.associations.size).toBe(2);
  });

  it("instances: one tag-key-filtered DescribeInstances for the selectors, one by ID for listed instances", async () => {
    const byId = desiredFor("gamma", { instanceSelector: { instanceIds: ["i-0000000000000000a"] } });
    account([]);
    ec2Mock.on(DescribeInstancesCommand).callsFake((input: DescribeInstancesCommandInput) => {
      const ids = input.Filters?.find((filter) => filter.Name === "instance-id")?.Values;
      return {
        Reservations: [
          {
            OwnerId: "123456789012",
            Instances:
              ids === undefined
                ? [
                    {
                      InstanceId: "i-0000000000000000b",
                      State: { Name: "running" },
                      Tags: [{ Key: "app", Value: "alpha" }],
                    },
                  ]
                : ids.map((id) => ({ InstanceId: id, State: { Name: "stopped" }, Tags: [] })),
          },
        ],
      };
    });
    const { snapshot, accountId } = await read([alpha, beta, byId]);
    const calls = ec2Mock.commandCalls(DescribeInstancesCommand).map((call) => call.args[0].input.Filters);
    expect(calls).toEqual([
      [
        { Name: "instance-state-name", Values: ["pending", "running", "stopping", "stopped"] },
        { Name: "tag-key", Values: ["app"] },
      ],
      [{ Name: "instance-id", Values: ["i-0000000000000000a"] }],
    ]);
    expect([...snapshot.instances.keys()].sort()).toEqual(["i-0000000000000000a", "i-0000000000000000b"]);
    expect(accountId).toBe("123456789012");
    expect(ec2Mock.commandCalls(DescribeIamInstanceProfileAssociationsCommand)).toHaveLength(1);
  });
});
