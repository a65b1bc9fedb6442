import { compileDesired, type CompileOptions, type DesiredAccess } from "../desired/desired-access.js";
import { compositePrefix, isCompositeName } from "../desired/composite.js";
import { iamNameLimits } from "../desired/iam-names.js";
import { managedPolicyMaxCharacters, policySize } from "../desired/policy-document.js";
import type { Candidate } from "../manifest/examine-file.js";
import type { ManifestError } from "../manifest/manifest-error.js";
import { errorAt, iamNamePath } from "./candidate-errors.js";
import type { Rejections } from "./rejections.js";

/** Compiles each candidate, rejecting those whose compiled policy or IAM names IAM would refuse. */
export function compileCandidates(
  candidates: readonly Candidate[],
  options: CompileOptions,
  rejections: Rejections,
): Map<Candidate, DesiredAccess> {
  const compiled = new Map<Candidate, DesiredAccess>();
  for (const candidate of candidates) {
    const desired = compileDesired(candidate.manifest, options);
    const problem = checkCompiled(candidate, desired);
    if (problem === undefined) compiled.set(candidate, desired);
    else rejections.reject(candidate, problem);
  }
  return compiled;
}

function checkCompiled(candidate: Candidate, desired: DesiredAccess): ManifestError | undefined {
  const size = policySize(desired.policy.document);
  if (size > managedPolicyMaxCharacters) {
    return errorAt(
      candidate,
      ["spec", "grants"],
      "PolicyTooLarge",
      `the compiled policy has ${size} characters; IAM allows ${managedPolicyMaxCharacters} (white space not counted). Split the grants over several manifests or use fewer prefixes`,
    );
  }
  const names = [
    ["policyName", desired.policy.name, iamNameLimits.policy],
    ["roleName", desired.role.name, iamNameLimits.role],
    ["instanceProfileName", desired.instanceProfile.name, iamNameLimits.instanceProfile],
  ] as const;
  for (const [field, name, limit] of names) {
    if (isCompositeName(name)) {
      return errorAt(
        candidate,
        iamNamePath(candidate, field),
        "ReservedName",
        `IAM ${field} "${name}" starts with "${compositePrefix}", which rolecall keeps for the composite roles and profiles of instances selected by several manifests`,
      );
    }
    if (name.length > limit) {
      return errorAt(
        candidate,
        iamNamePath(candidate, field),
        "NameTooLong",
        `IAM ${field} "${name}" is ${name.length} characters; IAM allows ${limit}`,
      );
    }
  }
  return undefined;
}
