/** IAM name limits (characters) per resource kind. */
export const iamNameLimits = { policy: 128, role: 64, instanceProfile: 128 } as const;
export type IamResourceKind = keyof typeof iamNameLimits;

export const defaultIamPath = "/rolecall/";
export const defaultNamePrefix = "rolecall-";

export function defaultIamName(manifestName: string): string {
  return `${defaultNamePrefix}${manifestName}`;
}

/** An IAM path: starts and ends with "/", printable ASCII, at most 512 characters (IAM's rules). */
export function checkIamPath(path: string): string | undefined {
  if (path.length > 512) return "an IAM path is at most 512 characters";
  if (!/^\/([\u0021-\u007e]*\/)?$/.test(path))
    return 'an IAM path starts and ends with "/" and uses printable ASCII only';
  return undefined;
}

/** IAM names are unique per account regardless of case; compare them this way. */
export function iamNameKey(name: string): string {
  return name.toLowerCase();
}

/** Whether two IAM names name the same resource. */
export function sameIamName(a: string, b: string): boolean {
  return iamNameKey(a) === iamNameKey(b);
}
