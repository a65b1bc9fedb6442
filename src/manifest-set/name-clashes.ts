import type { DesiredAccess } from "../desired/desired-access.js";
import { iamNameKey } from "../desired/iam-names.js";
import type { Candidate } from "../manifest/examine-file.js";
import { describeSource, errorAt, iamNamePath } from "./candidate-errors.js";
import type { Rejections } from "./rejections.js";

/** Rejects every manifest whose metadata.name another one uses too: neither can be told to own the resources. */
export function rejectDuplicateNames(candidates: readonly Candidate[], rejections: Rejections): void {
  for (const group of groupBy(candidates, (candidate) => candidate.manifest.metadata.name)) {
    if (group.length < 2) continue;
    for (const candidate of group) {
      const others = group.filter((other) => other !== candidate).map(describeSource);
      rejections.reject(
        candidate,
        errorAt(
          candidate,
          ["metadata", "name"],
          "DuplicateName",
          `metadata.name "${candidate.manifest.metadata.name}" is also used at ${others.join(", ")}; names must be unique across the directory`,
        ),
      );
    }
  }
}

/** IAM names are unique per account whatever their case: two manifests naming one resource would fight over it. */
export function rejectSharedIamNames(
  compiled: ReadonlyMap<Candidate, DesiredAccess>,
  rejections: Rejections,
): void {
  const claims = [...compiled].flatMap(([candidate, desired]) =>
    (
      [
        ["policy", desired.policy.name, "policyName"],
        ["role", desired.role.name, "roleName"],
        ["instance profile", desired.instanceProfile.name, "instanceProfileName"],
      ] as const
    ).map(([kind, name, field]) => ({ candidate, kind, name, field })),
  );
  for (const group of groupBy(claims, (claim) => `${claim.kind}\u0000${iamNameKey(claim.name)}`)) {
    const owners = new Set(group.map((claim) => claim.candidate));
    if (owners.size < 2) continue;
    for (const claim of group) {
      const others = [...owners].filter((owner) => owner !== claim.candidate);
      rejections.reject(
        claim.candidate,
        errorAt(
          claim.candidate,
          iamNamePath(claim.candidate, claim.field),
          "DuplicateIamName",
          `IAM ${claim.kind} name "${claim.name}" is also claimed by ${others.map((other) => `manifest "${other.manifest.metadata.name}" (${describeSource(other)})`).join(", ")}`,
        ),
      );
    }
  }
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group === undefined) groups.set(k, [item]);
    else group.push(item);
  }
  return [...groups.values()];
}
