import { AssociateIamInstanceProfileCommand } from "@aws-sdk/client-ec2";
import {
  AddRoleToInstanceProfileCommand,
  AttachRolePolicyCommand,
  CreateInstanceProfileCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  PutRolePolicyCommand,
  SetDefaultPolicyVersionCommand,
} from "@aws-sdk/client-iam";
import type { AwsCaller } from "../../src/aws/aws-caller.js";
import { createCallers } from "../../src/aws/aws-clients.js";
import { CallCounter } from "../../src/aws/call-observer.js";
import { readInstanceProfile, readPolicyTags } from "../../src/aws/iam-read.js";
import { SimCloud, type SimInstanceSeed } from "../../src/aws/sim/sim-cloud.js";
import { readFullSnapshot } from "../../src/aws/snapshot-reader.js";
import type { DesiredAccess } from "../../src/desired/desired-access.js";
import type { Tags } from "../../src/desired/ownership.js";
import type { ObservedPolicy, Snapshot } from "../../src/observed/snapshot.js";
import { nameFromArn } from "../../src/observed/snapshot.js";
import { simSettings } from "./controller-harness.js";
import { iamPath } from "./desired-fixtures.js";

/** A simulated account and callers over it, as the engine talks to AWS. */
export interface SimAccount {
  readonly sim: SimCloud;
  readonly iam: AwsCaller;
  readonly ec2: AwsCaller;
}

const tagList = (tags: Tags | undefined) =>
  Object.entries(tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
const json = (document: unknown) => JSON.stringify(document);

/** A document for the versions of a policy that are not its default (their content never matters). */
const olderDocument = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "s3:ListAllMyBuckets", Resource: "*" }],
};

/**
 * Builds the account a snapshot describes (the whole truth, every tag known) in a fresh SimCloud, through the SDK
 * calls a person would make: policies with their versions and default, roles with their attachments and inline
 * policies, profiles with their role, instances, and associations.
 */
export async function simAccountOf(truth: Snapshot): Promise<SimAccount> {
  // Launched running, associated, then moved to their state: as instances get into a stopped or shutting-down
  // state holding a profile.
  const instances: SimInstanceSeed[] = [...truth.instances.values()].map((instance) => ({
    id: instance.id,
    tags: { ...instance.tags },
  }));
  const sim = new SimCloud({ instances });
  const { iam, ec2 } = createCallers(sim, simSettings, new CallCounter());
  for (const policy of truth.policies.values()) await createPolicy(iam, policy);
  for (const role of truth.roles.values()) {
    await iam.send(
      new CreateRoleCommand({
        RoleName: role.name,
        Path: role.path,
        AssumeRolePolicyDocument: json(role.trustPolicy),
        Tags: tagList(role.tags),
      }),
    );
    for (const arn of role.attachedPolicyArns)
      await iam.send(new AttachRolePolicyCommand({ RoleName: role.name, PolicyArn: arn }));
    for (const name of role.inlinePolicyNames)
      await iam.send(
        new PutRolePolicyCommand({
          RoleName: role.name,
          PolicyName: name,
          PolicyDocument: json(olderDocument),
        }),
      );
  }
  for (const profile of truth.instanceProfiles.values()) {
    await iam.send(
      new CreateInstanceProfileCommand({
        InstanceProfileName: profile.name,
        Path: profile.path,
        Tags: tagList(profile.tags),
      }),
    );
    for (const role of profile.roleNames)
      await iam.send(
        new AddRoleToInstanceProfileCommand({ InstanceProfileName: profile.name, RoleName: role }),
      );
  }
  for (const association of truth.associations.values()) {
    await ec2.send(
      new AssociateIamInstanceProfileCommand({
        InstanceId: association.instanceId,
        IamInstanceProfile: { Name: nameFromArn(association.profileArn) },
      }),
    );
  }
  for (const instance of truth.instances.values())
    if (instance.state !== "running" && instance.state !== "unknown")
      sim.setInstanceState(instance.id, instance.state);
  return { sim, iam, ec2 };
}

async function createPolicy(iam: AwsCaller, policy: ObservedPolicy): Promise<void> {
  const versions = [...policy.versions].sort((a, b) => a.createdAt - b.createdAt);
  const documentOf = (index: number) =>
    versions[index]?.isDefault === true ? policy.document : olderDocument;
  await iam.send(
    new CreatePolicyCommand({
      PolicyName: policy.name,
      Path: policy.path,
      PolicyDocument: json(documentOf(0)),
      ...(policy.description === undefined ? {} : { Description: policy.description }),
      Tags: tagList(policy.tags),
    }),
  );
  const arn = policy.arn;
  for (let index = 1; index < versions.length; index += 1)
    await iam.send(
      new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: json(documentOf(index)) }),
    );
  const defaultIndex = versions.findIndex((version) => version.isDefault);
  if (defaultIndex > 0)
    await iam.send(new SetDefaultPolicyVersionCommand({ PolicyArn: arn, VersionId: `v${defaultIndex + 1}` }));
}

/** What a pass of the engine sees of the account: the real snapshot reader. */
export async function observeAccount(
  account: SimAccount,
  manifests: readonly DesiredAccess[],
): Promise<Snapshot> {
  const read = await readFullSnapshot(
    { iam: account.iam, ec2: account.ec2, concurrency: 4 },
    { iamPath, partition: "aws", inForce: manifests },
  );
  return read.snapshot;
}

/** The whole truth of the account, every tag read (what a person with read access to everything would see). */
export async function truthOf(account: SimAccount): Promise<Snapshot> {
  const seen = await observeAccount(account, []);
  const policies = new Map(seen.policies);
  for (const [key, policy] of seen.policies)
    policies.set(key, { ...policy, tags: await readPolicyTags(account.iam, policy.arn, policy.name) });
  const instanceProfiles = new Map(seen.instanceProfiles);
  for (const [key, profile] of seen.instanceProfiles) {
    if (profile.tags !== undefined) continue;
    const read = await readInstanceProfile(account.iam, profile.name);
    if (read !== undefined) instanceProfiles.set(key, read);
  }
  return { ...seen, policies, instanceProfiles };
}
