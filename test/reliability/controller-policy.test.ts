// The controller's own IAM policy, in both forms it ships (policies/rolecall-controller-policy.json, for running
// without a boundary, and the .bounded.json one), against the code: every operation rolecall's adapters can send
// is allowed, by evaluation of the request AWS sees, nothing else is, and every write stays inside rolecall's path.
import { describe, expect, it } from "vitest";
import { managedByValue, ownershipTagKeys } from "../../src/desired/ownership.js";
import { isAllowed } from "../support/iam-evaluator.js";
import { neededOperations, scan } from "./adapter-operations.js";
import { adapterRequests, eventsQueue, foreignProfile, instance, ownProfile } from "./adapter-requests.js";
import {
  boundaryArnPattern,
  grantOf,
  list,
  policyPaths,
  readPolicy,
  type PolicyFile,
} from "./policy-files.js";

const readOnly = /^(iam|ec2):(Get|List|Describe)/;
const ownArn = {
  policy: "arn:aws:iam::*:policy/rolecall/*",
  role: "arn:aws:iam::*:role/rolecall/*",
  "instance-profile": "arn:aws:iam::*:instance-profile/rolecall/*",
} as const;
const instances = "arn:aws:ec2:*:*:instance/*";
/** The lease table of leader election, under the name deploy/aws/lease-table.yaml gives it. */
const leaseTable = "arn:aws:dynamodb:*:*:table/rolecall-lease";
const ownershipCondition = {
  StringEquals: { [`aws:RequestTag/${ownershipTagKeys.managedBy}`]: managedByValue },
};
const associationActions = [
  "ec2:AssociateIamInstanceProfile",
  "ec2:DisassociateIamInstanceProfile",
  "ec2:ReplaceIamInstanceProfileAssociation",
];

/** The kind of IAM resource each write acts on (its Resource element must be that kind, under the path). */
function resourceKindOf(action: string): keyof typeof ownArn {
  if (/Policy(Version)?$|:(Tag|Untag)Policy$/.test(action) && !/Role/.test(action)) return "policy";
  if (/InstanceProfile$/.test(action)) return "instance-profile";
  expect(action, `${action} acts on a role`).toMatch(/Role|PassRole/);
  return "role";
}

