import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { DescribeIamInstanceProfileAssociationsCommand, type EC2Client } from "@aws-sdk/client-ec2";
import {
  GetInstanceProfileCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
  ListPolicyVersionsCommand,
  ListRolePoliciesCommand,
  NoSuchEntityException,
  type IAMClient,
} from "@aws-sdk/client-iam";
import { stringify } from "yaml";
import { expect } from "vitest";
import type { CallCounter } from "../../src/aws/call-observer.js";
import { decodePolicyDocument } from "../../src/plan/policy-equality.js";
import type { Engine, ManifestResult, PassResult } from "../../src/engine/engine.js";
import type { Grant } from "../../src/manifest/instance-access.js";
import { pass } from "./moto-engine.js";

/** The fields of an InstanceAccess manifest a scenario varies; everything else is the schema's default. */
export interface ManifestSpec {
  readonly name: string;
  readonly instanceIds?: readonly string[];
  readonly matchTags?: Readonly<Record<string, string>>;
  readonly grants?: readonly Grant[];
  readonly listAllBuckets?: boolean;
  readonly iam?: { policyName?: string; roleName?: string; instanceProfileName?: string };
  readonly adopt?: boolean;
  readonly onConflict?: "skip" | "replace";
  readonly deletionPolicy?: "delete" | "retain";
  readonly mode?: "enforce" | "observe";
}

export function manifestYaml(spec: ManifestSpec): string {
  const { name, instanceIds, matchTags, grants, ...rest } = spec;
  return stringify({
    apiVersion: "rolecall.dev/v1alpha1",
    kind: "InstanceAccess",
    metadata: { name },
    spec: {
      instanceSelector: {
        ...(instanceIds === undefined ? {} : { instanceIds }),
        ...(matchTags === undefined ? {} : { matchTags }),
      },
      grants: grants ?? [{ bucket: `${name}-bucket`, access: "read" }],
      ...rest,
    },
  });
}

/** Writes `<name>.yaml` into the directory (replacing it if present). */
export async function writeManifest(directory: string, spec: ManifestSpec): Promise<void> {
  await writeFile(path.join(directory, `${spec.name}.yaml`), manifestYaml(spec));
}

export async function removeManifest(directory: string, name: string): Promise<void> {
  await rm(path.join(directory, `${name}.yaml`));
}

/** An action as plan and apply report it: what is done, to which resource, because of which field. */
export interface Step {
  readonly kind: string;
  readonly resource: string;
  readonly field: string;
}

export function resultFor(result: PassResult, manifest: string): ManifestResult {
  const found = result.results.find((entry) => entry.manifest === manifest);
  if (found === undefined)
    throw new Error(`no result for ${manifest}; got ${result.results.map((entry) => entry.manifest).join()}`);
  return found;
}

/** The planned actions of one manifest (converging ones, then removals), in order. */
export function stepsOf(result: PassResult, manifest: string): Step[] {
  const plan = resultFor(result, manifest).plan;
  return [...plan.actions, ...plan.pruneActions].map((action) => ({
    kind: action.kind,
    resource: action.reason.resource,
    field: action.reason.field,
  }));
}

/** Every manifest (and composite) with something planned, and what. */
export function allSteps(result: PassResult): Record<string, Step[]> {
  const steps: Record<string, Step[]> = {};
  for (const entry of [...result.results, ...result.composites]) {
    const list = [...entry.plan.actions, ...entry.plan.pruneActions].map((action) => ({
      kind: action.kind,
      resource: action.reason.resource,
      field: action.reason.field,
    }));
    if (list.length > 0) steps[entry.manifest] = list;
  }
  return steps;
}

export function issueCodes(result: PassResult, manifest: string): { code: string; resource?: string }[] {
  return resultFor(result, manifest).plan.issues.map((issue) => ({
    code: issue.code,
    ...(issue.resource === undefined ? {} : { resource: issue.resource }),
  }));
}

/**
 * A dry run: asserts that it made no mutating call and that exactly `expected` is planned (for every manifest
 * with something to do); returns the pass for further checks.
 */
