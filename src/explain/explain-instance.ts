import { isCompositeName } from "../desired/composite.js";
import { selects, type DesiredAccess } from "../desired/desired-access.js";
import { manifestFromPolicyDescription, readOwnership } from "../desired/ownership.js";
import { policyAt, profileNamed, roleNamed } from "../observed/snapshot-lookup.js";
import { nameFromArn, type Snapshot } from "../observed/snapshot.js";
import type { PassPlan } from "../plan/plan-pass.js";
import { accessOf, type AccessEntry, type SourcePolicy } from "./access-entries.js";

/** Who can reach what through one instance: `rolecall explain --instance` and `/status/instances/:id`. */
export interface InstanceExplanation {
  readonly instance: string;
  readonly state: string;
  readonly manifests: readonly { readonly name: string; readonly mode: string }[];
  readonly profile: {
    readonly held: string | null;
    readonly wanted: string | null;
    /** Whether the held profile is rolecall's. */
    readonly owned: boolean;
    /** The other manifests the wanted profile (a composite) is shared with. */
    readonly composite: { readonly members: readonly string[] } | null;
  };
  /** What the enforce-mode manifests selecting it grant (observe-mode ones are listed but grant nothing). */
  readonly declared: readonly AccessEntry[];
  /** What the policies on the role it holds allow, read from AWS; null when the held profile is not rolecall's. */
  readonly effective: readonly AccessEntry[] | null;
  /** The role's permissions boundary, if it has one. */
  readonly permissionsBoundary: string | null;
  /** What the effective policies grant that access levels cannot say. */
  readonly notes: readonly string[];
}

export interface ExplainInput {
  readonly snapshot: Snapshot;
  /** The manifests in force. */
  readonly manifests: readonly DesiredAccess[];
  /** A plan of the same snapshot (dry run or the daemon's last pass): where each instance should go. */
  readonly plan: PassPlan;
}

/** The explanation of one instance, or undefined if the snapshot does not hold it. */
export function explainInstance(input: ExplainInput, instanceId: string): InstanceExplanation | undefined {
  const { snapshot } = input;
  const instance = snapshot.instances.get(instanceId);
  if (instance === undefined) return undefined;
  const selecting = input.manifests.filter((desired) =>
    selects(desired.selector, instance.id, instance.tags),
  );
  const enforcing = selecting.filter((desired) => desired.mode === "enforce");
  const association = snapshot.associations.get(instance.id);
  const held = association === undefined ? null : nameFromArn(association.profileArn);
  const heldProfile = held === null ? undefined : profileNamed(snapshot, held);
  const owned = heldProfile?.tags !== undefined && readOwnership(heldProfile.tags).managed;
  const wanted = wantedProfile(input.plan, instance.id, enforcing);
  const role =
    heldProfile?.roleNames[0] === undefined ? undefined : roleNamed(snapshot, heldProfile.roleNames[0]);
  const effective =
    held === null
      ? { entries: [], notes: [] }
      : owned
        ? accessOf(rolePolicies(snapshot, role?.attachedPolicyArns ?? []))
        : undefined;
  return {
    instance: instance.id,
    state: instance.state,
    manifests: selecting.map((desired) => ({ name: desired.manifest, mode: desired.mode })),
    profile: {
      held,
      wanted,
      owned,
      composite:
        wanted !== null && isCompositeName(wanted)
          ? { members: enforcing.map((desired) => desired.manifest).sort() }
          : null,
    },
    declared: accessOf(
      enforcing.map((desired) => ({
        name: desired.policy.name,
        document: desired.policy.document,
        manifest: desired.manifest,
      })),
    ).entries,
    effective: effective?.entries ?? null,
    permissionsBoundary: owned ? (role?.permissionsBoundary ?? null) : null,
    notes: effective?.notes ?? [],
  };
}

/** The profile the plan gives the instance (through any manifest's view of it); null when none should hold it. */
function wantedProfile(
  plan: PassPlan,
  instanceId: string,
  enforcing: readonly DesiredAccess[],
): string | null {
  for (const desired of enforcing) {
    const status = plan.manifests
      .get(desired.manifest)
      ?.instances.find((candidate) => candidate.id === instanceId);
    // A conflict over the quota names no profile; a skipped foreign profile still says which one it should be.
    if (status?.profile !== undefined && status.profile !== "") return status.profile;
  }
  return null;
}

/** The managed policies on a role, each with its document and the manifest it belongs to. */
function rolePolicies(snapshot: Snapshot, arns: readonly string[]): SourcePolicy[] {
  return arns.map((arn) => {
    const policy = policyAt(snapshot, arn);
    const ownership = policy?.tags === undefined ? undefined : readOwnership(policy.tags);
    const manifest =
      ownership?.managed === true ? ownership.manifest : manifestFromPolicyDescription(policy?.description);
    return { name: policy?.name ?? nameFromArn(arn), document: policy?.document, manifest };
  });
}

/** Every instance whose declared or effective access reaches a bucket (a wildcard bucket reaches every one). */
export function explainBucket(
  input: ExplainInput,
  bucket: string,
): {
  bucket: string;
  instances: {
    instance: string;
    declared: AccessEntry[];
    effective: AccessEntry[] | null;
    manifests: string[];
  }[];
} {
  const reaches = (entry: AccessEntry) => entry.bucket === bucket || entry.bucket === "*";
  const instances = [...input.snapshot.instances.keys()].sort().flatMap((id) => {
    const explained = explainInstance(input, id);
    if (explained === undefined) return [];
    const declared = explained.declared.filter(reaches);
    const effective = explained.effective?.filter(reaches) ?? null;
    if (declared.length === 0 && (effective === null || effective.length === 0)) return [];
    const manifests = [
      ...new Set([...declared, ...(effective ?? [])].flatMap((entry) => entry.manifests)),
    ].sort();
    return [{ instance: id, declared, effective, manifests }];
  });
  return { bucket, instances };
}
