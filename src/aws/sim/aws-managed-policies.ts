import { iamArn } from "./arns.js";
import type { MonotonicClock } from "./clock.js";
import type { PolicyRecord } from "./iam-store.js";
import { TagSet } from "./tags.js";

/**
 * A few AWS-managed policies, as every account has them (ARNs in the "aws" account, path "/"), so that attaching
 * one by hand works as on AWS. Their documents are placeholders: rolecall never reads them.
 */
const catalogue: readonly {
  readonly name: string;
  readonly id: string;
  readonly actions: readonly string[];
}[] = [
  { name: "ReadOnlyAccess", id: "ANPAILL3HVNFSB6DCOWYQ", actions: ["s3:Get*", "s3:List*", "ec2:Describe*"] },
  { name: "AmazonS3ReadOnlyAccess", id: "ANPAIZTJ4DXE7G6AGAE6M", actions: ["s3:Get*", "s3:List*"] },
  {
    name: "AmazonSSMManagedInstanceCore",
    id: "ANPAIXSHM2BNB2D3AXXRU",
    actions: ["ssm:UpdateInstanceInformation"],
  },
];

export function awsManagedPolicies(partition: string, clock: MonotonicClock): Map<string, PolicyRecord> {
  const policies = new Map<string, PolicyRecord>();
  for (const entry of catalogue) {
    const created = clock.now();
    const document = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: entry.actions, Resource: "*" }],
    });
    policies.set(entry.name.toLowerCase(), {
      name: entry.name,
      id: entry.id,
      arn: iamArn(partition, "aws", "policy", "/", entry.name),
      path: "/",
      description: `AWS managed policy ${entry.name}`,
      createDate: created,
      updateDate: created,
      versions: [{ id: "v1", document, createDate: created }],
      defaultVersionId: "v1",
      nextVersion: 2,
      tags: new TagSet(undefined),
    });
  }
  return policies;
}
