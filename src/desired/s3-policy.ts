import type { AccessLevel, Grant } from "../manifest/instance-access.js";
import type { PolicyDocument, PolicyStatement } from "./policy-document.js";

/** The exact S3 actions each access level grants; the README documents these lists. */
export const s3Actions = {
  readObjects: ["s3:GetObject", "s3:GetObjectVersion"],
  readBucket: ["s3:ListBucket"],
  locateBucket: ["s3:GetBucketLocation"],
  writeObjects: ["s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:PutObject"],
  writeBucket: ["s3:ListBucketMultipartUploads"],
  deleteObjects: ["s3:DeleteObject"],
  listAllBuckets: ["s3:ListAllMyBuckets"],
} as const;

export const listAllBucketsSid = "AllowUserToSeeBucketListInTheConsole";
/** With listAllBuckets, the console also asks each listed bucket for its region. */
export const locateAllBucketsSid = "LocateEveryBucketForTheConsole";

/** Every key of a bucket, or only keys under some prefixes. */
type KeyScope = "all" | ReadonlySet<string>;

interface BucketScopes {
  read?: KeyScope;
  write?: KeyScope;
  delete?: KeyScope;
}

const grantsRead = (access: AccessLevel) => access === "read" || access === "read-write";
const grantsWrite = (access: AccessLevel) => access === "write" || access === "read-write";
const grantsDelete = (access: AccessLevel) => access === "read-write";

/**
 * Compiles grants into a least-privilege identity policy: each statement names only the declared buckets and
 * prefixes. Grants on the same bucket merge (their union is what was declared); the output is sorted, so the
 * same manifest always yields the same document, byte for byte.
 */
export function compileS3Policy(
  grants: readonly Grant[],
  listAllBuckets: boolean,
  partition: string,
): PolicyDocument {
  const scopes = new Map<string, BucketScopes>();
  for (const grant of grants) {
    const bucket = scopes.get(grant.bucket) ?? {};
    const declared: KeyScope = grant.prefixes === undefined ? "all" : new Set(grant.prefixes);
    if (grantsRead(grant.access)) bucket.read = widen(bucket.read, declared);
    if (grantsWrite(grant.access)) bucket.write = widen(bucket.write, declared);
    if (grantsDelete(grant.access)) bucket.delete = widen(bucket.delete, declared);
    scopes.set(grant.bucket, bucket);
  }
  const buckets = [...scopes.keys()].sort();
  const bucketArn = (bucket: string) => `arn:${partition}:s3:::${bucket}`;
  const objectArns = (bucket: string, scope: KeyScope | undefined): string[] => {
    if (scope === undefined) return [];
    if (scope === "all") return [`${bucketArn(bucket)}/*`];
    return minimalPrefixes(scope).map((prefix) => `${bucketArn(bucket)}/${prefix}*`);
  };
  const objectsFor = (level: keyof BucketScopes) =>
    buckets.flatMap((bucket) => objectArns(bucket, scopes.get(bucket)?.[level]));
  const bucketsWhere = (test: (scopes: BucketScopes) => boolean) =>
    buckets.filter((bucket) => test(scopes.get(bucket) ?? {})).map(bucketArn);

  const statements: PolicyStatement[] = [];
  const allow = (
    sid: string,
    actions: readonly string[],
    resources: string[],
    condition?: PolicyStatement["Condition"],
  ) => {
    if (resources.length === 0) return;
    statements.push({
      Sid: sid,
      Effect: "Allow",
      Action: [...actions],
      Resource: resources,
      ...(condition === undefined ? {} : { Condition: condition }),
    });
  };

  if (listAllBuckets) {
    // s3:ListAllMyBuckets has no resource type in AWS's service authorization reference: "*" is its only valid
    // resource, and IAM policy linters flag it on a bucket ARN. s3:GetBucketLocation acts on buckets, so it keeps
    // the ARN of every bucket (the console locates each one it lists).
    allow(listAllBucketsSid, s3Actions.listAllBuckets, ["*"]);
    allow(locateAllBucketsSid, s3Actions.locateBucket, [`arn:${partition}:s3:::*`]);
  }
  allow("ReadObjects", s3Actions.readObjects, objectsFor("read"));
  allow("WriteObjects", s3Actions.writeObjects, objectsFor("write"));
  allow("DeleteObjects", s3Actions.deleteObjects, objectsFor("delete"));
  allow(
    "ListBuckets",
    s3Actions.readBucket,
    bucketsWhere((scope) => scope.read === "all"),
  );
  let prefixed = 0;
  for (const bucket of buckets) {
    const read = scopes.get(bucket)?.read;
    if (read === undefined || read === "all") continue;
    prefixed += 1;
    const patterns = minimalPrefixes(read).flatMap((prefix) => [prefix, `${prefix}*`]);
    allow(`ListBucketUnderPrefixes${prefixed}`, s3Actions.readBucket, [bucketArn(bucket)], {
      StringLike: { "s3:prefix": patterns },
    });
  }
  allow(
    "LocateBuckets",
    s3Actions.locateBucket,
    bucketsWhere((scope) => scope.read !== undefined),
  );
  allow(
    "ListMultipartUploads",
    s3Actions.writeBucket,
    bucketsWhere((scope) => scope.write !== undefined),
  );
  return { Version: "2012-10-17", Statement: statements };
}

function widen(current: KeyScope | undefined, added: KeyScope): KeyScope {
  if (current === "all" || added === "all") return "all";
  return new Set([...(current ?? []), ...added]);
}

/** Sorted prefixes without those another prefix already covers ("a/b/" is inside "a/"). */
function minimalPrefixes(prefixes: ReadonlySet<string>): string[] {
  const sorted = [...prefixes].sort();
  return sorted.filter((prefix) => !sorted.some((other) => other !== prefix && prefix.startsWith(other)));
}
