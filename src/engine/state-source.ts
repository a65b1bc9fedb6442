import type { Ec2Caller } from "../aws/region-router.js";
import type { AwsCaller } from "../aws/aws-caller.js";
import {
  readFullSnapshot,
  readPerResourceSnapshot,
  refreshInstances,
  type ReadHints,
} from "../aws/snapshot-reader.js";
import { compositeMembersOf } from "../desired/composite.js";
import type { DesiredAccess } from "../desired/desired-access.js";
import { SnapshotWriter } from "./snapshot-writer.js";

/** The state a pass plans from and writes through. */
export interface LiveState {
  readonly state: SnapshotWriter;
  readonly accountId: string | undefined;
  /** False when the read cannot see what no manifest names (orphans): such a pass must never remove anything. */
  readonly complete: boolean;
}

/** Where a pass's snapshot comes from: a full read, or the daemon's cache (refreshed for what is in focus). */
export interface StateSource {
  read(inForce: readonly DesiredAccess[], focus: ReadonlySet<string> | undefined): Promise<LiveState>;
}

export interface ReadClients {
  readonly iam: AwsCaller;
  readonly ec2: Ec2Caller;
  readonly concurrency: number;
}

export type ReadStrategy = "snapshot" | "per-resource";

/**
 * A fresh read of the account: "snapshot" (a few paginated reads whatever the number of manifests) or
 * "per-resource" (the naive baseline, for benchmarks; it cannot see orphans).
 */
export function freshRead(
  clients: ReadClients,
  hints: Omit<ReadHints, "inForce">,
  strategy: ReadStrategy = "snapshot",
): StateSource {
  return {
    async read(inForce) {
      const read = strategy === "per-resource" ? readPerResourceSnapshot : readFullSnapshot;
      const { snapshot, accountId } = await read(clients, { ...hints, inForce });
      return { state: new SnapshotWriter(snapshot), accountId, complete: strategy === "snapshot" };
    },
  };
}

/** The daemon's cache as it is (kept current by write-through since the last full read). */
export function cached(cache: SnapshotWriter): StateSource {
  return {
    read: () => Promise.resolve({ state: cache, accountId: undefined, complete: true }),
  };
}

/** The composite profiles (as the cache knows them) some of these manifests are members of. */
function compositesOf(cache: SnapshotWriter, manifests: readonly DesiredAccess[]): string[] {
  const names = new Set(manifests.map((desired) => desired.manifest));
  return [...cache.view().instanceProfiles.values()]
    .filter((profile) =>
      [...(compositeMembersOf(profile.tags)?.keys() ?? [])].some((member) => names.has(member)),
    )
    .map((profile) => profile.name);
}

/**
 * The daemon's cache with the EC2 state of the manifests in focus read afresh (their instances, and the instances
 * holding their profiles): between resyncs, IAM comes from the cache and only EC2 changes behind rolecall's back
 * often enough to be worth a read.
 */
export function cachedWithFreshInstances(cache: SnapshotWriter, ec2: Ec2Caller): StateSource {
  return {
    async read(inForce, focus) {
      const focused = inForce.filter((desired) => focus === undefined || focus.has(desired.manifest));
      if (focused.length > 0)
        cache.takeEc2State(await refreshInstances(ec2, cache.view(), focused, compositesOf(cache, focused)));
      return { state: cache, accountId: undefined, complete: true };
    },
  };
}
