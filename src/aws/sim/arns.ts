/** IAM ARNs: arn:PARTITION:iam::ACCOUNT:TYPE{path}{name}. */
export type IamResourceType = "policy" | "role" | "instance-profile";

export function iamArn(
  partition: string,
  accountId: string,
  type: IamResourceType,
  path: string,
  name: string,
): string {
  return `arn:${partition}:iam::${accountId}:${type}${path}${name}`;
}

/** The parts of an IAM ARN of the given type, or undefined if it is not one. */
export function parseIamArn(
  arn: string,
  type: IamResourceType,
): { partition: string; accountId: string; path: string; name: string } | undefined {
  const match = /^arn:([\w-]+):iam::(\w+):([\w-]+)(\/(?:.*\/)?)([^/]+)$/.exec(arn);
  if (match?.[3] !== type) return undefined;
  const [, partition, accountId, , path, name] = match;
  if (partition === undefined || accountId === undefined || path === undefined || name === undefined)
    return undefined;
  return { partition, accountId, path, name };
}
