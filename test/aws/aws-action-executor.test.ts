import {
  AssociateIamInstanceProfileCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DisassociateIamInstanceProfileCommand,
  EC2Client,
  EC2ServiceException,
  ReplaceIamInstanceProfileAssociationCommand,
} from "@aws-sdk/client-ec2";
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  DeleteInstanceProfileCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DeleteRoleCommand,
  DetachRolePolicyCommand,
  EntityAlreadyExistsException,
  GetInstanceProfileCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  IAMClient,
  LimitExceededException,
  ListAttachedRolePoliciesCommand,
  ListPoliciesCommand,
  ListPolicyTagsCommand,
  ListRolePoliciesCommand,
  NoSuchEntityException,
  RemoveRoleFromInstanceProfileCommand,
  TagInstanceProfileCommand,
  TagPolicyCommand,
  TagRoleCommand,
} from "@aws-sdk/client-iam";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { CreatedInPass } from "../../src/aws/actions/created-in-pass.js";
import { OwnershipError } from "../../src/aws/actions/recovery.js";
import { AwsActionExecutor } from "../../src/aws/aws-action-executor.js";
import { createCallers, defaultAwsSettings } from "../../src/aws/aws-clients.js";
import { AwsApiError } from "../../src/aws/aws-error.js";
import { CallCounter } from "../../src/aws/call-observer.js";
import { ownershipTags, policyDescription } from "../../src/desired/ownership.js";
import { ec2TrustPolicy } from "../../src/desired/policy-document.js";
import { SnapshotWriter } from "../../src/engine/snapshot-writer.js";
import { snapshotOf } from "../support/snapshot-fixtures.js";
import { emptySnapshot } from "../../src/observed/snapshot.js";
import type { PolicyDocument } from "../../src/desired/policy-document.js";
import type { Action } from "../../src/plan/action.js";
import { desiredFor, iamPath, policyArn, profileArn, roleArn } from "../support/desired-fixtures.js";
import { VirtualClock } from "../support/virtual-clock.js";

const iamMock = mockClient(IAMClient);
const ec2Mock = mockClient(EC2Client);

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });
const alreadyExists = () =>
  Object.assign(new EntityAlreadyExistsException({ message: "already exists", ...meta(409) }), {
    Code: "EntityAlreadyExists",
  });
const noSuchEntity = () =>
  Object.assign(new NoSuchEntityException({ message: "cannot be found", ...meta(404) }), {
    Code: "NoSuchEntity",
  });
const tagList = (tags: Record<string, string>) =>
  Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

const dev = desiredFor("dev");
const reason = { resource: "x", field: "exists", desired: "present", actual: "absent" };
const otherTags = ownershipTags("other", "delete");

let counter: CallCounter;
let executor: AwsActionExecutor;
let state: SnapshotWriter;
let created: CreatedInPass;

beforeEach(() => {
  iamMock.reset();
  ec2Mock.reset();
  counter = new CallCounter();
  const callers = createCallers(
    { iam: new IAMClient({ region: "us-east-1" }), ec2: new EC2Client({ region: "us-east-1" }) },
    defaultAwsSettings,
    counter,
    undefined,
    new VirtualClock(),
  );
  executor = new AwsActionExecutor(callers.iam, callers.ec2);
  state = new SnapshotWriter(emptySnapshot());
  created = new CreatedInPass();
});

/** Executes through the executor and applies what it answered to the state, as the engine does. */
const run = async (action: Action) => {
  state.apply(action, await executor.execute(action, state.view(), created));
};

const createPolicy: Action = {
  kind: "createPolicy",
  manifest: "dev",
  reason,
  policyName: dev.policy.name,
  path: dev.policy.path,
  description: dev.policy.description,
  document: dev.policy.document,
  tags: dev.tags,
};
const createRole: Action = {
  kind: "createRole",
  manifest: "dev",
  reason,
  roleName: dev.role.name,
  path: dev.role.path,
  description: dev.role.description,
  trustPolicy: dev.role.trustPolicy,
  tags: dev.tags,
};
const createProfile: Action = {
  kind: "createInstanceProfile",
  manifest: "dev",
  reason,
  profileName: dev.instanceProfile.name,
  path: dev.instanceProfile.path,
  tags: dev.tags,
};

