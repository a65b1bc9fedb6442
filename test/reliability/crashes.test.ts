import type { EC2Client } from "@aws-sdk/client-ec2";
import type { IAMClient } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallCounter } from "../../src/aws/call-observer.js";
import type { Engine } from "../../src/engine/engine.js";
import { startDaemon, waitFor } from "../support/daemon.js";
import { allSteps, removeManifest } from "../support/drift-kit.js";
import {
  seedFromEnv,
  startFaultProxy,
  type FaultPhase,
  type FaultProxy,
  type KillRecord,
} from "../support/fault-proxy.js";
import { mulberry32 } from "../support/seeded-random.mjs";
import { freePort, motoClients, startMoto, type Moto } from "../support/moto.js";
import { motoEngine, pass, runCliOnMoto } from "../support/moto-engine.js";
import { tempDirs } from "../support/temp-dir.js";
import {
  convergenceProblems,
  createForeign,
  foreignPart,
  makeFleet,
  parseApplyJson,
  readMotoState,
  spawnCli,
  type Expectation,
  type FleetManifest,
  type Foreign,
} from "./moto-state.js";

/**
 * SIGKILL at seeded points of a converge: the proxy counts rolecall's mutating requests and kills the process
 * when the k-th arrives, either before forwarding it (moto never sees it) or after moto applied it (the process
 * dies without the answer). Then a plain apply, and the state must be exactly converged: nothing duplicated,
 * nothing rolecall created left without its ownership tags, nothing of another owner touched. Kill points also
 * fall inside removals (deletionPolicy delete and retain), and twice inside `rolecall run`.
 * Replay a failure with FAULT_SEED=<the seed in the failure message>.
 */

const seed = seedFromEnv(9_001);
const fastLimits = ["--iam-rate", "500", "--ec2-rate", "500"];
const manifestCount = 3;
const perManifest = 2;

let moto: Moto;
let proxy: FaultProxy;
let iam: IAMClient;
let ec2: EC2Client;
let engine: Engine;
let calls: CallCounter;
const dirs = tempDirs("crashes");
const figures: string[] = [];

beforeAll(async () => {
  moto = await startMoto();
  proxy = await startFaultProxy({ target: moto.endpoint, seed });
  ({ iam, ec2 } = motoClients(moto));
  ({ engine, calls } = motoEngine(moto));
});

afterAll(async () => {
  await proxy.close();
  await moto.stop();
  await dirs.cleanup();
  console.log(`crash figures (seed ${seed}):\n  ${figures.join("\n  ")}`);
});

interface Scenario {
  readonly directory: string;
  readonly fleet: FleetManifest[];
  readonly foreign: Foreign;
  /** The foreign resources as they were before rolecall ran. */
  readonly foreignBefore: ReturnType<typeof foreignPart>;
}

/** A fresh account: three tag-selected manifests of two instances, and another owner's chain and instance. */
async function freshScenario(): Promise<Scenario> {
  await moto.reset();
  const directory = await dirs.make();
  const fleet = await makeFleet(ec2, directory, { count: manifestCount, perManifest, prefix: "c" });
  // The foreign instance matches c00's selector: rolecall must skip it (onConflict skip), never take it over.
  const foreign = await createForeign(iam, ec2, { manifest: "c00", tags: { App: "c00" } });
  const foreignBefore = foreignPart(await readMotoState(iam, ec2), foreign);
  return { directory, fleet, foreign, foreignBefore };
}

/** A converged account (applied in-process, fault-free). */
async function convergedScenario(): Promise<Scenario> {
  const scenario = await freshScenario();
  await pass(engine, scenario.directory, false);
  const problems = convergenceProblems(await readMotoState(iam, ec2), {
    present: scenario.fleet,
    foreign: scenario.foreign,
  });
  expect(problems, "the converged starting point").toEqual([]);
  return scenario;
}

/** Runs `rolecall apply` through the proxy and SIGKILLs it at the kill point; resolves with where it died. */
async function killedApply(directory: string, atMutating: number, phase: FaultPhase): Promise<KillRecord> {
  proxy.resetCounters();
  // Armed in the same tick as the spawn: the child cannot send anything before.
  const child = spawnCli(moto, proxy.url, ["apply", "-m", directory, "-o", "json", ...fastLimits]);
  const fired = proxy.armKill({
    atMutating,
    phase,
    kill: () => {
      child.kill();
    },
  });
  const exit = await child.exited;
  const record = await Promise.race([fired, Promise.resolve(undefined)]);
  proxy.disarmKill();
  if (record === undefined || exit.signal !== "SIGKILL") {
    throw new Error(
      `kill point ${atMutating} (${phase}) was not reached: apply exited ${exit.code} after ${proxy.requests().mutating} mutating call(s)\n${exit.stderr}`,
    );
  }
  return record;
}

/**
 * The restart: a plain apply straight at moto, as the CLI (`rolecall apply`) or, to spare a Node start-up per kill
 * point, the same engine in-process (one pass only, which is stricter than the CLI's up to three); then the
 * checks. Returns the problems found (none expected).
 */
