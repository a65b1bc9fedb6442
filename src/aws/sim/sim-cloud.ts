import { awsManagedPolicies } from "./aws-managed-policies.js";
import { MonotonicClock } from "./clock.js";
import { ec2Handlers } from "./ec2-service.js";
import { Ec2Store, type SimInstanceSeed } from "./ec2-store.js";
import { iamHandlers } from "./iam-service.js";
import { IamStore } from "./iam-store.js";
import { IdFactory } from "./ids.js";
import { simClient, type SimClient } from "./sim-client.js";

export { demoInstances } from "./demo-instances.js";
export type { SimInstanceSeed, SimInstanceState } from "./ec2-store.js";

export interface SimOptions {
  /** Default "123456789012". */
  accountId?: string;
  /** Default "us-east-1". */
  region?: string;
  /** Default "aws". */
  partition?: string;
  /** Added to every call through setTimeout; default 0. */
  latencyMs?: number;
  instances?: SimInstanceSeed[];
}

/**
 * An in-process AWS account for `rolecall run --cloud sim` and fast engine tests: IAM (managed policies, roles,
 * instance profiles) and EC2 (instances, profile associations) in memory, answering real SDK v3 command objects
 * through `iam.send` and `ec2.send` with SDK-shaped outputs and errors. Deterministic: the same calls produce
 * the same IDs. It is no substitute for the moto end-to-end tests.
 */
export class SimCloud {
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
  readonly iam: SimClient;
  readonly ec2: SimClient;
  /** Every call received, in order: "iam:CreateRole", "ec2:DescribeInstances" … */
  readonly calls: string[] = [];
  private readonly ec2Store: Ec2Store;

  constructor(options: SimOptions = {}) {
    this.accountId = options.accountId ?? "123456789012";
    this.region = options.region ?? "us-east-1";
    this.partition = options.partition ?? "aws";
    const latencyMs = options.latencyMs ?? 0;
    if (!/^\d{12}$/.test(this.accountId))
      throw new Error(`invalid account ID "${this.accountId}": expected 12 digits`);
    if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new Error(`invalid latencyMs ${latencyMs}`);
    const ids = new IdFactory();
    const clock = new MonotonicClock();
    const iamStore = new IamStore(
      this.partition,
      this.accountId,
      ids,
      clock,
      awsManagedPolicies(this.partition, clock),
    );
    this.ec2Store = new Ec2Store(this.accountId, ids, clock);
    let requests = 0;
    const requestId = () => {
      requests += 1;
      return `00000000-0000-4000-8000-${requests.toString(16).padStart(12, "0")}`;
    };
    this.iam = simClient({
      service: "iam",
      handlers: iamHandlers(iamStore),
      calls: this.calls,
      latencyMs,
      requestId,
    });
    this.ec2 = simClient({
      service: "ec2",
      handlers: ec2Handlers(this.ec2Store, iamStore),
      calls: this.calls,
      latencyMs,
      requestId,
    });
    for (const seed of options.instances ?? []) this.launchInstance(seed);
  }

  /** Launches an instance ("running" unless the seed says otherwise) and returns its ID. */
  launchInstance(seed: SimInstanceSeed = {}): string {
    return this.ec2Store.launch(seed);
  }

  /** Changes an instance's state; terminating it removes its profile association, and it stays terminated. */
  setInstanceState(id: string, state: SimInstanceSeed["state"]): void {
    if (state === undefined) throw new Error("setInstanceState needs a state");
    this.ec2Store.setState(id, state);
  }

  /** Replaces all of an instance's tags. */
  setInstanceTags(id: string, tags: Record<string, string>): void {
    this.ec2Store.setTags(id, tags);
  }
}
