import { describe, expect, it } from "vitest";
import { TargetSupervisor, targetRetryDelay, type TargetState } from "../../src/daemon/target-supervisor.js";
import type { Scheduler } from "../../src/daemon/work-queue.js";

/** Delays wait until the test fires them: no test sleeps. */
class ManualScheduler implements Scheduler {
  readonly pending: { ms: number; fire: () => void; cancelled: boolean }[] = [];

  schedule(ms: number, callback: () => void) {
    const entry = { ms, fire: callback, cancelled: false };
    this.pending.push(entry);
    return {
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }

  live(): number[] {
    return this.pending.filter((entry) => !entry.cancelled).map((entry) => entry.ms);
  }

  fireAll(): void {
    for (const entry of this.pending.splice(0).filter((candidate) => !candidate.cancelled)) entry.fire();
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

function harness(failuresBeforeSuccess: Record<string, number>) {
  const scheduler = new ManualScheduler();
  const attempts = new Map<string, number>();
  const reached: string[] = [];
  const changes: [string, TargetState["kind"], TargetState["kind"]][] = [];
  const supervisor = new TargetSupervisor<string>({
    targets: Object.keys(failuresBeforeSuccess),
    connect: (target) => {
      const attempt = (attempts.get(target) ?? 0) + 1;
      attempts.set(target, attempt);
      if (attempt <= (failuresBeforeSuccess[target] ?? 0))
        return Promise.reject(new Error(`${target} attempt ${attempt} refused`));
      return Promise.resolve(`connection to ${target}`);
    },
    describe: (error) => ({ code: "AssumeRoleFailed", message: String(error) }),
    onReachable: (target, connection) => {
      reached.push(`${target}=${connection}`);
    },
    onChange: (target, state, previous) => {
      changes.push([target, previous.kind, state.kind]);
    },
    backoff: { baseMs: 1000, maxMs: 8000 },
    scheduler,
    now: () => new Date("2030-01-01T00:00:00Z"),
  });
  return { scheduler, attempts, reached, changes, supervisor };
}

describe("TargetSupervisor", () => {
  it("doubles the wait after each failure, up to the cap", () => {
    const delays = [1, 2, 3, 4, 5, 6, 50].map((n) => targetRetryDelay(n, { baseMs: 1000, maxMs: 8000 }));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000, 8000, 8000]);
  });

  it("connects reachable targets at once while an unreachable one backs off", async () => {
    const { scheduler, reached, supervisor } = harness({ prod: 0, dev: 10 });
    supervisor.start();
    await settle();
    expect(reached).toEqual(["prod=connection to prod"]);
    expect(supervisor.notReachable()).toEqual(["dev"]);
    expect(supervisor.allTried()).toBe(true);
    const state = supervisor.state("dev");
    expect(state).toMatchObject({ kind: "unavailable", attempts: 1, why: { code: "AssumeRoleFailed" } });
    expect(state?.kind === "unavailable" && state.retryAt).toBe("2030-01-01T00:00:01.000Z");
    const waits: number[] = [];
    for (let round = 0; round < 5; round++) {
      waits.push(...scheduler.live());
      scheduler.fireAll();
      await settle();
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 8000]);
  });

  it("a target that comes back is reached once, and no retry stays scheduled", async () => {
    const { scheduler, reached, changes, supervisor, attempts } = harness({ dev: 2 });
    supervisor.start();
    await settle();
    scheduler.fireAll();
    await settle();
    scheduler.fireAll();
    await settle();
    expect(attempts.get("dev")).toBe(3);
    expect(reached).toEqual(["dev=connection to dev"]);
    expect(scheduler.live()).toEqual([]);
    expect(supervisor.notReachable()).toEqual([]);
    expect(changes).toEqual([
      ["dev", "connecting", "unavailable"],
      ["dev", "unavailable", "unavailable"],
      ["dev", "unavailable", "reachable"],
    ]);
  });

  it("is not all tried while a first attempt is in flight", () => {
    const supervisor = new TargetSupervisor<string>({
      targets: ["slow"],
      connect: () => new Promise<string>(() => undefined),
      describe: () => ({ code: "X", message: "x" }),
      onReachable: () => undefined,
    });
    supervisor.start();
    expect(supervisor.allTried()).toBe(false);
    expect(supervisor.notReachable()).toEqual(["slow"]);
  });

  it("stop cancels the retries waiting and ignores an attempt that ends afterwards", async () => {
    let release: (value: string) => void = () => undefined;
    const scheduler = new ManualScheduler();
    const reached: string[] = [];
    let calls = 0;
    const supervisor = new TargetSupervisor<string>({
      targets: ["a", "b"],
      connect: (target) => {
        calls += 1;
        if (target === "a") return Promise.reject(new Error("no"));
        return new Promise<string>((resolve) => {
          release = resolve;
        });
      },
      describe: () => ({ code: "AssumeRoleFailed", message: "no" }),
      onReachable: (target) => reached.push(target),
      scheduler,
    });
    supervisor.start();
    await settle();
    expect(scheduler.live()).toEqual([1000]);
    supervisor.stop();
    expect(scheduler.live()).toEqual([]);
    release("late");
    await settle();
    expect(reached).toEqual([]);
    expect(calls).toBe(2);
  });

  it("a reached target whose credentials fail is unavailable again, retried, and recovered without a second start", async () => {
    const scheduler = new ManualScheduler();
    let refuse = false;
    let attempt = 0;
    const reached: string[] = [];
    const recovered: string[] = [];
    const changes: string[] = [];
    const supervisor = new TargetSupervisor<string>({
      targets: ["prod", "dev"],
      connect: (target) => {
        if (target === "prod") return Promise.resolve("prod connection");
        attempt += 1;
        return refuse
          ? Promise.reject(new Error("AccessDenied"))
          : Promise.resolve(`dev connection ${attempt}`);
      },
      describe: (error) => ({ code: "AssumeRoleFailed", message: String(error) }),
      onReachable: (target, connection) => reached.push(`${target}=${connection}`),
      onRecovered: (target, connection) => recovered.push(`${target}=${connection}`),
      onChange: (target, state, previous) => changes.push(`${target}:${previous.kind}->${state.kind}`),
      backoff: { baseMs: 1000, maxMs: 8000 },
      scheduler,
      now: () => new Date("2030-01-01T00:00:00Z"),
    });
    supervisor.start();
    await settle();
    expect(supervisor.notReachable()).toEqual([]);

    refuse = true;
    supervisor.lost("dev", { code: "AssumeRoleFailed", message: "renewing the session was refused" });
    // From this moment the other targets protect dev's manifests; a second report changes nothing.
    expect(supervisor.notReachable()).toEqual(["dev"]);
    expect(supervisor.state("dev")).toMatchObject({
      kind: "unavailable",
      attempts: 1,
      why: { message: "renewing the session was refused" },
    });
    supervisor.lost("dev", { code: "AssumeRoleFailed", message: "again" });
    expect(scheduler.live()).toEqual([1000]);

    scheduler.fireAll();
    await settle();
    expect(supervisor.state("dev")).toMatchObject({ kind: "unavailable", attempts: 2 });
    expect(scheduler.live()).toEqual([2000]);

    refuse = false;
    scheduler.fireAll();
    await settle();
    expect(supervisor.notReachable()).toEqual([]);
    expect(reached).toEqual(["prod=prod connection", "dev=dev connection 1"]);
    expect(recovered).toEqual(["dev=dev connection 3"]);
    expect(scheduler.live()).toEqual([]);
    expect(changes.filter((change) => change.startsWith("dev:"))).toEqual([
      "dev:connecting->reachable",
      "dev:reachable->unavailable",
      "dev:unavailable->unavailable",
      "dev:unavailable->reachable",
    ]);
  });

  it("a loss reported for a target not reached, or after stop, is ignored", async () => {
    const { scheduler, supervisor } = harness({ prod: 0, dev: 10 });
    supervisor.start();
    await settle();
    supervisor.lost("dev", { code: "AssumeRoleFailed", message: "late report" });
    expect(supervisor.state("dev")).toMatchObject({ kind: "unavailable", attempts: 1 });
    expect(scheduler.live()).toEqual([1000]);
    supervisor.stop();
    supervisor.lost("prod", { code: "AssumeRoleFailed", message: "after stop" });
    expect(supervisor.state("prod")).toMatchObject({ kind: "reachable" });
    expect(scheduler.live()).toEqual([]);
  });
});
