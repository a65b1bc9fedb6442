// What the permissions boundary buys, proven by evaluation. (a) With the bounded controller policy, rolecall's
// credentials can create and change roles only under the boundary, and can never change the boundary itself.
// (b) A role carrying the boundary gets nothing outside the boundary's S3 actions, whatever is attached to it.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { s3Actions } from "../../src/desired/s3-policy.js";
import { decide, isAllowed, type Policy, type Request } from "../support/iam-evaluator.js";
import { instance, ownershipTag, ownPolicy, ownProfile, ownRole } from "./adapter-requests.js";
import {
  account,
  boundaryArn,
  boundaryArnPattern,
  grantOf,
  list,
  policyPaths,
  readPolicy,
  type FileStatement,
  type PolicyFile,
} from "./policy-files.js";

const bounded = readPolicy(policyPaths.bounded);
const unbounded = readPolicy(policyPaths.controller);
const boundary = readPolicy(policyPaths.boundary);
const controller = { identity: [bounded] };
const allowedBy = (policy: Policy, request: Request) => isAllowed({ identity: [policy] }, request);

const createRole = (context: Record<string, string>): Request => ({
  action: "iam:CreateRole",
  resource: ownRole,
  context: { ...ownershipTag, ...context },
});
const otherBoundaries = [
  `arn:aws:iam::${account}:policy/rolecall/rolecall-dev-s3-read`,
  "arn:aws:iam::aws:policy/AdministratorAccess",
  `arn:aws:iam::${account}:policy/rolecall-boundary/rolecall-boundary-2`,
  `arn:aws:iam::${account}:policy/other/rolecall-boundary`,
];

/** A condition with the boundary key added, as the bounded policy adds it to what rolecall does to roles. */
const withBoundaryKey = (condition: FileStatement["Condition"]) => ({
  ...condition,
  ArnLike: { ...condition?.ArnLike, "iam:PermissionsBoundary": boundaryArnPattern },
});

