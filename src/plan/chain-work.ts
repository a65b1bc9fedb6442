import type { DesiredComposite } from "../desired/composite.js";
import type { DesiredAccess } from "../desired/desired-access.js";
import { ownershipTagKeys, type Tags } from "../desired/ownership.js";
import type { ObservedInstanceProfile, ObservedPolicy, ObservedRole } from "../observed/snapshot.js";
import type { Action, Reason } from "./action.js";
import type { Claim } from "./claim.js";
import type { TagChanges } from "./tag-changes.js";

/** A role and its instance profile as rolecall wants them: a manifest's own, or a composite. */
export interface RoleChainSpec {
  /** The owner the resources are tagged with: the manifest, or the composite's own name. */
  readonly manifest: string;
  readonly adopt: boolean;
  readonly tags: Tags;
  readonly role: DesiredAccess["role"];
  readonly instanceProfile: DesiredAccess["instanceProfile"];
  /** The managed policies the role holds, and nothing else. */
  readonly policyNames: readonly string[];
}

export function chainSpecOf(desired: DesiredAccess): RoleChainSpec {
  return {
    manifest: desired.manifest,
    adopt: desired.adopt,
    tags: desired.tags,
    role: desired.role,
    instanceProfile: desired.instanceProfile,
    policyNames: [desired.policy.name],
  };
}

export function compositeChainSpec(composite: DesiredComposite): RoleChainSpec {
  return {
    manifest: composite.name,
    adopt: false,
    tags: composite.tags,
    role: composite.role,
    instanceProfile: composite.instanceProfile,
    policyNames: composite.policyNames,
  };
}

/** One chain as the snapshot holds it, and how its claimant stands towards each resource. */
export interface ClaimedChain {
  /** A manifest's own policy (composites have none of their own). */
  readonly policy: ObservedPolicy | undefined;
  readonly role: ObservedRole | undefined;
  readonly profile: ObservedInstanceProfile | undefined;
  /** The observed policies the role must hold, by wanted name (undefined: not there yet). */
  readonly attached: readonly { readonly name: string; readonly policy: ObservedPolicy | undefined }[];
  readonly claims: readonly [Claim | undefined, Claim | undefined, Claim | undefined];
  readonly labels: { readonly policy: string; readonly role: string; readonly instanceProfile: string };
}

/** What the chain diff collects: actions in dependency order, and the drift they repair. */
export class ChainWork {
  readonly actions: Action[] = [];
  readonly drift: Reason[] = [];

  constructor(
    readonly spec: RoleChainSpec,
    readonly chain: ClaimedChain,
    /** The role's tag changes: its tags are always read, and stand witness for the policy's, which reads omit. */
    readonly roleTags: TagChanges | undefined,
  ) {}

  get manifest(): string {
    return this.spec.manifest;
  }

  /** A difference, and the action that repairs it (when one does). */
  want(reason: Reason, ...actions: Action[]): void {
    this.drift.push(reason);
    this.actions.push(...actions);
  }

  /** Whether this pass rewrites the role's ownership tags (the policy is then tagged alongside it). */
  roleRetagged(): boolean {
    const [, roleClaim] = this.chain.claims;
    return (
      roleClaim?.kind === "takeover" ||
      this.roleTags?.set !== undefined ||
      (this.roleTags?.remove.length ?? 0) > 0
    );
  }
}

/** Ownership tags for a resource taken over; one kept outside rolecall's path also records that path. */
export function takeoverTags(spec: RoleChainSpec, path: string): Tags {
  return path.startsWith(spec.role.path)
    ? spec.tags
    : { ...spec.tags, [ownershipTagKeys.iamPath]: spec.role.path };
}
