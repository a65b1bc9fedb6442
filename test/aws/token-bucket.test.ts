import { describe, expect, it } from "vitest";
import { TokenBucket } from "../../src/aws/token-bucket.js";
import { VirtualClock } from "../support/virtual-clock.js";

/** Acquires `count` tokens at once and records the virtual time each was granted, in grant order. */
async function grantTimes(bucket: TokenBucket, clock: VirtualClock, count: number) {
  const order: number[] = [];
  const times: number[] = [];
  await Promise.all(
    Array.from({ length: count }, (_, index) =>
      bucket.acquire().then(() => {
        order.push(index);
        times.push(clock.now());
      }),
    ),
  );
  return { order, times };
}

describe("TokenBucket", () => {
  it("grants a full burst at once, without sleeping", async () => {
    const clock = new VirtualClock();
    const bucket = new TokenBucket(1, 5, clock);
    const { times } = await grantTimes(bucket, clock, 5);
    expect(times).toEqual([0, 0, 0, 0, 0]);
    expect(clock.sleeps).toEqual([]);
  });

  it("beyond the burst, grants at the refill rate", async () => {
    const clock = new VirtualClock();
    const bucket = new TokenBucket(4, 2, clock); // one token every 250 ms
    const { times } = await grantTimes(bucket, clock, 6);
    expect(times.slice(0, 2)).toEqual([0, 0]);
    for (const [index, time] of times.slice(2).entries()) expect(time).toBeCloseTo(250 * (index + 1), 6);
  });

  it("refills while idle, but never beyond the burst", async () => {
    const clock = new VirtualClock();
    const bucket = new TokenBucket(10, 3, clock);
    await grantTimes(bucket, clock, 3);
    await clock.sleep(60_000); // a long idle spell refills 3, not 600
    const start = clock.now();
    const { times } = await grantTimes(bucket, clock, 4);
    expect(times.slice(0, 3)).toEqual([start, start, start]);
    expect(times[3]).toBeCloseTo(start + 100, 6);
  });

  it("serves callers in arrival order", async () => {
    const clock = new VirtualClock();
    const bucket = new TokenBucket(100, 1, clock);
    const { order, times } = await grantTimes(bucket, clock, 20);
    expect(order).toEqual(Array.from({ length: 20 }, (_, index) => index));
    for (let index = 1; index < times.length; index += 1)
      expect(times[index]).toBeGreaterThan(times[index - 1]!);
  });

  it("pauseFor holds every caller back, even with tokens to spare", async () => {
    const clock = new VirtualClock();
    const bucket = new TokenBucket(10, 10, clock);
    await bucket.acquire();
    bucket.pauseFor(1500);
    const { times } = await grantTimes(bucket, clock, 3);
    expect(times).toEqual([1500, 1500, 1500]);
  });

  it("pauseFor keeps the longest pause and does not shorten one in force", async () => {
    const clock = new VirtualClock();
    const bucket = new TokenBucket(10, 10, clock);
    bucket.pauseFor(2000);
    bucket.pauseFor(500);
    await bucket.acquire();
    expect(clock.now()).toBe(2000);
  });

  it("a pause that ends in the past does nothing", async () => {
    const clock = new VirtualClock();
    const bucket = new TokenBucket(10, 10, clock);
    bucket.pauseFor(100);
    await clock.sleep(400);
    await bucket.acquire();
    expect(clock.now()).toBe(400);
  });
});