/** An existing policy as GetPolicy/GetPolicyVersion return it. */
function existingPolicy(tags: Record<string, string>, document: unknown = dev.policy.document) {
  const arn = policyArn(dev.policy.name);
  iamMock.on(ListPoliciesCommand).resolves({
    IsTruncated: false,
    Policies: [
      { PolicyName: "unrelated", Arn: policyArn("unrelated") },
      { PolicyName: dev.policy.name, Arn: arn },
    ],
  });
  iamMock.on(GetPolicyCommand).resolves({
    Policy: {
      PolicyName: dev.policy.name,
      Arn: arn,
      Path: iamPath,
      DefaultVersionId: "v1",
      Tags: tagList(tags),
    },
  });
  iamMock.on(GetPolicyVersionCommand).resolves({
    PolicyVersion: {
      VersionId: "v1",
      IsDefaultVersion: true,
      Document: encodeURIComponent(JSON.stringify(document)),
    },
  });
  return arn;
}

function existingRole(tags: Record<string, string>) {
  iamMock.on(GetRoleCommand).resolves({
    Role: {
      RoleName: dev.role.name,
      Arn: roleArn(dev.role.name),
      Path: iamPath,
      RoleId: "AROA",
      CreateDate: new Date(0),
      AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(ec2TrustPolicy())),
      Tags: tagList(tags),
    },
  });
  iamMock.on(ListAttachedRolePoliciesCommand).resolves({ IsTruncated: false, AttachedPolicies: [] });
  iamMock.on(ListRolePoliciesCommand).resolves({ IsTruncated: false, PolicyNames: [] });
}

function existingProfile(tags: Record<string, string>, roles: string[] = []) {
  iamMock.on(GetInstanceProfileCommand).resolves({
    InstanceProfile: {
      InstanceProfileName: dev.instanceProfile.name,
      InstanceProfileId: "AIPA",
      Arn: profileArn(dev.instanceProfile.name),
      Path: iamPath,
      CreateDate: new Date(0),
      Roles: roles.map((name) => ({
        RoleName: name,
        RoleId: "AROA",
        Arn: roleArn(name),
        Path: iamPath,
        CreateDate: new Date(0),
      })),
      Tags: tagList(tags),
    },
  });
}

