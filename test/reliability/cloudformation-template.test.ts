// deploy/aws/rolecall-controller.yaml, read as CloudFormation reads it: its policy documents are the shipped policy
// files (the controller's with the boundary's own ARN), every resource is of a known type, every reference names
// something the template defines, and the outputs rolecall's operators need are there.
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse, type CollectionTag, type ScalarTag } from "yaml";
import { describe, expect, it } from "vitest";
import { policySize } from "../../src/desired/policy-document.js";
import { isAllowed, type Policy } from "../support/iam-evaluator.js";
import { repoRoot } from "../support/cli.js";
import { boundaryArnPattern, boundaryName, boundaryPath, policyPaths, readPolicy } from "./policy-files.js";

// ---- CloudFormation's short-form tags, read into their long forms ----

const scalarTag = (
  tag: string,
  key: string,
  read: (value: string) => unknown = (value) => value,
): ScalarTag => ({
  tag,
  resolve: (value) => ({ [key]: read(value) }),
});
const seqTag = (tag: string, key: string): CollectionTag => ({
  tag,
  collection: "seq",
  resolve: (value) => ({ [key]: value.toJSON() as unknown }),
});
const cloudFormationTags = [
  scalarTag("!Ref", "Ref"),
  scalarTag("!Sub", "Fn::Sub"),
  scalarTag("!Condition", "Condition"),
  // The short form of GetAtt is "Resource.Attribute".
  scalarTag("!GetAtt", "Fn::GetAtt", (value) => {
    const dot = value.indexOf(".");
    return [value.slice(0, dot), value.slice(dot + 1)];
  }),
  seqTag("!If", "Fn::If"),
  seqTag("!Equals", "Fn::Equals"),
  seqTag("!Join", "Fn::Join"),
  seqTag("!Not", "Fn::Not"),
];

interface Template {
  readonly AWSTemplateFormatVersion: string;
  readonly Parameters: Record<string, { Type: string; Description?: string; AllowedValues?: string[] }>;
  readonly Conditions: Record<string, unknown>;
  readonly Resources: Record<
    string,
    { Type: string; Condition?: string; Properties: Record<string, unknown> }
  >;
  readonly Outputs: Record<string, { Value: unknown; Condition?: string; Description?: string }>;
}

const templatePath = "deploy/aws/rolecall-controller.yaml";
const template = parse(readFileSync(path.join(repoRoot, templatePath), "utf8"), {
  customTags: cloudFormationTags,
}) as Template;

/** Every value of a kind of intrinsic anywhere in the template (`Ref`, `Fn::GetAtt`, …). */
function intrinsics(node: unknown, key: string): unknown[] {
  if (Array.isArray(node)) return node.flatMap((item) => intrinsics(item, key));
  if (typeof node !== "object" || node === null) return [];
  return Object.entries(node as Record<string, unknown>).flatMap(([name, value]) => [
    ...(name === key ? [value] : []),
    ...intrinsics(value, key),
  ]);
}

/** The template's document with each `{ Ref: resource }` replaced by what CloudFormation returns for it. */
function substituted(node: unknown, refs: Readonly<Record<string, string>>): unknown {
  if (Array.isArray(node)) return node.map((item) => substituted(item, refs));
  if (typeof node !== "object" || node === null) return node;
  const entries = Object.entries(node);
  const [only] = entries;
  if (entries.length === 1 && only?.[0] === "Ref" && typeof only[1] === "string" && only[1] in refs)
    return refs[only[1]];
  return Object.fromEntries(entries.map(([key, value]) => [key, substituted(value, refs)]));
}

const resource = (name: string) => {
  const found = template.Resources[name];
  expect(found, name).toBeDefined();
  return found!;
};
const controllerRole = () => resource("RolecallControllerRole");
const inlinePolicies = () =>
  controllerRole().Properties.Policies as { PolicyName: string; PolicyDocument: unknown }[];

/** The ARN CloudFormation gives the boundary in account 123456789012 (Ref of a managed policy is its ARN). */
const deployedBoundaryArn = `arn:aws:iam::123456789012:policy${boundaryPath}${boundaryName}`;

