import { compileDesired, type CompileOptions, type DesiredAccess } from "../../src/desired/desired-access.js";
import type { InstanceAccess } from "../../src/manifest/instance-access.js";

export const iamPath = "/rolecall/";
export const accountId = "123456789012";

/** A compiled manifest: grants read on one bucket, selects by tag unless told otherwise. */
export function desiredFor(
  name: string,
  spec: Partial<InstanceAccess["spec"]> = {},
  options: Partial<CompileOptions> = {},
): DesiredAccess {
  return compileDesired(
    {
      apiVersion: "rolecall.dev/v1alpha1",
      kind: "InstanceAccess",
      metadata: { name },
      spec: {
        instanceSelector: { matchTags: { app: name } },
        grants: [{ bucket: `${name}-bucket`, access: "read" }],
        ...spec,
      },
    },
    { iamPath, partition: "aws", defaultMode: "enforce", ...options },
  );
}

export const policyArn = (name: string, path = iamPath) => `arn:aws:iam::${accountId}:policy${path}${name}`;
export const roleArn = (name: string, path = iamPath) => `arn:aws:iam::${accountId}:role${path}${name}`;
export const profileArn = (name: string, path = iamPath) =>
  `arn:aws:iam::${accountId}:instance-profile${path}${name}`;