describe("AwsActionExecutor: creating", () => {
  it("createPolicy sends tags, path and description in the create call, and tags nothing separately", async () => {
    iamMock.on(CreatePolicyCommand).resolves({
      Policy: { PolicyName: dev.policy.name, Arn: policyArn(dev.policy.name), DefaultVersionId: "v1" },
    });
    await run(createPolicy);
    const calls = iamMock.commandCalls(CreatePolicyCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input).toMatchObject({
      PolicyName: dev.policy.name,
      Path: iamPath,
      Description: policyDescription("dev"),
    });
    expect(JSON.parse(input.PolicyDocument!)).toEqual(dev.policy.document);
    expect(input.Tags).toEqual(tagList(dev.tags));
    expect(iamMock.commandCalls(TagPolicyCommand)).toHaveLength(0);
    expect(counter.byOperation()).toEqual({ "iam:CreatePolicy": 1 });
    expect(state.policy(dev.policy.name)).toMatchObject({ arn: policyArn(dev.policy.name), tags: dev.tags });
    expect(created.has("policy", dev.policy.name)).toBe(true);
  });

  it("createRole and createInstanceProfile carry the ownership tags in the create call", async () => {
    iamMock.on(CreateRoleCommand).resolves({
      Role: {
        RoleName: dev.role.name,
        Arn: roleArn(dev.role.name),
        Path: iamPath,
        RoleId: "AROA",
        CreateDate: new Date(0),
      },
    });
    iamMock.on(CreateInstanceProfileCommand).resolves({
      InstanceProfile: {
        InstanceProfileName: dev.instanceProfile.name,
        Arn: profileArn(dev.instanceProfile.name),
        Path: iamPath,
        InstanceProfileId: "AIPA",
        CreateDate: new Date(0),
        Roles: [],
      },
    });
    await run(createRole);
    await run(createProfile);
    const roleInput = iamMock.commandCalls(CreateRoleCommand)[0]!.args[0].input;
    expect(roleInput).toMatchObject({ RoleName: dev.role.name, Path: iamPath, Tags: tagList(dev.tags) });
    expect(JSON.parse(roleInput.AssumeRolePolicyDocument!)).toEqual(ec2TrustPolicy());
    expect(iamMock.commandCalls(CreateInstanceProfileCommand)[0]!.args[0].input).toMatchObject({
      InstanceProfileName: dev.instanceProfile.name,
      Path: iamPath,
      Tags: tagList(dev.tags),
    });
    expect(iamMock.commandCalls(TagRoleCommand)).toHaveLength(0);
    expect(iamMock.commandCalls(TagInstanceProfileCommand)).toHaveLength(0);
    expect(state.profile(dev.instanceProfile.name)?.arn).toBe(profileArn(dev.instanceProfile.name));
  });
});

describe("AwsActionExecutor: EntityAlreadyExists is resolved by re-reading the tags", () => {
  it("createPolicy: accepted when the tags say this manifest owns it", async () => {
    iamMock.on(CreatePolicyCommand).rejects(alreadyExists());
    const arn = existingPolicy(dev.tags);
    await run(createPolicy);
    expect(state.policy(dev.policy.name)).toMatchObject({ arn, tags: dev.tags });
    expect(iamMock.commandCalls(CreatePolicyVersionCommand)).toHaveLength(0); // same document
    expect(created.has("policy", dev.policy.name)).toBe(true);
  });

  it("createPolicy: accepted and brought up to date when ours but with another document", async () => {
    iamMock.on(CreatePolicyCommand).rejects(alreadyExists());
    iamMock
      .on(CreatePolicyVersionCommand)
      .resolves({ PolicyVersion: { VersionId: "v2", IsDefaultVersion: true } });
    const arn = existingPolicy(dev.tags, { Version: "2012-10-17", Statement: [] });
    await run(createPolicy);
    const calls = iamMock.commandCalls(CreatePolicyVersionCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toMatchObject({ PolicyArn: arn, SetAsDefault: true });
    expect(JSON.parse(calls[0]!.args[0].input.PolicyDocument!)).toEqual(dev.policy.document);
  });

  it("createPolicy: refused with OwnershipError when the tags name another manifest or none", async () => {
    for (const tags of [otherTags, {}]) {
      iamMock.reset();
      iamMock.on(CreatePolicyCommand).rejects(alreadyExists());
      existingPolicy(tags);
      const error = await run(createPolicy).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OwnershipError);
      expect(error).toMatchObject({ code: "NotOwned", resource: `policy/${dev.policy.name}` });
      expect(iamMock.commandCalls(CreatePolicyVersionCommand)).toHaveLength(0);
      expect(state.policy(dev.policy.name)).toBeUndefined();
    }
  });

  it("createRole: accepted when ours, refused otherwise", async () => {
    iamMock.on(CreateRoleCommand).rejects(alreadyExists());
    existingRole(dev.tags);
    await run(createRole);
    expect(state.role(dev.role.name)?.tags).toEqual(dev.tags);
    expect(created.has("role", dev.role.name)).toBe(true);

    iamMock.reset();
    state = new SnapshotWriter(emptySnapshot());
    iamMock.on(CreateRoleCommand).rejects(alreadyExists());
    existingRole(otherTags);
    await expect(run(createRole)).rejects.toBeInstanceOf(OwnershipError);
    expect(state.role(dev.role.name)).toBeUndefined();
  });

  it("createInstanceProfile: accepted when ours, refused otherwise", async () => {
    iamMock.on(CreateInstanceProfileCommand).rejects(alreadyExists());
    existingProfile(dev.tags);
    await run(createProfile);
    expect(state.profile(dev.instanceProfile.name)?.tags).toEqual(dev.tags);

    iamMock.reset();
    state = new SnapshotWriter(emptySnapshot());
    iamMock.on(CreateInstanceProfileCommand).rejects(alreadyExists());
    existingProfile({ team: "someone" });
    await expect(run(createProfile)).rejects.toBeInstanceOf(OwnershipError);
    expect(state.profile(dev.instanceProfile.name)).toBeUndefined();
  });

  it("a conflict whose resource has vanished meanwhile is thrown as the original conflict", async () => {
    iamMock.on(CreateRoleCommand).rejects(alreadyExists());
    iamMock.on(GetRoleCommand).rejects(noSuchEntity());
    await expect(run(createRole)).rejects.toMatchObject({ kind: "conflict", code: "EntityAlreadyExists" });
  });
});

