/* Generated from schemas/instance-access.schema.json by `npm run gen:types`. Do not edit by hand. */

export type BucketName = string;

/**
 * Grants the EC2 instances it selects access to S3 buckets through an IAM instance profile that rolecall creates and keeps in sync.
 */
export interface InstanceAccess {
  /**
   * Version of the InstanceAccess API.
   */
  apiVersion: "rolecall.dev/v1alpha1";
  /**
   * Always InstanceAccess.
   */
  kind: "InstanceAccess";
  metadata: Metadata;
  spec: Spec;
}
export interface Metadata {
  /**
   * Name of this manifest; unique across the manifests directory. Default IAM names derive from it (rolecall-<name>).
   */
  name: string;
  /**
   * Free-form labels, as in Kubernetes.
   */
  labels?: {
    [k: string]: string | undefined;
  };
}
export interface Spec {
  instanceSelector: InstanceSelector;
  /**
   * The buckets the selected instances may use, and how.
   *
   * @minItems 1
   * @maxItems 100
   */
  grants: Grant[];
  /**
   * Also allow s3:ListAllMyBuckets and s3:GetBucketLocation on every bucket, so consoles and `aws s3 ls` can list bucket names.
   */
  listAllBuckets?: boolean;
  iam?: IamNames;
  /**
   * Take over an existing IAM resource with the desired name that rolecall does not own.
   */
  adopt?: boolean;
  /**
   * What to do with a selected instance that already holds an instance profile rolecall does not own.
   */
  onConflict?: "skip" | "replace";
  /**
   * What happens in AWS when this manifest is removed: delete the resources, or keep them (tagged as orphaned).
   */
  deletionPolicy?: "delete" | "retain";
  /**
   * enforce converges AWS to this manifest; observe only reports drift. Defaults to the daemon's --mode.
   */
  mode?: "enforce" | "observe";
}
/**
 * Which instances get access: those listed by ID, and those carrying every tag in matchTags.
 */
export interface InstanceSelector {
  /**
   * @minItems 1
   * @maxItems 1000
   */
  instanceIds?: string[];
  /**
   * Every key must be present on the instance with exactly this value.
   */
  matchTags?: {
    [k: string]: string | undefined;
  };
}
export interface Grant {
  /**
   * An S3 general purpose bucket name.
   */
  bucket: BucketName;
  /**
   * read: get and list objects; write: put objects; read-write: both, plus delete.
   */
  access: "read" | "write" | "read-write";
  /**
   * Limit access to object keys under these prefixes (for example reports/). Without it the whole bucket is granted.
   *
   * @minItems 1
   * @maxItems 50
   */
  prefixes?: string[];
}
/**
 * Explicit AWS names; each defaults to rolecall-<metadata.name>.
 */
export interface IamNames {
  policyName?: string;
  roleName?: string;
  instanceProfileName?: string;
}
