import { EC2Client } from "./sdk/client-ec2.js";
import { IAMClient } from "./sdk/client-iam.js";
import { GetCallerIdentityCommand, STSClient } from "./sdk/client-sts.js";
import { fromTemporaryCredentials } from "./sdk/credential-providers.js";
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

/**
 * A target that cannot be reached as declared; `code` is stable: AssumeRoleFailed, AccountMismatch, and, once
 * connected, CredentialsRejected (AWS refused the session itself: expired or invalid token).
 */
export class TargetUnavailableError extends Error {
  constructor(
    readonly target: string,
    readonly code: "AssumeRoleFailed" | "AccountMismatch" | "CredentialsRejected",
    detail: string,
  ) {
    super(`target ${target}: ${code}: ${detail}`);
    this.name = "TargetUnavailableError";
  }
}

/** Error codes by which IAM, EC2 and STS refuse the credentials themselves, not what they were asked to do. */
const sessionRefused = new Set([
  "ExpiredToken",
  "ExpiredTokenException",
  "InvalidClientTokenId",
  "UnrecognizedClientException",
  "AuthFailure",
]);

/** Called when a connected target's credentials fail: the daemon marks the target unavailable again. */
export type CredentialsFailed = (error: TargetUnavailableError) => void;

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
  onCredentialsFailed?: CredentialsFailed,
): Promise<TargetConnection> {
  const [home = "us-east-1"] = target.regions;
  const common = { ...sdkClientConfig(settings), region: home };
  // Failures while connecting are the connection's own error; only later ones are reported as a loss.
  let connected = false;
  const reportLoss = (error: TargetUnavailableError) => {
    if (connected) onCredentialsFailed?.(error);
  };
  const credentials =
    target.roleArn === undefined ? undefined : assumedRole(target, target.roleArn, common, reportLoss);
  const withCredentials = credentials === undefined ? common : { ...common, credentials };
  await checkAccount(target, new STSClient(withCredentials));
  connected = true;
  const observed =
    onCredentialsFailed === undefined ? observer : watchSessionRefusals(target, observer, reportLoss);
  const ec2ByRegion = new Map(
    target.regions.map((region) => [
      region,
      createCaller("ec2", new EC2Client({ ...withCredentials, region }), settings, observed, logger),
    ]),
  );
  const [only] = ec2ByRegion.values();
  return {
    iam: createCaller("iam", new IAMClient(withCredentials), settings, observed, logger),
    ec2: ec2ByRegion.size === 1 && only !== undefined ? only : new RegionRouter(ec2ByRegion),
    ec2ByRegion,
    partition: partitionOf(home),
  };
}

/**
 * The target's assumed-role session, renewed by the SDK before it expires; a renewal AWS refuses for good (the
 * role deleted, its trust policy changed: not throttling or a network error, which the calls' retries absorb)
 * is reported, and the call that needed it fails as before.
 */
function assumedRole(
  target: TargetAccess,
  roleArn: string,
  clientConfig: ReturnType<typeof sdkClientConfig> & { readonly region: string },
  reportLoss: CredentialsFailed,
): ReturnType<typeof fromTemporaryCredentials> {
  const provider = fromTemporaryCredentials({
    params: {
      RoleArn: roleArn,
      RoleSessionName: "rolecall",
      ...(target.externalId === undefined ? {} : { ExternalId: target.externalId }),
    },
    clientConfig,
  });
  return async (props) => {
    try {
      return await provider(props);
    } catch (raw) {
      const error = classifyAwsError(raw, {
        service: "sts",
        operation: "AssumeRole",
        dependsOnNewResource: false,
      });
      if (error.kind === "terminal")
        reportLoss(
          new TargetUnavailableError(
            target.name,
            "AssumeRoleFailed",
            `renewing the session of role ${roleArn} failed: ${error.code}: ${error.detail}`,
          ),
        );
      throw raw;
    }
  };
}

/** Passes every observation on, and reports a call refused for its session (expired or invalid token). */
function watchSessionRefusals(
  target: TargetAccess,
  observer: CallObserver,
  reportLoss: CredentialsFailed,
): CallObserver {
  return {
    request: (service, operation) => {
      observer.request(service, operation);
    },
    error: (service, operation, code) => {
      observer.error(service, operation, code);
      if (sessionRefused.has(code))
        reportLoss(
          new TargetUnavailableError(
            target.name,
            "CredentialsRejected",
            `${service}:${operation} refused the target's credentials: ${code}`,
          ),
        );
    },
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
