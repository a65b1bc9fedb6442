import type { DesiredAccess } from "../desired/desired-access.js";

/** `arn:PARTITION:s3:::BUCKET` or `…:::BUCKET/KEYS`: the bucket is what comes before the first slash. */
const s3Resource = /^arn:[^:]+:s3:::([^/*]+)(?:\/|$)/;

/**
 * The buckets a manifest grants access to, read from its compiled policy (every grant names its bucket in a
 * resource); `listAllBuckets` adds `*` resources, which name none. For /status, whose page filters by bucket.
 */
export function grantedBuckets(desired: DesiredAccess): string[] {
  const buckets = new Set<string>();
  for (const statement of desired.policy.document.Statement)
    for (const resource of statement.Resource ?? []) {
      const bucket = s3Resource.exec(resource)?.[1];
      if (bucket !== undefined) buckets.add(bucket);
    }
  return [...buckets].sort();
}
