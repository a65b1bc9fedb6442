import type { Ec2Caller } from "./region-router.js";
import type { Filter } from "@aws-sdk/client-ec2";
import pLimit from "p-limit";
import type { DesiredAccess } from "../desired/desired-access.js";
import { iamNameKey } from "../desired/iam-names.js";
import { manifestFromPolicyDescription, readOwnership } from "../desired/ownership.js";
import {
  nameFromArn,
  selectableInstanceStates,
  type ObservedAssociation,
  type ObservedInstance,
  type ObservedInstanceProfile,
  type ObservedPolicy,
  type ObservedRole,
  type Snapshot,
} from "../observed/snapshot.js";
import type { AwsCaller } from "./aws-caller.js";
import { chunk, describeAssociations, describeInstances, maxFilterValues } from "./ec2-read.js";
import {
  listInstanceProfiles,
  readAuthorizationDetails,
  readInstanceProfile,
  readPolicy,
  readPolicyTags,
  readRole,
} from "./iam-read.js";

export interface AwsReadClients {
  readonly iam: AwsCaller;
  readonly ec2: Ec2Caller;
  /** Parallel reads for the few per-resource follow-ups (tags). */
  readonly concurrency: number;
}

export interface ReadHints {
  readonly iamPath: string;
  readonly partition: string;
  /** Manifests in force: whose instances to read, and whose resources' ownership must be known for sure. */
  readonly inForce: readonly DesiredAccess[];
}

export interface ReadResult {
  readonly snapshot: Snapshot;
  readonly accountId: string | undefined;
}

const stateFilter: Filter = { Name: "instance-state-name", Values: [...selectableInstanceStates] };

/**
 * One snapshot of everything a pass needs, in a handful of paginated calls whatever the number of manifests:
 * GetAccountAuthorizationDetails for roles, their profiles and all policy versions; ListInstanceProfiles for
 * profiles without a role; one DescribeInstances narrowed to the selectors; one DescribeIamInstanceProfile-
 * Associations. Per-resource reads happen only where a listing omits something that decides ownership.
 */
export async function readFullSnapshot(clients: AwsReadClients, hints: ReadHints): Promise<ReadResult> {
  const [iamState, ec2State, associations] = await Promise.all([
    readIam(clients, hints),
    readSelectedInstances(clients.ec2, hints.inForce),
    describeAssociations(clients.ec2),
  ]);
  const instances = new Map(ec2State.instances.map((instance) => [instance.id, instance]));

  // Instances that hold one of rolecall's profiles but match no selector: read them too, to know their state.
  const ours = (association: ObservedAssociation) => {
    const profile = iamState.profiles.get(iamNameKey(nameFromArn(association.profileArn)));
    return profile?.tags !== undefined && readOwnership(profile.tags).managed;
  };
  const unseen = associations.filter(
    (association) => !instances.has(association.instanceId) && ours(association),
  );
  for (const ids of chunk(
    unseen.map((association) => association.instanceId),
    maxFilterValues,
  )) {
    for (const instance of (await describeInstances(clients.ec2, [{ Name: "instance-id", Values: ids }]))
      .instances) {
      instances.set(instance.id, instance);
    }
  }

  const accountId =
    ec2State.accountId ??
    accountFromArn([...iamState.roles.values()][0]?.arn ?? [...iamState.policies.values()][0]?.arn);
  return {
    snapshot: {
      policies: iamState.policies,
      roles: iamState.roles,
      instanceProfiles: iamState.profiles,
      instances,
      associations: new Map(associations.map((association) => [association.instanceId, association])),
    },
    accountId,
  };
}

interface IamState {
  readonly policies: Map<string, ObservedPolicy>;
  readonly roles: Map<string, ObservedRole>;
  readonly profiles: Map<string, ObservedInstanceProfile>;
}