describe("(a) the bounded controller policy", () => {
  it("is today's policy, changed only where the boundary needs it", () => {
    const actions = (policy: PolicyFile) =>
      policy.Statement.flatMap((statement) => list(statement.Action)).sort();
    expect(actions(bounded)).toEqual([...actions(unbounded), "iam:PutRolePermissionsBoundary"].sort());
    for (const action of actions(unbounded)) {
      const today = grantOf(unbounded, action);
      const now = grantOf(bounded, action);
      for (const resource of list(now?.Resource)) expect(list(today?.Resource), action).toContain(resource);
      const conditioned = action === "iam:CreateRole" || action === "iam:AttachRolePolicy";
      expect(now?.Condition, action).toEqual(
        conditioned ? withBoundaryKey(today?.Condition) : today?.Condition,
      );
    }
  });

  it("creates a role only with the boundary: not without one, not with another", () => {
    expect(isAllowed(controller, createRole({ "iam:PermissionsBoundary": boundaryArn })), "control").toBe(
      true,
    );
    expect(decide(controller, createRole({}))).toBe("ImplicitDeny");
    for (const other of otherBoundaries)
      expect(isAllowed(controller, createRole({ "iam:PermissionsBoundary": other })), other).toBe(false);
    const untagged = {
      action: "iam:CreateRole",
      resource: ownRole,
      context: { "iam:PermissionsBoundary": boundaryArn },
    };
    expect(isAllowed(controller, untagged), "the boundary does not replace the ownership tag").toBe(false);
    // Today's policy, for comparison: the same call without a boundary is allowed there.
    expect(allowedBy(unbounded, createRole({}))).toBe(true);
  });

  it("puts only the boundary on a role, and never removes it", () => {
    const put = (arn: string): Request => ({
      action: "iam:PutRolePermissionsBoundary",
      resource: ownRole,
      context: { "iam:PermissionsBoundary": arn },
    });
    expect(isAllowed(controller, put(boundaryArn)), "control").toBe(true);
    for (const other of otherBoundaries) expect(isAllowed(controller, put(other)), other).toBe(false);
    const remove = { action: "iam:DeleteRolePermissionsBoundary", resource: ownRole };
    expect(isAllowed(controller, remove)).toBe(false);
    expect(isAllowed(controller, { ...remove, context: { "iam:PermissionsBoundary": boundaryArn } })).toBe(
      false,
    );
    for (const statement of bounded.Statement)
      expect(list(statement.Action), statement.Sid).not.toContain("iam:DeleteRolePermissionsBoundary");
  });

  it("cannot create, version, tag or delete the boundary policy itself", () => {
    const writes = [
      "iam:CreatePolicy",
      "iam:CreatePolicyVersion",
      "iam:DeletePolicy",
      "iam:DeletePolicyVersion",
      "iam:SetDefaultPolicyVersion",
      "iam:TagPolicy",
      "iam:UntagPolicy",
    ];
    // The same calls on rolecall's own policies are allowed: the denial is the boundary's path, not the action.
    expect(isAllowed(controller, { action: "iam:CreatePolicyVersion", resource: ownPolicy }), "control").toBe(
      true,
    );
    for (const action of writes)
      expect(isAllowed(controller, { action, resource: boundaryArn, context: ownershipTag }), action).toBe(
        false,
      );
  });

  it("attaches a policy only to roles that carry the boundary", () => {
    const attach = (context: Record<string, string>): Request => ({
      action: "iam:AttachRolePolicy",
      resource: ownRole,
      context: { "iam:PolicyARN": ownPolicy, ...context },
    });
    expect(isAllowed(controller, attach({ "iam:PermissionsBoundary": boundaryArn })), "control").toBe(true);
    expect(isAllowed(controller, attach({})), "a role without a boundary").toBe(false);
    const admin = { "iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess" };
    expect(isAllowed(controller, attach({ "iam:PermissionsBoundary": boundaryArn, ...admin }))).toBe(false);
  });

  it("cannot touch the controller's own role, which lives outside rolecall's path", () => {
    const own = `arn:aws:iam::${account}:role/rolecall-controller/rolecall-RolecallControllerRole-ABC`;
    for (const action of [
      "iam:AttachRolePolicy",
      "iam:PutRolePolicy",
      "iam:UpdateAssumeRolePolicy",
      "iam:DeleteRolePermissionsBoundary",
      "iam:PutRolePermissionsBoundary",
      "iam:TagRole",
      "iam:PassRole",
    ])
      expect(
        isAllowed(controller, {
          action,
          resource: own,
          context: { "iam:PolicyARN": ownPolicy, "iam:PassedToService": "ec2.amazonaws.com" },
        }),
        action,
      ).toBe(false);
  });

  it("hands instances only rolecall's instance profiles", () => {
    const associate = (profile: string) => ({
      action: "ec2:AssociateIamInstanceProfile",
      resource: instance,
      context: { "ec2:NewInstanceProfile": profile },
    });
    expect(isAllowed(controller, associate(ownProfile)), "control").toBe(true);
    expect(isAllowed(controller, associate(`arn:aws:iam::${account}:instance-profile/admin`))).toBe(false);
  });
});

// ---- (b) ----

const boundaryActions = new Set<string>(Object.values(s3Actions).flat());
const objectActions = new Set<string>([
  ...s3Actions.readObjects,
  ...s3Actions.writeObjects,
  ...s3Actions.deleteObjects,
]);
const everything: Policy = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
};
const allButS3: Policy = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", NotAction: "s3:*", Resource: "*" }],
};
const boundedRole = { identity: [everything, allButS3], boundary };

/** What the boundary lets through, written from the access table (README) rather than read from the file. */
function boundaryLetsThrough(request: Request): boolean {
  if (request.action === "s3:ListAllMyBuckets") return true;
  if (!boundaryActions.has(request.action)) return false;
  const match = /^arn:aws:s3:::([^/]*)(\/.*)?$/su.exec(request.resource);
  if (match === null) return false;
  return !objectActions.has(request.action) || match[2] !== undefined;
}

