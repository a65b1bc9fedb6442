/** One target of a Targets file: an account, its regions, the manifests sub-directory that applies to it. */
export interface TargetSpec {
  readonly name: string;
  /** Relative to --manifests, normalized: no "./", no trailing "/" ("" is the whole directory). */
  readonly manifests: string;
  /** Undefined only for the implicit target: whatever account the credentials belong to. */
  readonly account: string | undefined;
  readonly roleArn?: string;
  readonly externalId?: string;
  /** Undefined only for the implicit target: the SDK's region. */
  readonly regions: readonly string[] | undefined;
}

/** Without --targets: the caller's account, the SDK's region, the whole directory (rolecall as it always was). */
export const implicitTarget: TargetSpec = {
  name: "default",
  manifests: "",
  account: undefined,
  regions: undefined,
};