async function readIam(clients: AwsReadClients, hints: ReadHints): Promise<IamState> {
  const [details, listed] = await Promise.all([
    readAuthorizationDetails(clients.iam),
    // Every path, not only rolecall's: GetAccountAuthorizationDetails shows a profile only under its role, so a
    // role-less profile elsewhere (one to adopt, or an adopted one that lost its role) would otherwise look
    // absent, and the pass would plan a CreateInstanceProfile that fails with EntityAlreadyExists.
    listInstanceProfiles(clients.iam, "/"),
  ]);
  const roles = new Map(details.roles.map((role) => [iamNameKey(role.name), role]));
  const profiles = new Map<string, ObservedInstanceProfile>();
  for (const profile of listed) profiles.set(iamNameKey(profile.name), profile);
  // Profiles reported under their roles carry tags; prefer them over the listing's tag-less copies.
  for (const profile of details.profiles) {
    const key = iamNameKey(profile.name);
    const known = profiles.get(key);
    profiles.set(
      key,
      profile.tags === undefined && known?.tags !== undefined ? { ...profile, tags: known.tags } : profile,
    );
  }

  const limit = pLimit(clients.concurrency);
  const wantedProfiles = new Set(hints.inForce.map((desired) => iamNameKey(desired.instanceProfile.name)));
  const profileReads = [...profiles.values()]
    .filter(
      (profile) =>
        profile.tags === undefined &&
        (profile.path.startsWith(hints.iamPath) || wantedProfiles.has(iamNameKey(profile.name))),
    )
    .map((profile) =>
      limit(async () => {
        const read = await readInstanceProfile(clients.iam, profile.name);
        if (read === undefined) profiles.delete(iamNameKey(profile.name));
        else profiles.set(iamNameKey(profile.name), read);
      }),
    );

  const policies = new Map(details.policies.map((policy) => [iamNameKey(policy.name), policy]));
  const wantedPolicy = new Map(
    hints.inForce.map((desired) => [iamNameKey(desired.policy.name), desired.manifest]),
  );
  const attachedToManaged = new Set(
    details.roles
      .filter((role) => readOwnership(role.tags).managed)
      .flatMap((role) => role.attachedPolicyArns),
  );
  const policyReads = details.policies
    .filter((policy) => needsTags(policy, wantedPolicy, hints.iamPath, attachedToManaged))
    .map((policy) =>
      limit(async () => {
        const tags = await readPolicyTags(clients.iam, policy.arn, policy.name);
        policies.set(iamNameKey(policy.name), { ...policy, tags });
      }),
    );
  await Promise.all([...profileReads, ...policyReads]);
  return { policies, roles, profiles };
}

/**
 * Whole-account reads return policy descriptions but no policy tags. A policy's description names the manifest
 * that created it; its tags are read only where that cannot settle ownership: when another manifest wants the
 * name, when no manifest in force wants it any more, or when it has no marker but sits where rolecall's would.
 */
function needsTags(
  policy: ObservedPolicy,
  wantedBy: ReadonlyMap<string, string>,
  iamPath: string,
  attachedToManaged: ReadonlySet<string>,
): boolean {
  const marker = manifestFromPolicyDescription(policy.description);
  const wanter = wantedBy.get(iamNameKey(policy.name));
  if (wanter !== undefined) return marker !== wanter;
  if (marker !== undefined) return true;
  return policy.path.startsWith(iamPath) || attachedToManaged.has(policy.arn);
}

/** Instances the manifests may select: narrowed by tag keys where that helps, plus instances named by ID. */
async function readSelectedInstances(
  ec2: Ec2Caller,
  manifests: readonly DesiredAccess[],
  alsoIds: readonly string[] = [],
): Promise<{ instances: ObservedInstance[]; accountId: string | undefined }> {
  const tagKeys = [
    ...new Set(manifests.flatMap((desired) => Object.keys(desired.selector.matchTags))),
  ].sort();
  const ids = [
    ...new Set([...manifests.flatMap((desired) => desired.selector.instanceIds), ...alsoIds]),
  ].sort();
  const found = new Map<string, ObservedInstance>();
  let accountId: string | undefined;
  if (tagKeys.length > 0) {
    // One manifest (a reconcile between resyncs, or a per-resource read) asks for exactly its tags; several share
    // one call narrowed by tag key, and the diff picks the matches.
    const [only] = manifests;
    const filters: Filter[] =
      manifests.length === 1 && only !== undefined && Object.keys(only.selector.matchTags).length > 0
        ? [
            stateFilter,
            ...Object.entries(only.selector.matchTags).map(([key, value]) => ({
              Name: `tag:${key}`,
              Values: [value],
            })),
          ]
        : tagKeys.length <= maxFilterValues
          ? [stateFilter, { Name: "tag-key", Values: tagKeys }]
          : [stateFilter];
    const page = await describeInstances(ec2, filters);
    accountId = page.accountId;
    for (const instance of page.instances) found.set(instance.id, instance);
  }
  for (const batch of chunk(
    ids.filter((id) => !found.has(id)),
    maxFilterValues,
  )) {
    // No state filter: an instance named by ID that is terminated is worth reporting as such.
    const page = await describeInstances(ec2, [{ Name: "instance-id", Values: batch }]);
    accountId ??= page.accountId;
    for (const instance of page.instances) found.set(instance.id, instance);
  }
  return { instances: [...found.values()], accountId };
}

/**
 * Refreshes, in a cached snapshot, only what one reconcile of a few manifests needs: their instances (those they
 * select and those holding their profiles) and those instances' associations. The daemon uses this between
 * resyncs; IAM state comes from the cache, kept current by the executor's write-through.
 */
