import type { Ec2Caller } from "../aws/region-router.js";
import type { AwsCaller } from "../aws/aws-caller.js";
import { describeAssociations, describeInstances } from "../aws/ec2-read.js";
import { readPolicy } from "../aws/iam-read.js";
import { iamNameKey } from "../desired/iam-names.js";
import { explainBucket, explainInstance, type ExplainInput } from "../explain/explain-instance.js";
import { profileNamed, roleNamed } from "../observed/snapshot-lookup.js";
import { nameFromArn, type ObservedPolicy, type Snapshot } from "../observed/snapshot.js";
import type { ExplainConfig } from "../config/options.js";
import { renderBucketText, renderInstanceText } from "./explain-text.js";
import { exitCodes } from "./exit-codes.js";
import { manifestsOf, prepareRun } from "./prepare-run.js";

/** `rolecall explain`: one dry pass (the plan says where each instance should go), then the view asked for. */
export async function runExplain(config: ExplainConfig): Promise<void> {
  const { set, engine, cloud } = await prepareRun(config);
  const pass = await engine.run({ manifests: manifestsOf(set), execute: false });
  const manifests = set.manifests.map((manifest) => manifest.desired);
  let snapshot: Snapshot = pass.state.snapshot();
  if (config.instance !== undefined) {
    snapshot = await withInstance(snapshot, cloud.ec2, config.instance);
    snapshot = await withRolePolicies(snapshot, cloud.iam, config.instance);
    const explained = explainInstance({ snapshot, manifests, plan: pass.plan }, config.instance);
    if (explained === undefined) {
      process.stderr.write(`rolecall: error: no instance ${config.instance} in this account and region\n`);
      process.exitCode = exitCodes.failure;
      return;
    }
    process.stdout.write(
      config.output === "json" ? `${JSON.stringify(explained, null, 2)}\n` : renderInstanceText(explained),
    );
  } else if (config.bucket !== undefined) {
    const input: ExplainInput = { snapshot, manifests, plan: pass.plan };
    const explained = explainBucket(input, config.bucket);
    process.stdout.write(
      config.output === "json" ? `${JSON.stringify(explained, null, 2)}\n` : renderBucketText(explained),
    );
  }
  process.exitCode = set.errors.length > 0 ? exitCodes.failure : exitCodes.ok;
}

/** The instance, read by its ID when the pass did not read it (no manifest selects it, no profile of ours). */
async function withInstance(snapshot: Snapshot, ec2: Ec2Caller, instanceId: string): Promise<Snapshot> {
  if (snapshot.instances.has(instanceId)) return snapshot;
  const found = (await describeInstances(ec2, [{ Name: "instance-id", Values: [instanceId] }])).instances;
  const associations = await describeAssociations(ec2, [instanceId]);
  return {
    ...snapshot,
    instances: new Map([...snapshot.instances, ...found.map((instance) => [instance.id, instance] as const)]),
    associations: new Map([
      ...snapshot.associations,
      ...associations.map((association) => [association.instanceId, association] as const),
    ]),
  };
}

/** Documents of the policies on the instance's role that a whole-account read leaves out (AWS-managed ones). */
async function withRolePolicies(snapshot: Snapshot, iam: AwsCaller, instanceId: string): Promise<Snapshot> {
  const association = snapshot.associations.get(instanceId);
  const profile =
    association === undefined ? undefined : profileNamed(snapshot, nameFromArn(association.profileArn));
  const role = profile?.roleNames[0] === undefined ? undefined : roleNamed(snapshot, profile.roleNames[0]);
  const missing = (role?.attachedPolicyArns ?? []).filter(
    (arn) => !snapshot.policies.has(iamNameKey(nameFromArn(arn))),
  );
  if (missing.length === 0) return snapshot;
  const read = (await Promise.all(missing.map((arn) => readPolicy(iam, arn)))).filter(
    (policy): policy is ObservedPolicy => policy !== undefined,
  );
  return {
    ...snapshot,
    policies: new Map([
      ...snapshot.policies,
      ...read.map((policy) => [iamNameKey(policy.name), policy] as const),
    ]),
  };
}
