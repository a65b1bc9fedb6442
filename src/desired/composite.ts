import { createHash } from "node:crypto";
import type { DesiredAccess } from "./desired-access.js";
import { managedByValue, ownershipTagKeys, type Tags } from "./ownership.js";
import { ec2TrustPolicy } from "./policy-document.js";

/**
 * Composite names start with this. A manifest's names cannot: default names are `rolecall-<name>`, and explicit
 * `spec.iam` names with this prefix are refused when manifests are loaded.
 */
export const compositePrefix = "rolecall+";

/** Tag keys of a composite, beside the ownership tags every rolecall resource carries. */
export const compositeTagKeys = {
  /** The composite's key (the hash of its member set). */
  composite: "rolecall.dev/composite",
  /** One tag per member manifest: `rolecall.dev/member/<name>` = that member's deletion policy. */
  memberPrefix: "rolecall.dev/member/",
} as const;

/**
 * The role and instance profile an instance selected by several enforce-mode manifests holds: a rolecall-owned
 * role with each member's own managed policy attached, and nothing else. Grants are never copied: a member's
 * policy is the unit of access, so one new version of it reaches every composite it belongs to.
 */
export interface DesiredComposite {
  /** The role's and the profile's name, which is also the composite's owner name in its ownership tags. */
  readonly name: string;
  /** Sorted member manifest names. */
  readonly members: readonly string[];
  /** The members' policy names, in member order: exactly what the role holds. */
  readonly policyNames: readonly string[];
  readonly tags: Tags;
  /** Shaped as a manifest's own role and profile, so one differ and one set of handlers serve both. */
  readonly role: DesiredAccess["role"];
  readonly instanceProfile: DesiredAccess["instanceProfile"];
}

/**
 * The composite for a set of manifests (two or more, all compiled with the same options): names deterministic
 * from the set and the controller's IAM path, so the same set always gets the same names and two controllers with
 * different paths never share one.
 */
export function compileComposite(members: readonly DesiredAccess[]): DesiredComposite {
  const sorted = [...members].sort((a, b) =>
    a.manifest < b.manifest ? -1 : a.manifest > b.manifest ? 1 : 0,
  );
  const [first] = sorted;
  if (first === undefined || sorted.length < 2) throw new Error("a composite has at least two members");
  const names = sorted.map((member) => member.manifest);
  const path = first.role.path;
  const name = compositeName(names, path);
  return {
    name,
    members: names,
    policyNames: sorted.map((member) => member.policy.name),
    tags: compositeTags(name, sorted),
    role: {
      name,
      path,
      description:
        `EC2 role composing the access of InstanceAccess ${names.join(", ")}, managed by rolecall`.slice(
          0,
          1000,
        ),
      trustPolicy: ec2TrustPolicy(),
      permissionsBoundary: first.role.permissionsBoundary,
    },
    instanceProfile: { name, path },
  };
}

/** `rolecall+` and 16 hex digits of a hash of the path and the members: 25 characters, within IAM's 64. */
export function compositeName(members: readonly string[], iamPath: string): string {
  const digest = createHash("sha256")
    .update([iamPath, ...[...members].sort()].join("\n"))
    .digest("hex");
  return `${compositePrefix}${digest.slice(0, 16)}`;
}

function compositeTags(name: string, members: readonly DesiredAccess[]): Tags {
  const tags: Record<string, string> = {
    [ownershipTagKeys.managedBy]: managedByValue,
    // The composite is its own owner: removal treats an unused one like the resources of a removed manifest.
    [ownershipTagKeys.manifest]: name,
    [ownershipTagKeys.deletionPolicy]: "delete",
    [compositeTagKeys.composite]: name.slice(compositePrefix.length),
  };
  for (const member of members)
    tags[`${compositeTagKeys.memberPrefix}${member.manifest}`] = member.deletionPolicy;
  return tags;
}

export function isCompositeName(name: string): boolean {
  return name.startsWith(compositePrefix);
}

/** A composite's members as its tags record them, with each one's deletion policy; undefined if not a composite. */
export function compositeMembersOf(
  tags: Tags | undefined,
): ReadonlyMap<string, "delete" | "retain"> | undefined {
  if (tags?.[compositeTagKeys.composite] === undefined) return undefined;
  const members = new Map<string, "delete" | "retain">();
  for (const [key, value] of Object.entries(tags))
    if (key.startsWith(compositeTagKeys.memberPrefix))
      members.set(key.slice(compositeTagKeys.memberPrefix.length), value === "delete" ? "delete" : "retain");
  return members;
}