async function restartAndCheck(
  scenario: Scenario,
  expected: Omit<Expectation, "foreign">,
  via: "cli" | "engine" = "cli",
): Promise<string[]> {
  const problems: string[] = [];
  if (via === "cli") {
    const restart = await runCliOnMoto(moto, [
      "apply",
      "-m",
      scenario.directory,
      "-o",
      "json",
      ...fastLimits,
    ]);
    if (restart.code !== 0) {
      const output = parseApplyJson(restart.stdout);
      problems.push(
        `restarted apply exited ${restart.code}: ${JSON.stringify(output.manifests.flatMap((manifest) => manifest.errors))} ${restart.stderr.slice(0, 500)}`,
      );
    }
  } else {
    const restart = await pass(engine, scenario.directory, false);
    for (const result of restart.results)
      if (result.status !== "converged")
        problems.push(
          `restarted apply: ${result.manifest} is ${result.status}: ${JSON.stringify(result.errors)}`,
        );
  }
  const state = await readMotoState(iam, ec2);
  problems.push(...convergenceProblems(state, { ...expected, foreign: scenario.foreign }));
  const foreignAfter = foreignPart(state, scenario.foreign);
  if (JSON.stringify(foreignAfter) !== JSON.stringify(scenario.foreignBefore))
    problems.push(
      `foreign resources changed:\n    before ${JSON.stringify(scenario.foreignBefore)}\n    after  ${JSON.stringify(foreignAfter)}`,
    );
  // Settled: a further pass plans nothing and would make no mutating call.
  calls.reset();
  const again = await pass(engine, scenario.directory, true);
  const pending = allSteps(again);
  if (Object.keys(pending).length > 0)
    problems.push(`still planned after the restart: ${JSON.stringify(pending)}`);
  return problems;
}

/** Mutating calls an uninterrupted apply of the scenario makes (through the proxy, which counts them). */
async function mutatingCallsOf(scenario: Scenario): Promise<number> {
  proxy.resetCounters();
  const result = await runCliOnMoto(moto, ["apply", "-m", scenario.directory, "-o", "json", ...fastLimits], {
    AWS_ENDPOINT_URL: proxy.url,
  });
  expect(result.code, result.stderr).toBe(0);
  return proxy.requests().mutating;
}

/** Kill points 1…total, each with a seeded phase; every one of them, and again the other phase where seeded. */
function killPoints(
  total: number,
  stream: string,
  extra: number,
): { atMutating: number; phase: FaultPhase }[] {
  let hash = 0;
  for (const char of stream) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) >>> 0;
  const random = mulberry32(seed ^ hash);
  const points: { atMutating: number; phase: FaultPhase }[] = [];
  for (let k = 1; k <= total; k += 1)
    points.push({ atMutating: k, phase: random() < 0.5 ? "before" : "after" });
  // A few more: the other phase at seeded positions.
  for (let index = 0; index < extra; index += 1) {
    const k = 1 + Math.floor(random() * total);
    const phase = points.find((point) => point.atMutating === k)?.phase === "before" ? "after" : "before";
    if (!points.some((point) => point.atMutating === k && point.phase === phase))
      points.push({ atMutating: k, phase });
  }
  return points;
}