describe("AwsActionExecutor: adding the role to the profile", () => {
  const add: Action = {
    kind: "addRoleToInstanceProfile",
    manifest: "dev",
    reason,
    profileName: dev.instanceProfile.name,
    roleName: dev.role.name,
  };
  const quota = () =>
    Object.assign(
      new LimitExceededException({
        message: "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1",
        ...meta(409),
      }),
      { Code: "LimitExceeded" },
    );

  it("LimitExceeded is accepted when the profile already holds the role (an unseen earlier success)", async () => {
    iamMock.on(AddRoleToInstanceProfileCommand).rejects(quota());
    existingProfile(dev.tags, [dev.role.name.toUpperCase()]);
    await run(add);
    expect(iamMock.commandCalls(AddRoleToInstanceProfileCommand)).toHaveLength(1); // not retried
    expect(iamMock.commandCalls(GetInstanceProfileCommand)).toHaveLength(1);
  });

  it("LimitExceeded is thrown when the profile holds another role", async () => {
    iamMock.on(AddRoleToInstanceProfileCommand).rejects(quota());
    existingProfile(dev.tags, ["someone-elses-role"]);
    await expect(run(add)).rejects.toMatchObject({ kind: "terminal", code: "LimitExceeded" });
  });
});

describe("AwsActionExecutor: associating", () => {
  const associate: Action = {
    kind: "associateInstanceProfile",
    manifest: "dev",
    reason,
    instanceId: "i-0123456789abcdef0",
    profileName: dev.instanceProfile.name,
  };
  const existingAssociation = () =>
    new EC2ServiceException({
      name: "IncorrectState",
      $fault: "client",
      message: "There is an existing association for instance i-0123456789abcdef0",
      ...meta(400),
    });
  const held = (profile: string) => ({
    IamInstanceProfileAssociations: [
      {
        AssociationId: "iip-assoc-9",
        InstanceId: "i-0123456789abcdef0",
        State: "associated" as const,
        IamInstanceProfile: { Arn: profileArn(profile), Id: "AIPA" },
      },
    ],
  });

  it('"There is an existing association" is accepted when it is our profile', async () => {
    ec2Mock.on(AssociateIamInstanceProfileCommand).rejects(existingAssociation());
    ec2Mock.on(DescribeIamInstanceProfileAssociationsCommand).resolves(held(dev.instanceProfile.name));
    await run(associate);
    expect(state.association("i-0123456789abcdef0")).toMatchObject({
      associationId: "iip-assoc-9",
      profileArn: profileArn(dev.instanceProfile.name),
    });
    expect(ec2Mock.commandCalls(AssociateIamInstanceProfileCommand)).toHaveLength(1);
  });

  it('"There is an existing association" with someone else\'s profile is thrown', async () => {
    ec2Mock.on(AssociateIamInstanceProfileCommand).rejects(existingAssociation());
    ec2Mock.on(DescribeIamInstanceProfileAssociationsCommand).resolves(held("someone-else"));
    await expect(run(associate)).rejects.toMatchObject({ kind: "conflict", code: "IncorrectState" });
    expect(state.association("i-0123456789abcdef0")).toBeUndefined();
  });

  it("associate records the new association", async () => {
    ec2Mock.on(AssociateIamInstanceProfileCommand).resolves({
      IamInstanceProfileAssociation: {
        AssociationId: "iip-assoc-1",
        InstanceId: "i-0123456789abcdef0",
        State: "associating",
        IamInstanceProfile: { Arn: profileArn(dev.instanceProfile.name), Id: "AIPA" },
      },
    });
    await run(associate);
    expect(ec2Mock.commandCalls(AssociateIamInstanceProfileCommand)[0]!.args[0].input).toEqual({
      InstanceId: "i-0123456789abcdef0",
      IamInstanceProfile: { Name: dev.instanceProfile.name },
    });
    expect(state.association("i-0123456789abcdef0")?.associationId).toBe("iip-assoc-1");
  });

  it("replace whose old association has gone falls back to a plain associate", async () => {
    ec2Mock.on(ReplaceIamInstanceProfileAssociationCommand).rejects(
      new EC2ServiceException({
        name: "InvalidAssociationID.NotFound",
        $fault: "client",
        message: "gone",
        ...meta(400),
      }),
    );
    ec2Mock.on(AssociateIamInstanceProfileCommand).resolves({
      IamInstanceProfileAssociation: {
        AssociationId: "iip-assoc-2",
        InstanceId: "i-0123456789abcdef0",
        State: "associating",
      },
    });
    await run({
      kind: "replaceInstanceProfileAssociation",
      manifest: "dev",
      reason,
      instanceId: "i-0123456789abcdef0",
      associationId: "iip-assoc-old",
      profileName: dev.instanceProfile.name,
    });
    expect(ec2Mock.commandCalls(AssociateIamInstanceProfileCommand)).toHaveLength(1);
    expect(state.association("i-0123456789abcdef0")?.associationId).toBe("iip-assoc-2");
  });
});