describe(templatePath, () => {
  it("creates the boundary from policies/rolecall-boundary-policy.json, outside rolecall's path", () => {
    const boundary = resource("RolecallBoundary");
    expect(boundary.Type).toBe("AWS::IAM::ManagedPolicy");
    expect(boundary.Properties.PolicyDocument).toEqual(readPolicy(policyPaths.boundary));
    expect(boundary.Properties.ManagedPolicyName).toBe(boundaryName);
    expect(boundary.Properties.Path).toBe(boundaryPath);
    // The bounded policy's pattern names this very policy, and only it.
    expect(boundaryArnPattern).toBe(`arn:aws:iam::*:policy${boundaryPath}${boundaryName}`);
    expect(policySize(boundary.Properties.PolicyDocument as never)).toBeLessThanOrEqual(6144);
  });

  it("gives the controller's role the bounded policy, with the boundary's own ARN", () => {
    const role = controllerRole();
    expect(role.Type).toBe("AWS::IAM::Role");
    expect(inlinePolicies()).toHaveLength(1);
    const [inline] = inlinePolicies();
    const bounded = readPolicy(policyPaths.bounded);
    const expected = JSON.parse(
      JSON.stringify(bounded).replaceAll(
        JSON.stringify(boundaryArnPattern),
        JSON.stringify(deployedBoundaryArn),
      ),
    ) as unknown;
    expect(JSON.stringify(bounded)).toContain(boundaryArnPattern);
    expect(substituted(inline?.PolicyDocument, { RolecallBoundary: deployedBoundaryArn })).toEqual(expected);
    // IAM's limit for a role's inline policies together, white space not counted.
    expect(policySize(inline?.PolicyDocument as never)).toBeLessThanOrEqual(10_240);
    // The role and its profile live outside the path the controller may change.
    expect(role.Properties.Path).not.toMatch(/^\/rolecall\//);
    expect(resource("RolecallControllerInstanceProfile").Properties.Path).toBe(role.Properties.Path);
  });

  it("as deployed, lets the controller create roles with that boundary and no other", () => {
    const [inline] = inlinePolicies();
    const deployed = substituted(inline?.PolicyDocument, { RolecallBoundary: deployedBoundaryArn }) as Policy;
    const createRole = (boundary: string) =>
      isAllowed(
        { identity: [deployed] },
        {
          action: "iam:CreateRole",
          resource: "arn:aws:iam::123456789012:role/rolecall/rolecall-m",
          context: {
            "aws:RequestTag/rolecall.dev/managed-by": "rolecall",
            "iam:PermissionsBoundary": boundary,
          },
        },
      );
    expect(createRole(deployedBoundaryArn)).toBe(true);
    expect(createRole(deployedBoundaryArn.replace("123456789012", "210987654321"))).toBe(false);
    expect(createRole("arn:aws:iam::aws:policy/AdministratorAccess")).toBe(false);
  });

  it("trusts EC2 or ECS tasks, as the ControllerTrust parameter says, and makes a profile only for EC2", () => {
    const trust = template.Parameters.ControllerTrust;
    expect(trust?.AllowedValues).toEqual(["ec2", "ecs-tasks"]);
    expect(template.Conditions.TrustsEc2).toEqual({ "Fn::Equals": [{ Ref: "ControllerTrust" }, "ec2"] });
    const document = controllerRole().Properties.AssumeRolePolicyDocument as { "Fn::If": unknown[] };
    const [condition, ec2, ecs] = document["Fn::If"] as [string, Policy, Policy];
    expect(condition).toBe("TrustsEc2");
    const principals = (policy: Policy) => JSON.stringify(policy).match(/[a-z0-9-]+\.amazonaws\.com/g);
    expect(principals(ec2)).toEqual(["ec2.amazonaws.com"]);
    expect(principals(ecs)).toEqual(["ecs-tasks.amazonaws.com"]);
    expect(JSON.stringify(ecs)).toContain("aws:SourceAccount");
    const profile = resource("RolecallControllerInstanceProfile");
    expect(profile.Type).toBe("AWS::IAM::InstanceProfile");
    expect(profile.Condition).toBe("TrustsEc2");
    expect(profile.Properties.Roles).toEqual([{ Ref: "RolecallControllerRole" }]);
  });

  it("has only resources of known types, documented parameters, and references that resolve", () => {
    expect(template.AWSTemplateFormatVersion).toBe("2010-09-09");
    const known = ["AWS::IAM::ManagedPolicy", "AWS::IAM::Role", "AWS::IAM::InstanceProfile"];
    for (const [name, { Type }] of Object.entries(template.Resources)) expect(known, name).toContain(Type);
    for (const [name, parameter] of Object.entries(template.Parameters))
      expect(parameter.Description, name).toMatch(/\w/);
    const pseudo = ["AWS::AccountId", "AWS::Partition", "AWS::Region"];
    const defined = [...Object.keys(template.Parameters), ...Object.keys(template.Resources), ...pseudo];
    for (const ref of intrinsics(template, "Ref")) expect(defined, String(ref)).toContain(ref);
    for (const sub of intrinsics(template, "Fn::Sub"))
      for (const [, name] of String(sub).matchAll(/\$\{([^}]+)\}/g)) expect(defined, name).toContain(name);
    for (const [target] of intrinsics(template, "Fn::GetAtt") as [string, string][])
      expect(Object.keys(template.Resources), target).toContain(target);
    const conditions = Object.keys(template.Conditions);
    for (const owner of [...Object.values(template.Resources), ...Object.values(template.Outputs)])
      if (owner.Condition !== undefined) expect(conditions).toContain(owner.Condition);
    for (const [name] of intrinsics(template, "Fn::If") as [string][]) expect(conditions).toContain(name);
  });

  it("outputs the boundary's ARN (for --permissions-boundary), the role's, and the profile's", () => {
    expect(template.Outputs.PermissionsBoundaryArn?.Value).toEqual({ Ref: "RolecallBoundary" });
    expect(template.Outputs.ControllerRoleArn?.Value).toEqual({
      "Fn::GetAtt": ["RolecallControllerRole", "Arn"],
    });
    expect(template.Outputs.ControllerInstanceProfileArn).toEqual({
      Condition: "TrustsEc2",
      Description: expect.stringMatching(/instance profile/) as unknown,
      Value: { "Fn::GetAtt": ["RolecallControllerInstanceProfile", "Arn"] },
    });
    for (const [name, output] of Object.entries(template.Outputs))
      expect(output.Description, name).toMatch(/\w/);
  });
});