/** Tries every kill point; returns a failure list naming the point, where it died, and what was wrong. */
async function tryKillPoints(
  label: string,
  points: readonly { atMutating: number; phase: FaultPhase }[],
  prepare: () => Promise<{ scenario: Scenario; expected: Omit<Expectation, "foreign"> }>,
): Promise<string[]> {
  const failures: string[] = [];
  const started = performance.now();
  const killedAt: string[] = [];
  for (const [index, point] of points.entries()) {
    // Any error of one kill point is recorded with the point, and the others are still tried.
    try {
      const { scenario, expected } = await prepare();
      const record = await killedApply(scenario.directory, point.atMutating, point.phase);
      killedAt.push(`${record.atMutating}${record.phase === "before" ? "b" : "a"}:${record.action}`);
      // Every fourth restart is the CLI itself; the others run the same engine in-process.
      const problems = await restartAndCheck(scenario, expected, index % 4 === 0 ? "cli" : "engine");
      if (problems.length > 0)
        failures.push(
          `seed ${seed}, ${label}, killed at mutating call ${record.atMutating} (${record.service}:${record.action}, ${record.phase} moto applied it):\n    ${problems.join("\n    ")}`,
        );
    } catch (error) {
      failures.push(
        `seed ${seed}, ${label}, kill point ${point.atMutating} (${point.phase}): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
    }
  }
  figures.push(
    `${label}: ${points.length} kill points in ${((performance.now() - started) / 1000).toFixed(1)} s: ${killedAt.join(" ")}`,
  );
  return failures;
}

describe("SIGKILL during a converge, then a plain apply", () => {
  it("at every mutating call of a converge from empty (before and after moto applied it): converged, nothing leaked, nothing foreign touched", async () => {
    const total = await mutatingCallsOf(await freshScenario());
    // 3 manifests × (policy, role, attach, profile, add role, 2 associations).
    expect(total).toBeGreaterThanOrEqual(manifestCount * (5 + perManifest));
    const points = killPoints(total, "converge", 2);
    expect(points.length).toBeGreaterThanOrEqual(20);
    const failures = await tryKillPoints("converge from empty", points, async () => {
      const scenario = await freshScenario();
      return { scenario, expected: { present: scenario.fleet } };
    });
    expect(failures).toEqual([]);
  }, 150_000);
});

describe("SIGKILL during a removal, then a plain apply that completes it", () => {
  it("deletionPolicy delete: killed at each step of the removal; the restart removes the rest and nothing else", async () => {
    const removedName = "c01"; // odd: deletionPolicy delete
    const prepare = async () => {
      const scenario = await convergedScenario();
      const removed = scenario.fleet.find((manifest) => manifest.name === removedName)!;
      expect(removed.deletionPolicy).toBe("delete");
      await removeManifest(scenario.directory, removedName);
      return {
        scenario,
        expected: { present: scenario.fleet.filter((manifest) => manifest !== removed), deleted: [removed] },
      };
    };
    const { scenario } = await prepare();
    const total = await mutatingCallsOf(scenario);
    // Two disassociations, remove role, delete profile, detach, delete role, delete policy.
    expect(total).toBe(perManifest + 5);
    const points = killPoints(total, "removal-delete", 2);
    const failures = await tryKillPoints("removal, deletionPolicy delete", points, prepare);
    expect(failures).toEqual([]);
    // Two kill points, each a converged scenario built, a killed apply and a completing one: it ran past 90 s
    // beside other suites on 2 cores.
  }, 180_000);

  it("deletionPolicy retain: killed while tagging the chain orphaned; the restart finishes the tagging", async () => {
    const removedName = "c02"; // even: deletionPolicy retain
    const prepare = async () => {
      const scenario = await convergedScenario();
      const removed = scenario.fleet.find((manifest) => manifest.name === removedName)!;
      expect(removed.deletionPolicy).toBe("retain");
      await removeManifest(scenario.directory, removedName);
      return {
        scenario,
        expected: { present: scenario.fleet.filter((manifest) => manifest !== removed), retained: [removed] },
      };
    };
    const { scenario } = await prepare();
    const total = await mutatingCallsOf(scenario);
    expect(total).toBe(3); // TagRole, TagInstanceProfile, TagPolicy
    const failures = await tryKillPoints(
      "removal, deletionPolicy retain",
      killPoints(total, "removal-retain", 0),
      prepare,
    );
    expect(failures).toEqual([]);
  }, 60_000);
});

describe("SIGKILL of rolecall run", () => {
  it("killed mid-converge twice: a plain apply, and a restarted daemon, each finish the job", async () => {
    const failures: string[] = [];
    const started = performance.now();
    for (const [index, restartWith] of (["apply", "daemon"] as const).entries()) {
      const scenario = await freshScenario();
      const atMutating = index === 0 ? 4 : 13;
      const phase: FaultPhase = index === 0 ? "after" : "before";
      proxy.resetCounters();
      const port = await freePort();
      const child = spawnCli(moto, proxy.url, [
        "run",
        "--manifests",
        scenario.directory,
        "--port",
        String(port),
        "--resync",
        "1s",
        ...fastLimits,
      ]);
      const fired = proxy.armKill({
        atMutating,
        phase,
        kill: () => {
          child.kill();
        },
      });
      const exit = await child.exited;
      const record = await Promise.race([fired, Promise.resolve(undefined)]);
      proxy.disarmKill();
      expect(exit.signal, `rolecall run was not killed: ${exit.stderr.slice(-2000)}`).toBe("SIGKILL");
      expect(record?.atMutating).toBe(atMutating);
      const expected = { present: scenario.fleet };
      if (restartWith === "apply") {
        const problems = await restartAndCheck(scenario, expected);
        if (problems.length > 0)
          failures.push(
            `run killed at ${atMutating} (${phase}), then apply:\n    ${problems.join("\n    ")}`,
          );
      } else {
        const daemon = await startDaemon({
          moto,
          manifests: scenario.directory,
          resync: "1s",
          args: fastLimits,
        });
        try {
          await waitFor(
            "the restarted daemon to converge",
            async () =>
              convergenceProblems(await readMotoState(iam, ec2), { ...expected, foreign: scenario.foreign })
                .length === 0,
            { timeoutMs: 20_000, intervalMs: 200, context: () => daemon.logs() },
          );
        } finally {
          await daemon.stop("SIGTERM");
        }
        const problems = await restartAndCheck(scenario, expected);
        if (problems.length > 0)
          failures.push(`run killed at ${atMutating} (${phase}), then run:\n    ${problems.join("\n    ")}`);
      }
      figures.push(
        `rolecall run killed at mutating call ${atMutating} (${phase}: ${record?.action ?? "?"}), restarted with ${restartWith}`,
      );
    }
    figures.push(`rolecall run kill points took ${((performance.now() - started) / 1000).toFixed(1)} s`);
    expect(failures).toEqual([]);
  }, 60_000);
});
