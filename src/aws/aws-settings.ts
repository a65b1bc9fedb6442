import { defaultRetryPolicy, type RetryPolicy } from "./aws-caller.js";

export interface RateLimit {
  /** Sustained requests per second. */
  readonly perSecond: number;
  readonly burst: number;
}

export interface AwsSettings {
  /** Per-service client-side rate limits: AWS shares these budgets with every other tool in the account. */
  readonly rateLimits: { readonly iam: RateLimit; readonly ec2: RateLimit };
  readonly requestTimeoutMs: number;
  readonly retry: RetryPolicy;
}

export const defaultAwsSettings: AwsSettings = {
  rateLimits: { iam: { perSecond: 10, burst: 20 }, ec2: { perSecond: 20, burst: 40 } },
  requestTimeoutMs: 30_000,
  retry: defaultRetryPolicy,
};