describe("AwsActionExecutor: deleting what is already gone succeeds", () => {
  const arn = policyArn(dev.policy.name);
  const deletions: [Action, () => void][] = [
    [
      { kind: "deleteRole", manifest: "dev", reason, roleName: dev.role.name },
      () => iamMock.on(DeleteRoleCommand).rejects(noSuchEntity()),
    ],
    [
      { kind: "deletePolicy", manifest: "dev", reason, policyArn: arn },
      () => iamMock.on(DeletePolicyCommand).rejects(noSuchEntity()),
    ],
    [
      { kind: "deletePolicyVersion", manifest: "dev", reason, policyArn: arn, versionId: "v1" },
      () => iamMock.on(DeletePolicyVersionCommand).rejects(noSuchEntity()),
    ],
    [
      { kind: "deleteInstanceProfile", manifest: "dev", reason, profileName: dev.instanceProfile.name },
      () => iamMock.on(DeleteInstanceProfileCommand).rejects(noSuchEntity()),
    ],
    [
      { kind: "detachRolePolicy", manifest: "dev", reason, roleName: dev.role.name, policyArn: arn },
      () => iamMock.on(DetachRolePolicyCommand).rejects(noSuchEntity()),
    ],
    [
      {
        kind: "removeRoleFromInstanceProfile",
        manifest: "dev",
        reason,
        profileName: dev.instanceProfile.name,
        roleName: dev.role.name,
      },
      () => iamMock.on(RemoveRoleFromInstanceProfileCommand).rejects(noSuchEntity()),
    ],
    [
      {
        kind: "disassociateInstanceProfile",
        manifest: "dev",
        reason,
        instanceId: "i-1",
        associationId: "iip-assoc-1",
      },
      () =>
        ec2Mock.on(DisassociateIamInstanceProfileCommand).rejects(
          new EC2ServiceException({
            name: "InvalidAssociationID.NotFound",
            $fault: "client",
            message: "gone",
            ...meta(400),
          }),
        ),
    ],
  ];
  for (const [action, arrange] of deletions) {
    it(`${action.kind}: NotFound is success, without a retry`, async () => {
      arrange();
      await run(action);
      expect(counter.errorsByCode()).not.toEqual({});
      expect(counter.total()).toBe(1); // no retry
    });
  }

  it("deleteRole removes the role from the snapshot even when it was already gone", async () => {
    state = new SnapshotWriter(
      snapshotOf({
        roles: [
          {
            name: dev.role.name,
            arn: roleArn(dev.role.name),
            path: iamPath,
            trustPolicy: ec2TrustPolicy(),
            attachedPolicyArns: [],
            inlinePolicyNames: [],
            tags: dev.tags,
          },
        ],
      }),
    );
    iamMock.on(DeleteRoleCommand).rejects(noSuchEntity());
    await run({ kind: "deleteRole", manifest: "dev", reason, roleName: dev.role.name });
    expect(state.role(dev.role.name)).toBeUndefined();
  });

  it("other failures of a delete are thrown", async () => {
    iamMock.on(DeleteRoleCommand).rejects(
      Object.assign(new EntityAlreadyExistsException({ message: "x", ...meta(409) }), {
        Code: "DeleteConflict",
      }),
    );
    await expect(
      run({ kind: "deleteRole", manifest: "dev", reason, roleName: dev.role.name }),
    ).rejects.toBeInstanceOf(AwsApiError);
  });
});

