import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ElectionLoop } from "../../src/lease/election-loop.js";
import { LeaderElection } from "../../src/lease/leader-election.js";
import { leaseTimingProblem, pollIntervalMs } from "../../src/lease/lease-record.js";
import { ManualClock, MemoryLeaseStore } from "./memory-lease-store.js";

const timing = { durationMs: 15_000, renewMs: 5000 };

function election(store: MemoryLeaseStore, clock: ManualClock, holder: string, failing?: () => boolean) {
  const changes: boolean[] = [];
  const errors: string[] = [];
  const instance = new LeaderElection(
    store.client(failing === undefined ? {} : { failing }),
    holder,
    timing,
    clock,
    () => new Date(clock.now()),
    { onChange: (leading) => changes.push(leading), onError: (_error, during) => errors.push(during) },
  );
  return { instance, changes, errors };
}

describe("LeaderElection", () => {
  it("takes a free lease at once and renews it every renewal interval", async () => {
    const store = new MemoryLeaseStore();
    const clock = new ManualClock();
    const a = election(store, clock, "a");
    expect(a.instance.mayWrite()).toBe(false);
    expect(await a.instance.step()).toBe(timing.renewMs);
    expect(a.instance.mayWrite()).toBe(true);
    expect(a.changes).toEqual([true]);
    expect(store.record?.holder).toBe("a");
    const since = store.record?.leaderSince;
    const firstVersion = store.record?.version;
    clock.advance(timing.renewMs);
    expect(await a.instance.step()).toBe(timing.renewMs);
    expect(store.record?.version).not.toBe(firstVersion);
    expect(store.record?.leaderSince).toBe(since);
    expect(a.instance.view()).toMatchObject({ leading: true, leader: "a", since });
  });

  it("keeps a standby waiting while the leader renews, and shows who leads", async () => {
    const store = new MemoryLeaseStore();
    const clock = new ManualClock();
    const a = election(store, clock, "a");
    const b = election(store, clock, "b");
    await a.instance.step();
    for (let round = 0; round < 10; round += 1) {
      expect(await b.instance.step()).toBe(pollIntervalMs(timing));
      clock.advance(timing.renewMs);
      await a.instance.step();
      expect(b.instance.mayWrite()).toBe(false);
      expect(a.instance.mayWrite()).toBe(true);
    }
    expect(b.changes).toEqual([]);
    expect(b.instance.view()).toMatchObject({ leading: false, leader: "a", holderId: "b" });
  });

  it("takes over a lease left unrenewed for a whole duration, by which time the old leader stopped writing", async () => {
    const store = new MemoryLeaseStore();
    const clock = new ManualClock();
    const a = election(store, clock, "a");
    const b = election(store, clock, "b");
    await a.instance.step();
    clock.advance(100);
    await b.instance.step();
    const firstSeen = clock.now();
    // a is gone (SIGKILL): it never steps again.
    while (clock.now() - firstSeen < timing.durationMs) {
      expect(b.instance.mayWrite()).toBe(false);
      clock.advance(pollIntervalMs(timing));
      await b.instance.step();
    }
    expect(b.instance.mayWrite()).toBe(true);
    expect(store.record?.holder).toBe("b");
    expect(clock.now() - firstSeen).toBeLessThan(timing.durationMs + pollIntervalMs(timing) + 1);
    // Had a been alive but cut off, its own clock had stopped it writing long before.
    expect(a.instance.mayWrite()).toBe(false);
  });

  it("stops a leader whose store fails from writing before its lease can end for others, then competes again", async () => {
    const store = new MemoryLeaseStore();
    const clock = new ManualClock();
    let cutOff = false;
    const a = election(store, clock, "a", () => cutOff);
    await a.instance.step();
    const renewedAt = clock.now();
    cutOff = true;
    let deadlineSeen: number | undefined;
    while (clock.now() < renewedAt + timing.durationMs) {
      if (!a.instance.mayWrite() && deadlineSeen === undefined) deadlineSeen = clock.now();
      const delay = await a.instance.step();
      // Never sleeps past the point where writing has to stop.
      if (a.instance.mayWrite()) expect(clock.now() + delay).toBeLessThanOrEqual(renewedAt + 10_000);
      clock.advance(Math.max(1, Math.min(delay, 250)));
    }
    expect(deadlineSeen).toBe(renewedAt + timing.durationMs - timing.renewMs);
    expect(a.changes).toEqual([true, false]);
    expect(a.errors).toContain("renew");
    // The store comes back and nobody took the lease: a leads again without waiting out a whole lease.
    cutOff = false;
    await a.instance.step();
    expect(a.instance.mayWrite()).toBe(true);
    expect(a.changes).toEqual([true, false, true]);
  });

  it("ends the leadership of a leader whose renewal hangs at its write deadline, not when the call returns", async () => {
    const store = new MemoryLeaseStore();
    const clock = new ManualClock();
    const changes: boolean[] = [];
    const base = store.client();
    let hang = false;
    let release: (() => void) | undefined;
    const hanging = {
      read: () => base.read(),
      write: (next: Parameters<typeof base.write>[0], expected: string | undefined) =>
        hang
          ? new Promise<boolean>((resolve) => {
              release = () => {
                resolve(false);
              };
            })
          : base.write(next, expected),
    };
    const a = new LeaderElection(hanging, "a", timing, clock, () => new Date(clock.now()), {
      onChange: (leading) => changes.push(leading),
    });
    // The loop's sleeps, run by hand: each is resolved when the test moves the clock past its end, less 5 ms (as
    // Node fires a timer early when the event loop's cached time is behind).
    const sleeps: { until: number; wake: () => void }[] = [];
    const sleep = (milliseconds: number) =>
      new Promise<void>((resolve) => sleeps.push({ until: clock.now() + milliseconds - 5, wake: resolve }));
    const advanceTo = async (time: number) => {
      clock.time = time;
      for (const due of sleeps.filter((entry) => entry.until <= time)) {
        sleeps.splice(sleeps.indexOf(due), 1);
        due.wake();
      }
      for (let turn = 0; turn < 10; turn += 1) await Promise.resolve();
    };
    const loop = new ElectionLoop(a, sleep, clock);
    loop.start();
    await advanceTo(clock.now());
    expect(a.mayWrite()).toBe(true);
    const renewedAt = clock.now();
    expect(a.writeDeadlineAt()).toBe(renewedAt + timing.durationMs - timing.renewMs);
    hang = true;
    await advanceTo(renewedAt + timing.renewMs);
    expect(release).toBeDefined();
    await advanceTo(renewedAt + timing.durationMs - timing.renewMs - 1);
    expect(changes).toEqual([true]);
    await advanceTo(renewedAt + timing.durationMs - timing.renewMs);
    // The renewal still hangs, and yet the leader stepped down on time.
    expect(a.mayWrite()).toBe(false);
    expect(changes).toEqual([true, false]);
    expect(a.writeDeadlineAt()).toBeUndefined();
    hang = false;
    release?.();
    const stopping = loop.stop();
    await advanceTo(clock.now() + timing.renewMs);
    await stopping;
  });

  it("releases the lease on stop, so that a standby takes it at its next look", async () => {
    const store = new MemoryLeaseStore();
    const clock = new ManualClock();
    const a = election(store, clock, "a");
    const b = election(store, clock, "b");
    await a.instance.step();
    await b.instance.step();
    await a.instance.release();
    expect(a.instance.mayWrite()).toBe(false);
    expect(store.record?.holder).toBeUndefined();
    clock.advance(pollIntervalMs(timing));
    await b.instance.step();
    expect(b.instance.mayWrite()).toBe(true);
    // A stopped election never takes the lease back.
    await a.instance.step();
    expect(store.record?.holder).toBe("b");
  });

  it("lets only one of two contenders win a free lease", async () => {
    const store = new MemoryLeaseStore();
    const clock = new ManualClock();
    const a = election(store, clock, "a");
    const b = election(store, clock, "b");
    await Promise.all([a.instance.step(), b.instance.step()]);
    expect([a.instance.mayWrite(), b.instance.mayWrite()].filter(Boolean)).toHaveLength(1);
  });

  it("waits for the longer of its own and the holder's lease duration", async () => {
    const store = new MemoryLeaseStore();
    const clock = new ManualClock();
    const a = new LeaderElection(store.client(), "a", { durationMs: 60_000, renewMs: 5000 }, clock);
    const b = election(store, clock, "b");
    await a.step();
    await b.instance.step();
    clock.advance(timing.durationMs + 1);
    await b.instance.step();
    expect(b.instance.mayWrite()).toBe(false);
    clock.advance(60_000);
    await b.instance.step();
    expect(b.instance.mayWrite()).toBe(true);
  });

  it("never has two processes allowed to write at once, whatever the failures and pauses", async () => {
    const operation = fc.record({
      who: fc.constantFrom(0, 1, 2),
      kind: fc.constantFrom("step", "step", "step", "toggle", "release"),
      advance: fc.integer({ min: 0, max: 6000 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 120 }), async (operations) => {
        const store = new MemoryLeaseStore();
        const clock = new ManualClock();
        const cutOff = [false, false, false];
        const processes = [0, 1, 2].map(
          (index) => election(store, clock, `p${index}`, () => cutOff[index] === true).instance,
        );
        for (const { who, kind, advance } of operations) {
          const process = processes[who]!;
          if (kind === "step") await process.step();
          else if (kind === "toggle") cutOff[who] = !cutOff[who];
          else await process.release();
          expect(processes.filter((candidate) => candidate.mayWrite()).length).toBeLessThanOrEqual(1);
          clock.advance(advance);
          expect(processes.filter((candidate) => candidate.mayWrite()).length).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("leaseTimingProblem", () => {
  it("accepts the defaults and refuses a renewal interval of half the lease or more", () => {
    expect(leaseTimingProblem({ durationMs: 15_000, renewMs: 5000 })).toBeUndefined();
    expect(leaseTimingProblem({ durationMs: 10_000, renewMs: 5000 })).toMatch(
      /less than half of --lease-duration/,
    );
    expect(leaseTimingProblem({ durationMs: 10_000, renewMs: 0 })).toMatch(/positive/);
  });
});
