import type { DesiredAccess } from "../desired/desired-access.js";
import { ownershipTagKeys, type Tags } from "../desired/ownership.js";
import type { ObservedInstanceProfile, ObservedPolicy, ObservedRole } from "../observed/snapshot.js";
import type { Action, Reason } from "./action.js";
import type { Claim } from "./claim.js";
import type { TagChanges } from "./tag-changes.js";

/** One manifest's chain as the snapshot holds it, and how the manifest stands towards each resource. */
export interface ClaimedChain {
  readonly policy: ObservedPolicy | undefined;
  readonly role: ObservedRole | undefined;
  readonly profile: ObservedInstanceProfile | undefined;
  readonly claims: readonly [Claim | undefined, Claim | undefined, Claim | undefined];
  readonly labels: { readonly policy: string; readonly role: string; readonly instanceProfile: string };
}

/** What the chain diff collects: actions in dependency order, and the drift they repair. */
export class ChainWork {
  readonly actions: Action[] = [];
  readonly drift: Reason[] = [];

  constructor(
    readonly desired: DesiredAccess,
    readonly chain: ClaimedChain,
    /** The role's tag changes: its tags are always read, and stand witness for the policy's, which reads omit. */
    readonly roleTags: TagChanges | undefined,
  ) {}

  get manifest(): string {
    return this.desired.manifest;
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
export function takeoverTags(desired: DesiredAccess, path: string): Tags {
  return path.startsWith(desired.policy.path)
    ? desired.tags
    : { ...desired.tags, [ownershipTagKeys.iamPath]: desired.policy.path };
}
