import type { Ec2Caller } from "../aws/region-router.js";
import type { AwsCaller } from "../aws/aws-caller.js";
import { describeAssociations, describeInstances } from "../aws/ec2-read.js";
import { readPolicy } from "../aws/iam-read.js";
import { iamNameKey } from "../desired/iam-names.js";
import { explainBucket, explainInstance } from "../explain/explain-instance.js";
import { profileNamed, roleNamed } from "../observed/snapshot-lookup.js";
import { nameFromArn, type ObservedPolicy, type Snapshot } from "../observed/snapshot.js";
import type { ExplainConfig } from "../config/options.js";
import { renderBucketText, renderInstanceText } from "./explain-text.js";
import { exitCodes } from "./exit-codes.js";
import { manifestsOf, prepareRun } from "./prepare-run.js";
import { CallCounter } from "../aws/call-observer.js";
import type { Engine } from "../engine/engine.js";
import { prepareTargets } from "../main/connect-targets.js";
import type { ManifestSet } from "../manifest-set/load-manifest-set.js";
import { formatManifestError } from "../manifest/manifest-error.js";
import { createLogger } from "../observability/logger.js";

/** `rolecall explain`: one dry pass (the plan says where each instance should go), then the view asked for. */
export async function runExplain(config: ExplainConfig): Promise<void> {
  if (config.targets !== undefined) return runExplainTargets({ ...config, targets: config.targets });
  const { set, engine, cloud } = await prepareRun(config);
  const found = await explainIn({ set, engine, cloud }, config);
  if (found === undefined) {
    process.stderr.write(
      `rolecall: error: no instance ${config.instance ?? ""} in this account and region\n`,
    );
    process.exitCode = exitCodes.failure;
    return;
  }
  process.stdout.write(config.output === "json" ? `${JSON.stringify(found.json, null, 2)}\n` : found.text);
  process.exitCode = set.errors.length > 0 ? exitCodes.failure : exitCodes.ok;
}

interface ExplainWorld {
  readonly set: ManifestSet;
  readonly engine: Engine;
  readonly cloud: { readonly iam: AwsCaller; readonly ec2: Ec2Caller };
}

/** The view asked for in one account (one target): undefined when the instance is not there. */
async function explainIn(
  world: ExplainWorld,
  config: ExplainConfig,
  target?: string,
): Promise<{ json: object; text: string } | undefined> {
  const { set, engine, cloud } = world;
  const pass = await engine.run({ manifests: manifestsOf(set), execute: false });
  const manifests = set.manifests.map((manifest) => manifest.desired);
  let snapshot: Snapshot = pass.state.snapshot();
  const tagged = <T extends object>(view: T) => (target === undefined ? view : { target, ...view });
  if (config.instance !== undefined) {
    snapshot = await withInstance(snapshot, cloud.ec2, config.instance);
    snapshot = await withRolePolicies(snapshot, cloud.iam, config.instance);
    const explained = explainInstance({ snapshot, manifests, plan: pass.plan }, config.instance);
    if (explained === undefined) return undefined;
    return { json: tagged(explained), text: renderInstanceText(explained) };
  }
  const explained = explainBucket({ snapshot, manifests, plan: pass.plan }, config.bucket ?? "");
  return { json: tagged(explained), text: renderBucketText(explained) };
}

/**
 * explain with --targets: an instance is explained in the target whose regions hold it (its JSON gains `target`);
 * a bucket in every target, one section each (JSON: `{"targets": [...]}`).
 */
async function runExplainTargets(config: ExplainConfig & { readonly targets: string }): Promise<void> {
  const logger = createLogger(config.logLevel, process.stderr);
  const { targets, outside } = await prepareTargets(config, new CallCounter(), logger);
  for (const error of outside) process.stderr.write(`invalid: ${formatManifestError(error)}\n`);
  const views: { name: string; json: object; text: string }[] = [];
  for (const world of targets) {
    if (!world.reach.ok) {
      process.stderr.write(`rolecall: target ${world.spec.name} unavailable: ${world.reach.error.message}\n`);
      continue;
    }
    const found = await explainIn(
      { set: world.set, engine: world.reach.engine, cloud: world.reach.connection },
      config,
      world.spec.name,
    );
    if (found !== undefined) views.push({ name: world.spec.name, ...found });
    if (found !== undefined && config.instance !== undefined) break;
  }
  const failed =
    outside.length > 0 || targets.some((world) => !world.reach.ok || world.set.errors.length > 0);
  if (config.instance !== undefined && views.length === 0) {
    process.stderr.write(`rolecall: error: no instance ${config.instance} in any target's regions\n`);
    process.exitCode = exitCodes.failure;
    return;
  }
  if (config.output === "json") {
    const [only] = views;
    const json =
      config.instance !== undefined && only !== undefined
        ? only.json
        : { targets: views.map((view) => view.json) };
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  } else for (const view of views) process.stdout.write(`target ${view.name}\n${view.text}`);
  process.exitCode = failed ? exitCodes.failure : exitCodes.ok;
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
