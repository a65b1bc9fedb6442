import { iamNameKey } from "../desired/iam-names.js";
import { manifestFromPolicyDescription, readOwnership, type Tags } from "../desired/ownership.js";
import type { DiffContext, Issue } from "./manifest-plan.js";

/** How a manifest stands towards an existing IAM resource bearing a name it wants. */
export type Claim =
  | { readonly kind: "owned"; readonly confirmed: boolean }
  /** Not (or no longer) held by a manifest in force: this manifest takes it over and retags it. */
  | { readonly kind: "takeover"; readonly why: "adopt" | "handoff" }
  | { readonly kind: "blocked"; readonly issue: Issue };

export interface ClaimedResource {
  readonly kind: "policy" | "role" | "instanceProfile";
  readonly name: string;
  readonly label: string;
  readonly tags: Tags | undefined;
  /** Managed policies only: the description marker, used when tags were not read. */
  readonly description?: string | undefined;
}

/** Who claims a resource: a manifest, or a composite (its own owner, never adopting). */
export interface Claimant {
  readonly manifest: string;
  readonly adopt: boolean;
}

export function claim(resource: ClaimedResource, desired: Claimant, context: DiffContext): Claim {
  let owner: string | undefined;
  let managed: boolean;
  let confirmed = true;
  if (resource.tags !== undefined) {
    const ownership = readOwnership(resource.tags);
    managed = ownership.managed;
    owner = ownership.manifest;
  } else {
    owner = manifestFromPolicyDescription(resource.description);
    if (owner === undefined) {
      return {
        kind: "blocked",
        issue: {
          code: "OwnershipUnknown",
          severity: "error",
          message: `${resource.label} exists but its tags could not be read, so rolecall cannot tell who owns it`,
          resource: resource.label,
        },
      };
    }
    managed = true;
    confirmed = false;
  }
  if (managed && owner === desired.manifest) return { kind: "owned", confirmed };
  if (managed && owner !== undefined) {
    if (context.protectedNames.has(owner)) {
      return {
        kind: "blocked",
        issue: {
          code: "OwnedByInvalidManifest",
          severity: "error",
          message: `${resource.label} belongs to manifest "${owner}", whose file is invalid; fix that file first`,
          resource: resource.label,
        },
      };
    }
    const holder = context.desired.get(owner);
    if (holder !== undefined && iamNameKey(holder[resource.kind].name) === iamNameKey(resource.name)) {
      return {
        kind: "blocked",
        issue: {
          code: "OwnedByOtherManifest",
          severity: "error",
          message: `${resource.label} belongs to manifest "${owner}", which still wants it`,
          resource: resource.label,
        },
      };
    }
    // Held by a removed manifest, or left behind by one that renamed it: it stays within rolecall.
    return { kind: "takeover", why: "handoff" };
  }
  if (desired.adopt) return { kind: "takeover", why: "adopt" };
  return {
    kind: "blocked",
    issue: {
      code: "NotOwned",
      severity: "error",
      message: `${resource.label} exists and is not managed by rolecall (no rolecall.dev/managed-by tag); set spec.adopt: true to take it over`,
      resource: resource.label,
    },
  };
}
