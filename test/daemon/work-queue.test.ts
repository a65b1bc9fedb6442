import { describe, expect, it } from "vitest";
import {
  WorkQueue,
  type HandlerResult,
  type KeyHandler,
  type Scheduler,
} from "../../src/daemon/work-queue.js";

/** A Scheduler that never fires by itself: the test decides when (and whether) a delay has passed. */
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

  /** Delays still waiting, in the order they were asked for. */
  live(): number[] {
    return this.pending.filter((entry) => !entry.cancelled).map((entry) => entry.ms);
  }

  /** Fires every live delay (as if enough time passed), once. */
  fireAll(): void {
    const due = this.pending.splice(0).filter((entry) => !entry.cancelled);
    for (const entry of due) entry.fire();
  }
}

interface Deferred {
  readonly promise: Promise<HandlerResult>;
  resolve(result: HandlerResult): void;
  reject(error: unknown): void;
}

function deferred(): Deferred {
  let resolve!: (result: HandlerResult) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<HandlerResult>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A handler whose every call waits for the test to settle it; records calls and peak concurrency per key. */
function controlledHandler() {
  const calls: string[] = [];
  const open = new Map<string, Deferred[]>();
  const running = new Map<string, number>();
  let peakPerKey = 0;
  let peakTotal = 0;
  const handler: KeyHandler = async (key) => {
    calls.push(key);
    const now = (running.get(key) ?? 0) + 1;
    running.set(key, now);
    peakPerKey = Math.max(peakPerKey, now);
    peakTotal = Math.max(
      peakTotal,
      [...running.values()].reduce((sum, count) => sum + count, 0),
    );
    const gate = deferred();
    open.set(key, [...(open.get(key) ?? []), gate]);
    try {
      return await gate.promise;
    } finally {
      running.set(key, (running.get(key) ?? 1) - 1);
    }
  };
  return {
    handler,
    calls,
    peaks: () => ({ perKey: peakPerKey, total: peakTotal }),
    inFlight: (key: string) => (open.get(key) ?? []).length,
    /** Settles the oldest open call of `key`. */
    finish: async (key: string, result: HandlerResult = { kind: "done" }) => {
      const gates = open.get(key) ?? [];
      const gate = gates.shift();
      if (gate === undefined) throw new Error(`no call of ${key} is in flight`);
      gate.resolve(result);
      await flush();
    },
    fail: async (key: string, error: unknown) => {
      const gate = (open.get(key) ?? []).shift();
      if (gate === undefined) throw new Error(`no call of ${key} is in flight`);
      gate.reject(error);
      await flush();
    },
  };
}

/** Lets every pending promise chain run (the queue hands work over through microtasks only). */
async function flush(): Promise<void> {
  for (let index = 0; index < 10; index += 1) await Promise.resolve();
}

const done: HandlerResult = { kind: "done" };
const retry: HandlerResult = { kind: "retry" };

describe("WorkQueue", () => {
  it("never processes one key twice at once; an add during processing runs it once more afterwards", async () => {
    const work = controlledHandler();
    const queue = new WorkQueue(work.handler, 4, undefined, new ManualScheduler());
    queue.add("a");
    await flush();
    expect(work.calls).toEqual(["a"]);

    // Three adds while "a" is being processed: no second worker, one rerun afterwards.
    queue.add("a");
    queue.add("a");
    queue.add("a");
    await flush();
    expect(work.calls).toEqual(["a"]);
    expect(work.inFlight("a")).toBe(1);

    await work.finish("a");
    expect(work.calls).toEqual(["a", "a"]);
    await work.finish("a");
    await queue.idle();
    expect(work.calls).toEqual(["a", "a"]);
    expect(work.peaks().perKey).toBe(1);
  });

  it("collapses repeated adds of a waiting key into one run", async () => {
    const work = controlledHandler();
    const queue = new WorkQueue(work.handler, 1, undefined, new ManualScheduler());
    queue.add("busy");
    for (let index = 0; index < 5; index += 1) {
      queue.add("b");
      queue.add("c");
    }
    await flush();
    expect(work.calls).toEqual(["busy"]);
    expect(queue.depth()).toBe(3);

    await work.finish("busy");
    await work.finish("b");
    await work.finish("c");
    await queue.idle();
    expect(work.calls).toEqual(["busy", "b", "c"]);
    expect(queue.depth()).toBe(0);
  });

  it("runs different keys in parallel up to the concurrency, in the order they were added", async () => {
    const work = controlledHandler();
    const queue = new WorkQueue(work.handler, 2, undefined, new ManualScheduler());
    for (const key of ["a", "b", "c", "d"]) queue.add(key);
    await flush();
    expect(work.calls).toEqual(["a", "b"]);
    await work.finish("b");
    expect(work.calls).toEqual(["a", "b", "c"]);
    await work.finish("a");
    await work.finish("c");
    await work.finish("d");
    await queue.idle();
    expect(work.calls).toEqual(["a", "b", "c", "d"]);
    expect(work.peaks().total).toBe(2);
  });

  it("backs a failing key off exponentially, capped at 5 minutes, while other keys go on", async () => {
    const scheduler = new ManualScheduler();
    const work = controlledHandler();
    const queue = new WorkQueue(work.handler, 1, undefined, scheduler);
    const delays: number[] = [];

    queue.add("bad");
    for (let attempt = 0; attempt < 12; attempt += 1) {
      await flush();
      await work.finish("bad", retry);
      delays.push(...scheduler.live());
      expect(scheduler.live()).toHaveLength(1);

      // While "bad" waits out its backoff, another key is processed at once.
      queue.add("good");
      await flush();
      expect(work.calls.at(-1)).toBe("good");
      await work.finish("good", done);

      scheduler.fireAll();
    }
    await flush();
    await work.finish("bad", done);
    await queue.idle();

    expect(delays).toEqual([
      1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000, 300_000,
    ]);
    expect(work.calls.filter((key) => key === "good")).toHaveLength(12);
  });

  it("a thrown error counts as a failure, is reported, and backs off like a retry", async () => {
    const scheduler = new ManualScheduler();
    const work = controlledHandler();
    const errors: [string, unknown][] = [];
    const queue = new WorkQueue(work.handler, 1, { baseMs: 50, maxMs: 1000 }, scheduler, (key, error) =>
      errors.push([key, error]),
    );
    queue.add("x");
    await flush();
    const boom = new Error("boom");
    await work.fail("x", boom);
    expect(errors).toEqual([["x", boom]]);
    expect(scheduler.live()).toEqual([50]);
    scheduler.fireAll();
    await flush();
    await work.fail("x", boom);
    expect(scheduler.live()).toEqual([100]);
  });

  it("forgets a key's failures once it succeeds: the next failure starts from the base delay", async () => {
    const scheduler = new ManualScheduler();
    const work = controlledHandler();
    const queue = new WorkQueue(work.handler, 1, undefined, scheduler);
    queue.add("k");
    for (let attempt = 0; attempt < 3; attempt += 1) {
      await flush();
      await work.finish("k", retry);
      scheduler.fireAll();
    }
    await flush();
    await work.finish("k", done);
    expect(scheduler.live()).toEqual([]);

    queue.add("k");
    await flush();
    await work.finish("k", retry);
    expect(scheduler.live()).toEqual([1000]);
  });

  it("requeueAfter schedules exactly the asked delay and keeps the failure count", async () => {
    const scheduler = new ManualScheduler();
    const work = controlledHandler();
    const queue = new WorkQueue(work.handler, 1, undefined, scheduler);
    queue.add("k");
    await flush();
    await work.finish("k", retry);
    scheduler.fireAll();
    await flush();
    await work.finish("k", { kind: "requeueAfter", ms: 1234 });
    expect(scheduler.live()).toEqual([1234]);
    scheduler.fireAll();
    await flush();
    await work.finish("k", retry);
    expect(scheduler.live()).toEqual([2000]);
  });

  it("an explicit add cuts a pending backoff short", async () => {
    const scheduler = new ManualScheduler();
    const work = controlledHandler();
    const queue = new WorkQueue(work.handler, 1, undefined, scheduler);
    queue.add("k");
    await flush();
    await work.finish("k", retry);
    expect(scheduler.live()).toEqual([1000]);

    queue.add("k");
    await flush();
    expect(scheduler.live()).toEqual([]);
    expect(work.calls).toEqual(["k", "k"]);
    await work.finish("k", done);
    // The cancelled timer must not bring the key back if it fires anyway.
    for (const entry of scheduler.pending) if (!entry.cancelled) entry.fire();
    await queue.idle();
    expect(work.calls).toEqual(["k", "k"]);
  });

  it("shutDown waits for the work in flight and takes no new work", async () => {
    const scheduler = new ManualScheduler();
    const work = controlledHandler();
    const queue = new WorkQueue(work.handler, 1, undefined, scheduler);
    queue.add("running");
    queue.add("waiting");
    queue.add("failing-later");
    await flush();
    expect(work.calls).toEqual(["running"]);

    let stopped = false;
    const stopping = queue.shutDown().then(() => {
      stopped = true;
    });
    await flush();
    expect(stopped).toBe(false);

    queue.add("new");
    queue.add("running");
    queue.addAfter("later", 10);
    await work.finish("running", retry);
    await stopping;
    expect(stopped).toBe(true);
    // Neither the waiting keys, nor the new ones, nor a rerun or retry of the finished one.
    expect(work.calls).toEqual(["running"]);
    expect(scheduler.live()).toEqual([]);
    expect(queue.depth()).toBe(0);
  });

  it("shutDown cancels pending backoffs", async () => {
    const scheduler = new ManualScheduler();
    const work = controlledHandler();
    const queue = new WorkQueue(work.handler, 1, undefined, scheduler);
    queue.add("k");
    await flush();
    await work.finish("k", retry);
    expect(scheduler.live()).toEqual([1000]);
    await queue.shutDown();
    expect(scheduler.live()).toEqual([]);
  });

  it("depth counts waiting, delayed and in-progress keys", async () => {
    const scheduler = new ManualScheduler();
    const work = controlledHandler();
    const queue = new WorkQueue(work.handler, 1, undefined, scheduler);
    queue.add("a");
    queue.add("b");
    queue.addAfter("c", 500);
    await flush();
    expect(queue.depth()).toBe(3);
    await work.finish("a");
    await work.finish("b");
    expect(queue.depth()).toBe(1);
    scheduler.fireAll();
    await flush();
    await work.finish("c");
    expect(queue.depth()).toBe(0);
  });
});