export async function refreshInstances(
  ec2: Ec2Caller,
  cached: Snapshot,
  manifests: readonly DesiredAccess[],
  alsoProfiles: readonly string[] = [],
): Promise<Snapshot> {
  const profileNames = new Set([
    ...manifests.map((desired) => iamNameKey(desired.instanceProfile.name)),
    ...alsoProfiles.map(iamNameKey),
  ]);
  const holders = [...cached.associations.values()]
    .filter((association) => profileNames.has(iamNameKey(nameFromArn(association.profileArn))))
    .map((association) => association.instanceId);
  const { instances } = await readSelectedInstances(ec2, manifests, holders);
  const ids = [...new Set([...instances.map((instance) => instance.id), ...holders])];
  const fresh: ObservedAssociation[] = [];
  for (const batch of chunk(ids, maxFilterValues)) fresh.push(...(await describeAssociations(ec2, batch)));

  const nextInstances = new Map(cached.instances);
  for (const id of holders) nextInstances.delete(id);
  for (const instance of instances) nextInstances.set(instance.id, instance);
  const nextAssociations = new Map(cached.associations);
  for (const id of ids) nextAssociations.delete(id);
  for (const association of fresh) nextAssociations.set(association.instanceId, association);
  return { ...cached, instances: nextInstances, associations: nextAssociations };
}

/** DescribeInstances by ID: at most this many per call, so a burst of launches costs one read per hundred. */
export const instancesPerRead = 100;

export interface InstancesRead {
  /** Every ID asked about: those absent from `instances` no longer exist (or never did, in this region). */
  readonly ids: readonly string[];
  readonly instances: readonly ObservedInstance[];
  readonly associations: readonly ObservedAssociation[];
}

/**
 * A few instances by ID, whatever their state, and their associations: two calls per hundred IDs. The filter form
 * is used rather than InstanceIds, which fails the whole call with InvalidInstanceID.NotFound for one unknown ID.
 */
export async function readInstancesById(
  ec2: Ec2Caller,
  instanceIds: readonly string[],
): Promise<InstancesRead> {
  const ids = [...new Set(instanceIds)];
  const instances: ObservedInstance[] = [];
  const associations: ObservedAssociation[] = [];
  for (const batch of chunk(ids, instancesPerRead)) {
    const [page, held] = await Promise.all([
      describeInstances(ec2, [{ Name: "instance-id", Values: batch }]),
      describeAssociations(ec2, batch),
    ]);
    instances.push(...page.instances);
    associations.push(...held);
  }
  return { ids, instances, associations };
}

/**
 * The naive baseline: every resource of every manifest read on its own (GetPolicy, GetPolicyVersion, GetRole,
 * ListAttachedRolePolicies, ListRolePolicies, GetInstanceProfile, DescribeInstances, Describe…Associations).
 * Kept only so that benchmarks measure what the snapshot saves; it cannot see what no manifest names.
 */
export async function readPerResourceSnapshot(
  clients: AwsReadClients,
  hints: ReadHints,
  knownAccountId?: string,
): Promise<ReadResult> {
  const policies = new Map<string, ObservedPolicy>();
  const roles = new Map<string, ObservedRole>();
  const profiles = new Map<string, ObservedInstanceProfile>();
  const instances = new Map<string, ObservedInstance>();
  const associations = new Map<string, ObservedAssociation>();
  let accountId = knownAccountId;
  const limit = pLimit(clients.concurrency);
  await Promise.all(
    hints.inForce.map((desired) =>
      limit(async () => {
        const role = await readRole(clients.iam, desired.role.name);
        if (role !== undefined) roles.set(iamNameKey(role.name), role);
        accountId ??= accountFromArn(role?.arn);
        const profile = await readInstanceProfile(clients.iam, desired.instanceProfile.name);
        if (profile !== undefined) profiles.set(iamNameKey(profile.name), profile);
        const attached = role?.attachedPolicyArns.find(
          (arn) => iamNameKey(nameFromArn(arn)) === iamNameKey(desired.policy.name),
        );
        const arn =
          attached ??
          (accountId === undefined
            ? undefined
            : `arn:${hints.partition}:iam::${accountId}:policy${desired.policy.path}${desired.policy.name}`);
        const policy = arn === undefined ? undefined : await readPolicy(clients.iam, arn);
        if (policy !== undefined) policies.set(iamNameKey(policy.name), policy);
        const selected = await readSelectedInstances(clients.ec2, [desired]);
        accountId ??= selected.accountId;
        for (const instance of selected.instances) instances.set(instance.id, instance);
        const ids = selected.instances.map((instance) => instance.id);
        for (const batch of chunk(ids, maxFilterValues)) {
          for (const association of await describeAssociations(clients.ec2, batch))
            associations.set(association.instanceId, association);
        }
      }),
    ),
  );
  return { snapshot: { policies, roles, instanceProfiles: profiles, instances, associations }, accountId };
}

function accountFromArn(arn: string | undefined): string | undefined {
  return arn?.split(":")[4] || undefined;
}