describe("the scan of the adapters", () => {
  it("finds the commands rolecall sends, each from a known SDK client, and nothing sent any other way", () => {
    expect(scan.unmapped, "commands not imported from an @aws-sdk client").toEqual([]);
    expect(scan.importedUnused, "SDK commands imported but never constructed (sent some other way?)").toEqual(
      [],
    );
    expect(scan.paginators, "paginators send commands the scan would not see").toEqual([]);
    // A sanity floor, so a scanner that finds nothing cannot pass: the reads and writes every pass needs.
    for (const operation of [
      "iam:GetAccountAuthorizationDetails",
      "iam:CreateRole",
      "iam:CreatePolicyVersion",
      "iam:DeleteInstanceProfile",
      "iam:PutRolePermissionsBoundary",
      "ec2:DescribeInstances",
      "ec2:AssociateIamInstanceProfile",
      "dynamodb:PutItem",
    ])
      expect(scan.operations.has(operation), operation).toBe(true);
    // STS only to check who a target's credentials belong to (which needs no permission).
    expect([...scan.operations.keys()].filter((operation) => operation.startsWith("sts:"))).toEqual([
      "sts:GetCallerIdentity",
    ]);
    // Only the adapters talk to AWS.
    for (const [operation, files] of scan.operations)
      for (const file of files) expect(file, operation).toMatch(/^src\/aws\//);
    expect(new Set([...scan.operations.keys()].map((operation) => operation.split(":")[0]))).toEqual(
      new Set(["iam", "ec2", "dynamodb", "sqs", "sts"]),
    );
  });
});

const forms = [
  { file: policyPaths.controller, withBoundary: false },
  { file: policyPaths.bounded, withBoundary: true },
] as const;

describe.each(forms)("$file", ({ file, withBoundary }) => {
  const policy: PolicyFile = readPolicy(file);
  const allowedActions = policy.Statement.flatMap((statement) => list(statement.Action));
  const needed = neededOperations(withBoundary);

  it("is an identity policy of Allow statements with exact action names", () => {
    expect(policy.Version).toBe("2012-10-17");
    const sids = policy.Statement.map((statement) => statement.Sid);
    expect(new Set(sids).size, "unique Sids").toBe(sids.length);
    for (const statement of policy.Statement) {
      expect(statement.Effect, statement.Sid).toBe("Allow");
      expect(
        Object.keys(statement).filter(
          (key) => !["Sid", "Effect", "Action", "Resource", "Condition"].includes(key),
        ),
      ).toEqual([]);
      for (const action of list(statement.Action))
        expect(action, statement.Sid).toMatch(/^(iam|ec2|dynamodb|sqs|sts):[A-Z][A-Za-z]+$/);
      expect(list(statement.Resource).length, statement.Sid).toBeGreaterThan(0);
    }
    expect(new Set(allowedActions).size, "each action granted by one statement").toBe(allowedActions.length);
  });

  it("names every operation the adapters can call, and nothing beyond them", () => {
    expect(
      [...needed].filter((operation) => !allowedActions.includes(operation)).sort(),
      "used but not allowed",
    ).toEqual([]);
    expect(allowedActions.filter((action) => !needed.has(action)).sort(), "allowed but never used").toEqual(
      [],
    );
  });

  it("allows, by evaluation, each request the adapters make as AWS sees it (resource and condition keys)", () => {
    const unknown: string[] = [];
    const denied: string[] = [];
    for (const operation of [...needed].sort()) {
      const requests = adapterRequests(operation, { withBoundary });
      if (requests === undefined) unknown.push(operation);
      for (const request of requests ?? [])
        if (!isAllowed({ identity: [policy] }, request)) denied.push(JSON.stringify(request));
    }
    expect(unknown, "operations without a representative request in adapter-requests.ts").toEqual([]);
    expect(denied, "adapter requests the policy denies").toEqual([]);
  });

  it("scopes every IAM write to rolecall's path, one resource kind per action", () => {
    for (const statement of policy.Statement) {
      for (const action of list(statement.Action)) {
        if (!action.startsWith("iam:") || readOnly.test(action)) continue;
        const kind = resourceKindOf(action);
        const resources = list(statement.Resource);
        // A create statement may list several kinds; each must be rolecall's own.
        for (const resource of resources)
          expect(Object.values(ownArn) as string[], `${action} on ${resource}`).toContain(resource);
        expect(resources, `${action} on its own kind`).toContain(ownArn[kind]);
      }
    }
  });

  it("creates only with the ownership tag (roles, when bounded, only with the boundary too)", () => {
    for (const action of ["iam:CreateInstanceProfile", "iam:CreatePolicy"])
      expect(grantOf(policy, action)?.Condition, action).toEqual(ownershipCondition);
    expect(grantOf(policy, "iam:CreateRole")?.Condition).toEqual(
      withBoundary
        ? { ...ownershipCondition, ArnLike: { "iam:PermissionsBoundary": boundaryArnPattern } }
        : ownershipCondition,
    );
  });

  it("attaches only rolecall's own policies (when bounded, only to roles that carry the boundary)", () => {
    const attach = grantOf(policy, "iam:AttachRolePolicy");
    expect(list(attach?.Action)).toEqual(["iam:AttachRolePolicy"]);
    expect(attach?.Condition).toEqual({
      ArnLike: withBoundary
        ? { "iam:PermissionsBoundary": boundaryArnPattern, "iam:PolicyARN": ownArn.policy }
        : { "iam:PolicyARN": ownArn.policy },
    });
  });

  it("lets iam:PassRole pass only rolecall's roles, and only to EC2", () => {
    const pass = grantOf(policy, "iam:PassRole");
    expect(list(pass?.Action)).toEqual(["iam:PassRole"]);
    expect(list(pass?.Resource)).toEqual([ownArn.role]);
    expect(pass?.Condition).toEqual({ StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } });
  });

  it("grants account-wide (Resource *) only the reads that have no resource type", () => {
    for (const statement of policy.Statement) {
      if (!list(statement.Resource).includes("*")) continue;
      for (const action of list(statement.Action))
        expect(action, statement.Sid).toMatch(
          /^(iam:(GetAccountAuthorizationDetails|ListInstanceProfiles|ListPolicies)|ec2:Describe\w+)$/,
        );
    }
  });

  it("lets the lease's DynamoDB calls read and write items of the lease table only", () => {
    const lease = grantOf(policy, "dynamodb:PutItem");
    expect(lease?.Sid).toBe("UseTheLeaseTable");
    expect([...list(lease?.Action)].sort()).toEqual(["dynamodb:GetItem", "dynamodb:PutItem"]);
    expect(list(lease?.Resource)).toEqual([leaseTable]);
    const identity = { identity: [policy] };
    const onTable = (action: string, resource: string) => isAllowed(identity, { action, resource });
    const ownTable = leaseTable.replace("*:*", "eu-west-1:123456789012");
    expect(onTable("dynamodb:PutItem", ownTable)).toBe(true);
    expect(onTable("dynamodb:PutItem", ownTable.replace("rolecall-lease", "orders")), "another table").toBe(
      false,
    );
    expect(onTable("dynamodb:DeleteItem", ownTable), "deleting the lease").toBe(false);
    expect(onTable("dynamodb:DeleteTable", ownTable), "deleting the table").toBe(false);
    expect(onTable("dynamodb:Scan", ownTable)).toBe(false);
  });

  it("reads and deletes messages of the instance-events queue only, and sends none", () => {
    const identity = { identity: [policy] };
    const sqs = (action: string, resource: string) => isAllowed(identity, { action, resource, context: {} });
    expect(sqs("sqs:ReceiveMessage", eventsQueue)).toBe(true);
    expect(sqs("sqs:DeleteMessage", eventsQueue)).toBe(true);
    expect(sqs("sqs:ReceiveMessage", eventsQueue.replace("rolecall-instance-events", "payments"))).toBe(
      false,
    );
    expect(sqs("sqs:ReceiveMessage", `${eventsQueue}-dlq`), "the dead-letter queue is for people").toBe(
      false,
    );
    for (const action of ["sqs:SendMessage", "sqs:PurgeQueue", "sqs:DeleteQueue", "sqs:SetQueueAttributes"])
      expect(sqs(action, eventsQueue), action).toBe(false);
  });

  it("assumes only controller roles (the template's path), in any target account", () => {
    const assume = grantOf(policy, "sts:AssumeRole");
    expect(list(assume?.Action)).toEqual(["sts:AssumeRole"]);
    expect(list(assume?.Resource)).toEqual(["arn:aws:iam::*:role/rolecall-controller/*"]);
    const request = (resource: string) => ({ action: "sts:AssumeRole", resource, context: {} });
    expect(isAllowed({ identity: [policy] }, request("arn:aws:iam::111111111111:role/admin"))).toBe(false);
    expect(isAllowed({ identity: [policy] }, request("arn:aws:iam::111111111111:role/rolecall/app"))).toBe(
      false,
    );
  });

  it("scopes the EC2 association calls to instances, and hands instances only rolecall's profiles", () => {
    for (const action of associationActions)
      expect(list(grantOf(policy, action)?.Resource)).toEqual([instances]);
    for (const action of ["ec2:AssociateIamInstanceProfile", "ec2:ReplaceIamInstanceProfileAssociation"])
      expect(grantOf(policy, action)?.Condition, action).toEqual({
        ArnLike: { "ec2:NewInstanceProfile": ownArn["instance-profile"] },
      });
    // The profile an instance holds cannot be constrained: onConflict: replace takes over foreign ones.
    expect(grantOf(policy, "ec2:DisassociateIamInstanceProfile")?.Condition).toBeUndefined();
    const identity = { identity: [policy] };
    const associate = (resource: string, profile: string) =>
      isAllowed(identity, {
        action: "ec2:AssociateIamInstanceProfile",
        resource,
        context: { "ec2:NewInstanceProfile": profile },
      });
    expect(associate(instance, ownProfile)).toBe(true);
    expect(associate(instance, foreignProfile), "a profile that is not rolecall's").toBe(false);
    expect(associate(instance.replace(":instance/", ":volume/"), ownProfile), "not an instance").toBe(false);
    expect(
      isAllowed(identity, { action: "ec2:ReplaceIamInstanceProfileAssociation", resource: instance }),
      "without the new profile's ARN",
    ).toBe(false);
  });
});