describe("AwsActionExecutor: policy changes guarded by expectOwner", () => {
  const arn = policyArn(dev.policy.name);
  const newVersion: Action = {
    kind: "createPolicyVersion",
    manifest: "dev",
    reason,
    policyName: dev.policy.name,
    policyArn: arn,
    document: dev.policy.document,
    expectOwner: { manifest: "dev" },
  };

  it("reads the tags first and refuses when they name another manifest", async () => {
    iamMock.on(ListPolicyTagsCommand).resolves({ IsTruncated: false, Tags: tagList(otherTags) });
    const error = await run(newVersion).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OwnershipError);
    expect(iamMock.commandCalls(ListPolicyTagsCommand)[0]!.args[0].input.PolicyArn).toBe(arn);
    expect(iamMock.commandCalls(CreatePolicyVersionCommand)).toHaveLength(0);
  });

  it("refuses when the policy carries no rolecall tags at all", async () => {
    iamMock.on(ListPolicyTagsCommand).resolves({ IsTruncated: false, Tags: [] });
    await expect(run(newVersion)).rejects.toBeInstanceOf(OwnershipError);
    expect(iamMock.commandCalls(CreatePolicyVersionCommand)).toHaveLength(0);
  });

  it("reads the tags first, then creates the version, when they name this manifest", async () => {
    const order: string[] = [];
    iamMock.on(ListPolicyTagsCommand).callsFake(() => {
      order.push("ListPolicyTags");
      return { IsTruncated: false, Tags: tagList(dev.tags) };
    });
    iamMock.on(CreatePolicyVersionCommand).callsFake(() => {
      order.push("CreatePolicyVersion");
      return { PolicyVersion: { VersionId: "v3", IsDefaultVersion: true } };
    });
    state = new SnapshotWriter(
      snapshotOf({
        policies: [
          {
            name: dev.policy.name,
            arn,
            path: iamPath,
            description: policyDescription("dev"),
            document: { Version: "2012-10-17", Statement: [] },
            defaultVersionId: "v2",
            versions: [
              { id: "v1", isDefault: false, createdAt: 1 },
              { id: "v2", isDefault: true, createdAt: 2 },
            ],
            tags: undefined,
          },
        ],
      }),
    );
    await run(newVersion);
    expect(order).toEqual(["ListPolicyTags", "CreatePolicyVersion"]);
    const policy = state.policy(dev.policy.name)!;
    expect(policy.document).toEqual(dev.policy.document);
    expect(policy.defaultVersionId).toBe("v3");
    expect(policy.versions.map((version) => [version.id, version.isDefault])).toEqual([
      ["v1", false],
      ["v2", false],
      ["v3", true],
    ]);
  });

  it("without expectOwner no tag read is spent", async () => {
    iamMock.on(CreatePolicyVersionCommand).resolves({ PolicyVersion: { VersionId: "v2" } });
    const { expectOwner: _unused, ...unguarded } = newVersion;
    await run(unguarded);
    expect(iamMock.commandCalls(ListPolicyTagsCommand)).toHaveLength(0);
    expect(iamMock.commandCalls(CreatePolicyVersionCommand)).toHaveLength(1);
  });

  it("deletePolicyVersion with expectOwner refuses another manifest's policy", async () => {
    iamMock.on(ListPolicyTagsCommand).resolves({ IsTruncated: false, Tags: tagList(otherTags) });
    await expect(
      run({
        kind: "deletePolicyVersion",
        manifest: "dev",
        reason,
        policyArn: arn,
        versionId: "v1",
        expectOwner: { manifest: "dev" },
      }),
    ).rejects.toBeInstanceOf(OwnershipError);
    expect(iamMock.commandCalls(DeletePolicyVersionCommand)).toHaveLength(0);
  });

  it("deletePolicy expecting deletion-policy delete refuses a policy whose tags say retain", async () => {
    iamMock
      .on(ListPolicyTagsCommand)
      .resolves({ IsTruncated: false, Tags: tagList(ownershipTags("dev", "retain")) });
    await expect(
      run({
        kind: "deletePolicy",
        manifest: "dev",
        reason,
        policyArn: arn,
        expectOwner: { manifest: "dev", deletionPolicy: "delete" },
      }),
    ).rejects.toBeInstanceOf(OwnershipError);
    expect(iamMock.commandCalls(DeletePolicyCommand)).toHaveLength(0);
  });
});