describe("(b) a role carrying the boundary, with Action * attached by hand", () => {
  it("is allowed nothing outside the boundary's S3 actions", () => {
    for (const [action, resource] of [
      ["iam:CreateUser", `arn:aws:iam::${account}:user/intruder`],
      ["ec2:RunInstances", instance],
      ["s3:PutBucketPolicy", "arn:aws:s3:::my-dev-bucket"],
      ["iam:PassRole", ownRole],
      ["iam:PutRolePermissionsBoundary", ownRole],
      ["sts:AssumeRole", `arn:aws:iam::${account}:role/admin`],
      ["s3:DeleteBucket", "arn:aws:s3:::my-dev-bucket"],
      ["s3:PutObjectAcl", "arn:aws:s3:::my-dev-bucket/key"],
      ["kms:Decrypt", `arn:aws:kms:eu-west-1:${account}:key/1234`],
    ] as const)
      expect(decide(boundedRole, { action, resource }), action).toBe("ImplicitDeny");
    // Inside the boundary, Action * does reach S3: the boundary caps, it does not grant.
    expect(
      isAllowed(boundedRole, { action: "s3:GetObject", resource: "arn:aws:s3:::my-dev-bucket/key" }),
    ).toBe(true);
    expect(isAllowed(boundedRole, { action: "s3:ListAllMyBuckets", resource: "*" })).toBe(true);
    expect(
      isAllowed({ identity: [], boundary }, { action: "s3:GetObject", resource: "arn:aws:s3:::b/k" }),
    ).toBe(false);
  });

  it("over random actions and resources, allows exactly what the boundary lets through", () => {
    const actionArb = fc.oneof(
      fc.constantFrom(...boundaryActions, "s3:PutBucketPolicy", "s3:GetObjectAcl", "s3:DeleteObjectVersion"),
      fc
        .tuple(
          fc.constantFrom("iam", "ec2", "s3", "sts", "kms", "lambda"),
          fc.stringMatching(/^[A-Z][a-zA-Z]{1,12}$/),
        )
        .map(([service, name]) => `${service}:${name}`),
    );
    const resourceArb = fc.oneof(
      fc.constant("*"),
      fc.stringMatching(/^[a-z0-9.-]{3,12}$/).map((bucket) => `arn:aws:s3:::${bucket}`),
      fc
        .tuple(fc.stringMatching(/^[a-z0-9.-]{3,12}$/), fc.string({ maxLength: 12 }))
        .map(([bucket, key]) => `arn:aws:s3:::${bucket}/${key}`),
      fc.constantFrom(ownRole, instance, `arn:aws-cn:s3:::bucket/key`, `arn:aws:s3:eu-west-1::bucket`),
    );
    // Both answers occur, so the property is not passing on denials alone.
    const answers = fc.sample(fc.tuple(actionArb, resourceArb), { numRuns: 500, seed: 16 });
    const letThrough = answers.filter(([action, resource]) => boundaryLetsThrough({ action, resource }));
    expect(letThrough.length).toBeGreaterThan(20);
    expect(answers.length - letThrough.length).toBeGreaterThan(20);
    fc.assert(
      fc.property(actionArb, resourceArb, (action, resource) => {
        const request = { action, resource };
        expect(isAllowed(boundedRole, request), `${action} on ${resource}`).toBe(
          boundaryLetsThrough(request),
        );
      }),
      { numRuns: 2000 },
    );
  });

  it("an explicit Deny still wins inside the boundary", () => {
    const deny: Policy = {
      Version: "2012-10-17",
      Statement: [{ Effect: "Deny", Action: "s3:DeleteObject", Resource: "arn:aws:s3:::my-dev-bucket/*" }],
    };
    const request = { action: "s3:DeleteObject", resource: "arn:aws:s3:::my-dev-bucket/key" };
    expect(isAllowed(boundedRole, request), "control").toBe(true);
    expect(decide({ ...boundedRole, identity: [everything, deny] }, request)).toBe("ExplicitDeny");
  });
});