export async function expectPlan(
  engine: Engine,
  calls: CallCounter,
  directory: string,
  expected: Record<string, Step[]>,
): Promise<PassResult> {
  calls.reset();
  const planned = await pass(engine, directory, true);
  expect(calls.mutating()).toBe(0);
  expect(allSteps(planned)).toEqual(expected);
  return planned;
}

/** Applies and expects every action to succeed and no manifest to report an error; returns the pass. */
export async function applyAll(engine: Engine, calls: CallCounter, directory: string): Promise<PassResult> {
  calls.reset();
  const applied = await pass(engine, directory, false);
  const units = [...applied.results, ...applied.composites];
  const failed = units.flatMap((entry) =>
    entry.outcomes.filter((outcome) => outcome.status !== "done").map((outcome) => outcome.description),
  );
  expect(failed).toEqual([]);
  expect(units.flatMap((entry) => entry.errors)).toEqual([]);
  return applied;
}

/** Applies again: nothing is planned and not one mutating call is made. */
export async function expectSettled(engine: Engine, calls: CallCounter, directory: string): Promise<void> {
  calls.reset();
  const again = await pass(engine, directory, false);
  expect(allSteps(again)).toEqual({});
  expect(calls.mutating()).toBe(0);
}

// ---- reading AWS back with the SDK ------------------------------------------------------------------------

export function tagMap(
  tags: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined,
): Record<string, string> {
  return Object.fromEntries((tags ?? []).map((tag) => [tag.Key ?? "", tag.Value ?? ""]));
}

export async function attachedPolicyNames(iam: IAMClient, roleName: string): Promise<string[]> {
  const output = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }));
  return (output.AttachedPolicies ?? []).map((policy) => policy.PolicyName ?? "").sort();
}

export async function inlinePolicyNames(iam: IAMClient, roleName: string): Promise<string[]> {
  return (await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }))).PolicyNames ?? [];
}

export async function profileRoleNames(iam: IAMClient, profileName: string): Promise<string[]> {
  const output = await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: profileName }));
  return (output.InstanceProfile?.Roles ?? []).map((role) => role.RoleName ?? "");
}

export async function trustPolicy(iam: IAMClient, roleName: string): Promise<unknown> {
  const output = await iam.send(new GetRoleCommand({ RoleName: roleName }));
  return decodePolicyDocument(output.Role?.AssumeRolePolicyDocument);
}

export async function defaultDocument(iam: IAMClient, policyArn: string): Promise<unknown> {
  const policy = await iam.send(new GetPolicyCommand({ PolicyArn: policyArn }));
  const version = await iam.send(
    new GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: policy.Policy?.DefaultVersionId }),
  );
  return decodePolicyDocument(version.PolicyVersion?.Document);
}

/** Version IDs of a policy, sorted by number, and which one is the default. */
export async function policyVersions(
  iam: IAMClient,
  policyArn: string,
): Promise<{ ids: string[]; defaultId: string | undefined }> {
  const versions = (await iam.send(new ListPolicyVersionsCommand({ PolicyArn: policyArn }))).Versions ?? [];
  const ids = versions
    .map((version) => version.VersionId ?? "")
    .sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
  return { ids, defaultId: versions.find((version) => version.IsDefaultVersion === true)?.VersionId };
}

/** Profile name held by each instance that has one (from the associations, which moto keeps current). */
export async function profilesByInstance(ec2: EC2Client): Promise<Record<string, string>> {
  const held: Record<string, string> = {};
  let token: string | undefined;
  do {
    const page = await ec2.send(
      new DescribeIamInstanceProfileAssociationsCommand(token === undefined ? {} : { NextToken: token }),
    );
    for (const association of page.IamInstanceProfileAssociations ?? []) {
      const arn = association.IamInstanceProfile?.Arn ?? "";
      held[association.InstanceId ?? ""] = arn.slice(arn.lastIndexOf("/") + 1);
    }
    token = page.NextToken;
  } while (token !== undefined && token !== "");
  return held;
}

/** Whether an IAM read finds its entity (false on NoSuchEntity). */
export async function found(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return true;
  } catch (error) {
    if (error instanceof NoSuchEntityException) return false;
    throw error;
  }
}
