import type { EC2Client } from "@aws-sdk/client-ec2";
import type { IAMClient } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { StatusDocument } from "../../src/status/status-store.js";
import { startDaemon, waitFor, type Daemon } from "../support/daemon.js";
import { writeManifest } from "../support/drift-kit.js";
import {
  faultKinds,
  seedFromEnv,
  startFaultProxy,
  type FaultProxy,
  type InjectedFault,
} from "../support/fault-proxy.js";
import { motoClients, startMoto, type Moto } from "../support/moto.js";
import { runCliOnMoto, type CliRun } from "../support/moto-engine.js";
import { tempDirs } from "../support/temp-dir.js";
import {
  convergenceProblems,
  makeFleet,
  parseApplyJson,
  readMotoState,
  resourceName,
  type FleetManifest,
} from "./moto-state.js";

/**
 * rolecall through a proxy that faults 20% of AWS requests (throttling, 500, 503, dropped connections, answers
 * that never come), before or after moto applied them. It must still converge 20 manifests × 3 instances, with
 * nothing duplicated, nothing untagged, and nothing left for a fault-free apply to do. moto is always checked
 * directly, never through the proxy. Replay a failure with FAULT_SEED=<the seed in the failure message>.
 */

const faultRate = 0.2;
const manifests = 20;
const perManifest = 3;
/** The client gives up after 2 s; a delay fault holds the answer longer than that. */
const requestTimeout = "2s";
const delayMs = 8000;
/** apply retries transient failures itself (3 passes); a run that still fails must converge on a rerun. */
const maxApplyRuns = 3;
const fastLimits = ["--iam-rate", "500", "--ec2-rate", "500"];

let moto: Moto;
let proxy: FaultProxy;
let iam: IAMClient;
let ec2: EC2Client;
const dirs = tempDirs("faults");
const figures: string[] = [];

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy({ target: moto.endpoint, seed: 0, delayMs });
  ({ iam, ec2 } = motoClients(moto));
});

afterAll(async () => {
  await proxy.close();
  await moto.stop();
  await dirs.cleanup();
  // The measured figures, for the record (vitest prints them with the file's output).
  console.log(`fault-injection figures:\n  ${figures.join("\n  ")}`);
});

/** Every kind and both phases were injected, and the client abandoned every delayed answer itself. */
function expectFaultMix(proxyUnderTest: FaultProxy, context: string): void {
  const counts = proxyUnderTest.countsByKind();
  const faults = proxyUnderTest.faults();
  for (const kind of faultKinds) expect(counts[kind], `${kind} faults; ${context}`).toBeGreaterThan(0);
  const phases = proxyUnderTest.countsByPhase();
  expect(phases.before, context).toBeGreaterThan(0);
  expect(phases.after, context).toBeGreaterThan(0);
  // Throttling is refused before anything is applied, on AWS as here.
  expect(
    faults.filter((fault) => fault.kind === "throttle" && fault.phase === "after"),
    context,
  ).toEqual([]);
  // A request timeout that never fires would make each delay a stall of delayMs, and this would fail.
  expect(proxyUnderTest.delays().outwaitedByProxy, `delays the client did not give up on; ${context}`).toBe(
    0,
  );
  expect(proxyUnderTest.delays().abandonedByClient).toBe(counts.delay);
}

function describeFaults(faults: readonly InjectedFault[]): string {
  const mutating = faults.filter((fault) =>
    /^(Create|Delete|Attach|Add|Associate|Remove|Disassociate|Replace|Tag|Untag|Update|Detach)/.test(
      fault.action,
    ),
  );
  return `${faults.length} faults (${mutating.length} on mutating calls, ${mutating.filter((fault) => fault.phase === "after").length} of them after moto applied the call)`;
}