describe("AwsActionExecutor: a new policy version whose answer was lost is not created twice", () => {
  const arn = policyArn(dev.policy.name);
  const newDocument: PolicyDocument = {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: ["s3:GetObject"], Resource: ["*"] }],
  };
  const newVersion: Action = {
    kind: "createPolicyVersion",
    manifest: "dev",
    reason,
    policyName: dev.policy.name,
    policyArn: arn,
    document: newDocument,
  };
  const serverError = () =>
    Object.assign(new Error("Service Unavailable"), { name: "Error", $metadata: { httpStatusCode: 503 } });
  const dropped = () => Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });

  beforeEach(() => {
    state = new SnapshotWriter(
      snapshotOf({
        policies: [
          {
            name: dev.policy.name,
            arn,
            path: iamPath,
            description: policyDescription("dev"),
            document: dev.policy.document,
            defaultVersionId: "v1",
            versions: [{ id: "v1", isDefault: true, createdAt: 1 }],
            tags: dev.tags,
          },
        ],
      }),
    );
  });

  it("a failure after AWS created the version (the default document is already the new one): not sent again", async () => {
    iamMock.on(CreatePolicyVersionCommand).rejects(dropped());
    iamMock
      .on(GetPolicyCommand)
      .resolves({ Policy: { PolicyName: dev.policy.name, Arn: arn, DefaultVersionId: "v2" } });
    iamMock.on(GetPolicyVersionCommand).resolves({
      PolicyVersion: {
        VersionId: "v2",
        IsDefaultVersion: true,
        Document: encodeURIComponent(JSON.stringify(newDocument)),
      },
    });
    await run(newVersion);
    expect(iamMock.commandCalls(CreatePolicyVersionCommand)).toHaveLength(1);
    expect(iamMock.commandCalls(GetPolicyVersionCommand)[0]!.args[0].input).toEqual({
      PolicyArn: arn,
      VersionId: "v2",
    });
    const policy = state.policy(dev.policy.name)!;
    expect(policy.defaultVersionId).toBe("v2");
    expect(policy.versions.map((version) => [version.id, version.isDefault])).toEqual([
      ["v1", false],
      ["v2", true],
    ]);
  });

  it("a failure before AWS acted (the default document is still the old one): sent again, once", async () => {
    iamMock
      .on(CreatePolicyVersionCommand)
      .rejectsOnce(serverError())
      .resolves({ PolicyVersion: { VersionId: "v2", IsDefaultVersion: true } });
    iamMock
      .on(GetPolicyCommand)
      .resolves({ Policy: { PolicyName: dev.policy.name, Arn: arn, DefaultVersionId: "v1" } });
    iamMock.on(GetPolicyVersionCommand).resolves({
      PolicyVersion: {
        VersionId: "v1",
        IsDefaultVersion: true,
        Document: encodeURIComponent(JSON.stringify(dev.policy.document)),
      },
    });
    await run(newVersion);
    expect(iamMock.commandCalls(CreatePolicyVersionCommand)).toHaveLength(2);
    expect(iamMock.commandCalls(GetPolicyCommand)).toHaveLength(1);
    expect(state.policy(dev.policy.name)!.defaultVersionId).toBe("v2");
  });

  it("throttling is retried without a look: a throttled request was never acted on", async () => {
    iamMock
      .on(CreatePolicyVersionCommand)
      .rejectsOnce(
        Object.assign(new Error("Rate exceeded"), { name: "Throttling", $metadata: { httpStatusCode: 400 } }),
      )
      .resolves({ PolicyVersion: { VersionId: "v2", IsDefaultVersion: true } });
    await run(newVersion);
    expect(iamMock.commandCalls(CreatePolicyVersionCommand)).toHaveLength(2);
    expect(iamMock.commandCalls(GetPolicyCommand)).toHaveLength(0);
  });

  it("the conflict path of createPolicy (ours, another document) guards its version the same way", async () => {
    iamMock.on(CreatePolicyCommand).rejects(alreadyExists());
    existingPolicy(dev.tags, { Version: "2012-10-17", Statement: [] });
    iamMock.on(CreatePolicyVersionCommand).rejects(dropped());
    // After the lost answer, the default version is the wanted document.
    iamMock
      .on(GetPolicyCommand)
      .resolvesOnce({
        Policy: {
          PolicyName: dev.policy.name,
          Arn: arn,
          Path: iamPath,
          DefaultVersionId: "v1",
          Tags: tagList(dev.tags),
        },
      })
      .resolves({ Policy: { PolicyName: dev.policy.name, Arn: arn, Path: iamPath, DefaultVersionId: "v2" } });
    iamMock
      .on(GetPolicyVersionCommand, { PolicyArn: arn, VersionId: "v1" })
      .resolves({
        PolicyVersion: {
          VersionId: "v1",
          Document: encodeURIComponent('{"Version":"2012-10-17","Statement":[]}'),
        },
      })
      .on(GetPolicyVersionCommand, { PolicyArn: arn, VersionId: "v2" })
      .resolves({
        PolicyVersion: { VersionId: "v2", Document: encodeURIComponent(JSON.stringify(dev.policy.document)) },
      });
    await run(createPolicy);
    expect(iamMock.commandCalls(CreatePolicyVersionCommand)).toHaveLength(1);
    expect(state.policy(dev.policy.name)!.defaultVersionId).toBe("v2");
  });
});
