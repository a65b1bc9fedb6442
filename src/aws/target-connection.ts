import { EC2Client } from "@aws-sdk/client-ec2";
import { IAMClient } from "@aws-sdk/client-iam";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import type { AwsCaller, CallLogger } from "./aws-caller.js";
import { createCaller, partitionOf, sdkClientConfig } from "./aws-clients.js";
import { classifyAwsError } from "./aws-error.js";
import type { AwsSettings } from "./aws-settings.js";
import type { CallObserver } from "./call-observer.js";
import { RegionRouter, type Ec2Caller } from "./region-router.js";

/** What one target of a Targets file needs to reach its account: who it is, where, and how to assume it. */
export interface TargetAccess {
  readonly name: string;
  readonly account: string;
  readonly roleArn?: string;
  readonly externalId?: string;
  readonly regions: readonly string[];
}

/** One target's AWS: IAM once for its account, EC2 across its regions (each region with its own rate limit). */
export interface TargetConnection {
  readonly iam: AwsCaller;
  readonly ec2: Ec2Caller;
  /** The same EC2 callers one region at a time (the launch poller reads each region on its own). */
  readonly ec2ByRegion: ReadonlyMap<string, Ec2Caller>;
  readonly partition: string;
}

/** A target that cannot be reached as declared; `code` is stable (AssumeRoleFailed, AccountMismatch). */
export class TargetUnavailableError extends Error {
  constructor(
    readonly target: string,
    readonly code: "AssumeRoleFailed" | "AccountMismatch",
    detail: string,
  ) {
    super(`target ${target}: ${code}: ${detail}`);
    this.name = "TargetUnavailableError";
  }
}

/**
 * Connects to one target: with a roleArn, through an assumed-role session (RoleSessionName rolecall) that the
 * SDK renews before it expires; then sts:GetCallerIdentity must name the declared account, so a wrong role or a
 * wrong account number never lets one target's manifests act on another account.
 */
export async function connectTarget(
  target: TargetAccess,
  settings: AwsSettings,
  observer: CallObserver,
  logger?: CallLogger,
): Promise<TargetConnection> {
  const [home = "us-east-1"] = target.regions;
  const common = { ...sdkClientConfig(settings), region: home };
  const credentials =
    target.roleArn === undefined
      ? undefined
      : fromTemporaryCredentials({
          params: {
            RoleArn: target.roleArn,
            RoleSessionName: "rolecall",
            ...(target.externalId === undefined ? {} : { ExternalId: target.externalId }),
          },
          clientConfig: common,
        });
  const withCredentials = credentials === undefined ? common : { ...common, credentials };
  await checkAccount(target, new STSClient(withCredentials));
  const ec2ByRegion = new Map(
    target.regions.map((region) => [
      region,
      createCaller("ec2", new EC2Client({ ...withCredentials, region }), settings, observer, logger),
    ]),
  );
  const [only] = ec2ByRegion.values();
  return {
    iam: createCaller("iam", new IAMClient(withCredentials), settings, observer, logger),
    ec2: ec2ByRegion.size === 1 && only !== undefined ? only : new RegionRouter(ec2ByRegion),
    ec2ByRegion,
    partition: partitionOf(home),
  };
}

async function checkAccount(target: TargetAccess, sts: STSClient): Promise<void> {
  let account: string | undefined;
  try {
    account = (await sts.send(new GetCallerIdentityCommand({}))).Account;
  } catch (raw) {
    const error = classifyAwsError(raw, {
      service: "sts",
      operation: "GetCallerIdentity",
      dependsOnNewResource: false,
    });
    const via = target.roleArn === undefined ? "rolecall's own credentials" : `role ${target.roleArn}`;
    throw new TargetUnavailableError(
      target.name,
      "AssumeRoleFailed",
      `cannot act through ${via}: ${error.code}: ${error.detail}`,
    );
  } finally {
    sts.destroy();
  }
  if (account !== target.account)
    throw new TargetUnavailableError(
      target.name,
      "AccountMismatch",
      `the credentials belong to account ${account ?? "(unknown)"}, not the declared ${target.account}`,
    );
}