describe("converging 20 manifests × 3 instances with 20% of AWS requests faulted", () => {
  let directory: string;
  let fleet: FleetManifest[];

  beforeEach(async () => {
    await moto.reset();
    proxy.setRate(0);
    proxy.resetCounters();
    directory = await dirs.make();
    fleet = await makeFleet(ec2, directory, { count: manifests, perManifest });
  });

  /** Runs apply through the proxy until it exits 0 or maxApplyRuns runs have failed; returns every run. */
  async function applyUntilConverged(label: string): Promise<CliRun[]> {
    const runs: CliRun[] = [];
    const started = performance.now();
    for (let run = 1; run <= maxApplyRuns; run += 1) {
      const result = await runCliOnMoto(moto, ["apply", "-m", directory, "-o", "json", ...fastLimits], {
        AWS_ENDPOINT_URL: proxy.url,
        ROLECALL_REQUEST_TIMEOUT: requestTimeout,
      });
      runs.push(result);
      if (result.code === 0) break;
      // Only a call that exhausted its retries may fail a run, never a permanent error or a crash.
      const failures = parseApplyJson(result.stdout).manifests.flatMap((manifest) => manifest.errors);
      expect(failures.length, `run ${run} exited ${result.code}: ${result.stderr}`).toBeGreaterThan(0);
    }
    figures.push(
      `${label}: ${runs.length} apply run(s), ${((performance.now() - started) / 1000).toFixed(1)} s; ${proxy.summary()}; ${describeFaults(proxy.faults())}`,
    );
    return runs;
  }

  /** A fault-free apply straight at moto: nothing to do, not one mutating call. */
  async function expectNothingLeftToDo(): Promise<void> {
    const clean = await runCliOnMoto(moto, ["apply", "-m", directory, "-o", "json", ...fastLimits]);
    const output = parseApplyJson(clean.stdout);
    expect(clean.code, clean.stderr).toBe(0);
    expect(output.awsCalls.mutating, JSON.stringify(output.awsCalls.byOperation)).toBe(0);
    expect(output.manifests.filter((manifest) => manifest.status !== "converged")).toEqual([]);
  }

  it("apply converges, then a changed policy document is rolled out once per manifest, with nothing duplicated or untagged", async () => {
    proxy.setSeed(seedFromEnv(20_260_515));
    proxy.setRate(faultRate);
    const runs = await applyUntilConverged("apply, from empty");
    const context = proxy.summary();
    expect(runs.at(-1)?.code, `${context}\n${runs.at(-1)?.stdout.slice(-3000)}`).toBe(0);
    expect(runs.length).toBeLessThanOrEqual(maxApplyRuns);
    expect(proxy.faults().length, context).toBeGreaterThanOrEqual(20);
    expectFaultMix(proxy, context);
    expect(convergenceProblems(await readMotoState(iam, ec2), { present: fleet }), context).toEqual([]);

    // Every manifest grants another bucket: one new default version per policy, however many answers are lost.
    proxy.resetCounters();
    for (const manifest of fleet)
      await writeManifest(directory, {
        name: manifest.name,
        matchTags: { App: manifest.name },
        deletionPolicy: manifest.deletionPolicy,
        grants: [{ bucket: `${manifest.name}-bucket`, access: "read-write", prefixes: ["reports/"] }],
      });
    const rollout = await applyUntilConverged("apply, a document change on every manifest");
    const rolloutContext = proxy.summary();
    expect(rollout.at(-1)?.code, `${rolloutContext}\n${rollout.at(-1)?.stdout.slice(-3000)}`).toBe(0);
    expect(proxy.faults().length, rolloutContext).toBeGreaterThanOrEqual(5);
    proxy.setRate(0);
    const state = await readMotoState(iam, ec2);
    expect(convergenceProblems(state, { present: fleet, maxPolicyVersions: 2 }), rolloutContext).toEqual([]);
    for (const manifest of fleet) {
      const policy = state.policies.find((item) => item.name === resourceName(manifest.name));
      expect(JSON.stringify(policy?.document), `${manifest.name}; ${rolloutContext}`).toContain("reports/");
    }
    await expectNothingLeftToDo();
    // Several CLI runs, each a Node start-up: 22 s measured beside one other suite on 2 cores.
  }, 120_000);

  it("the daemon converges, and a fault-free apply afterwards has nothing to do", async () => {
    proxy.setSeed(seedFromEnv(7_340_033));
    proxy.setRate(faultRate);
    const started = performance.now();
    let daemon: Daemon | undefined;
    try {
      daemon = await startDaemon({
        moto,
        manifests: directory,
        resync: "1s",
        args: fastLimits,
        env: { AWS_ENDPOINT_URL: proxy.url, ROLECALL_REQUEST_TIMEOUT: requestTimeout },
      });
      const running = daemon;
      await waitFor(
        "every manifest to be Ready and moto to show the converged state",
        async () => {
          const status = await running.json<StatusDocument>("/status");
          if (status.summary.ready < manifests) return false;
          return convergenceProblems(await readMotoState(iam, ec2), { present: fleet }).length === 0;
        },
        { timeoutMs: 60_000, intervalMs: 250, context: () => `${proxy.summary()}\n${running.logs()}` },
      );
      const seconds = (performance.now() - started) / 1000;
      figures.push(
        `daemon, from empty: converged in ${seconds.toFixed(1)} s (start-up included); ${proxy.summary()}; ${describeFaults(proxy.faults())}`,
      );
      // The daemon keeps resyncing through the faults; it must not undo anything meanwhile.
      await daemon.stop("SIGTERM");
    } finally {
      await daemon?.kill();
    }
    const context = proxy.summary();
    proxy.setRate(0);
    expect(proxy.faults().length, context).toBeGreaterThanOrEqual(20);
    expectFaultMix(proxy, context);
    expect(convergenceProblems(await readMotoState(iam, ec2), { present: fleet }), context).toEqual([]);
    await expectNothingLeftToDo();
  });
});
