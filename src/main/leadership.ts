import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { RunConfig } from "../config/options.js";
import { ElectionLoop } from "../lease/election-loop.js";
import { LeaderElection } from "../lease/leader-election.js";
import { leaseTimingProblem } from "../lease/lease-record.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics.js";
import type { StatusStore } from "../status/status-store.js";
import type { Cloud } from "./connect.js";

/** Leader election as the daemon uses it: the controller asks mayWrite, shutdown calls stop. */
export interface Leadership {
  mayWrite(): boolean;
  /** Tells `listener` of every change between leading and standing by. */
  onChange(listener: (leading: boolean) => void): void;
  start(): void;
  /** Stops competing and releases the lease (call it after the AWS calls in flight have finished). */
  stop(): Promise<void>;
  /** Puts the lease's guard on callers made later (run --targets: a target's, once it is reached). */
  guard(...callers: readonly Pick<Cloud["ec2"], "guardMutations">[]): void;
}

/**
 * With --lease-table: checks the table, then guards every mutating IAM and EC2 call with the lease, and shows the
 * election in /status and rolecall_leader. Without it: undefined, and rolecall_leader is 1 (it runs alone).
 */
export async function setUpLeadership(
  config: RunConfig,
  parts: {
    /** None (run --targets): each target's callers are guarded as they are made (Leadership.guard). */
    readonly cloud?: Pick<Cloud, "iam" | "ec2">;
    readonly metrics: Metrics;
    readonly status: StatusStore;
    readonly logger: Logger;
  },
): Promise<Leadership | undefined> {
  const { cloud, metrics, status, logger } = parts;
  const table = config.leaseTable;
  if (table === undefined) {
    metrics.leader.set(1);
    return undefined;
  }
  if (config.cloud === "sim")
    throw new Error("--lease-table needs DynamoDB: it cannot be used with --cloud sim");
  const timing = { durationMs: config.leaseDuration, renewMs: config.leaseRenew };
  const problem = leaseTimingProblem(timing);
  if (problem !== undefined) throw new Error(problem);
  const log = logger.child({ component: "lease" });
  // Loaded only with --lease-table: the DynamoDB client costs memory that a daemon without a lease never uses.
  const { checkLeaseTable, connectLeaseTable } = await import("../aws/lease-table.js");
  const store = connectLeaseTable(
    { table, leaseName: config.leaseName, renewMs: timing.renewMs, requestTimeoutMs: config.requestTimeout },
    metrics,
    log,
  );
  await checkLeaseTable(store);
  const holderId = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const listeners: ((leading: boolean) => void)[] = [];
  const election = new LeaderElection(store, holderId, timing, performance, undefined, {
    onChange: (leading) => {
      metrics.leader.set(leading ? 1 : 0);
      log.info(
        { holderId, table, lease: config.leaseName },
        leading ? "leading: took the lease" : "standing by",
      );
      for (const listener of listeners) listener(leading);
    },
    onError: (error, during) => {
      log.warn({ err: error, during }, "lease call failed; trying again");
    },
  });
  const refusal = `this process (${holderId}) does not hold lease "${config.leaseName}" in table ${table}`;
  const guard = () => (election.mayWrite() ? undefined : refusal);
  cloud?.iam.guardMutations(guard);
  cloud?.ec2.guardMutations(guard);
  metrics.leader.set(0);
  status.setLeadership(() => {
    const view = election.view();
    return {
      lease: { table, name: config.leaseName },
      holderId,
      leading: view.leading,
      leader: view.leader ?? null,
      since: view.since ?? null,
      expiresAt: view.expiresAt ?? null,
    };
  });
  const loop = new ElectionLoop(election, sleepUnref, performance);
  return {
    mayWrite: () => election.mayWrite(),
    onChange: (listener) => listeners.push(listener),
    start: () => {
      loop.start();
    },
    stop: () => loop.stop(),
    guard: (...callers) => {
      for (const caller of callers) caller.guardMutations(guard);
    },
  };
}

/** A timer that does not keep the process alive on its own (shutdown ends the loop anyway). */
function sleepUnref(milliseconds: number): Promise<void> {
  return new Promise((resolve) => {
    setTimeout(resolve, Math.max(0, milliseconds)).unref();
  });
}
