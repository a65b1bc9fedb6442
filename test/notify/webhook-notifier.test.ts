import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { redactUrl } from "../../src/notify/redact-url.js";
import { WebhookNotifier, type NotifierSettings } from "../../src/notify/webhook-notifier.js";
import { createLogger } from "../../src/observability/logger.js";
import { stampEvent, type StatusEvent } from "../../src/status/status-event.js";
import { startReceiver, type WebhookReceiver } from "../support/webhook-receiver.js";

const receivers: WebhookReceiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});
async function receiver(secret?: string): Promise<WebhookReceiver> {
  const started = await startReceiver(secret);
  receivers.push(started);
  return started;
}

const event = (manifest: string): StatusEvent =>
  stampEvent(
    { type: "DriftDetected", message: "role/r attachedPolicies", details: { count: 1 } },
    manifest,
    null,
    new Date("2026-03-01T10:00:00Z"),
  );

const settings: NotifierSettings = { capacity: 10, timeoutMs: 300, attempts: 3, baseDelayMs: 1000 };

function notifier(urls: string[], overrides: Partial<NotifierSettings> = {}) {
  const counts = { sent: 0, failed: 0, dropped: 0 };
  const waits: number[] = [];
  const lines: string[] = [];
  const logger = createLogger(
    "debug",
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString());
        callback();
      },
    }),
  );
  const sender = new WebhookNotifier({
    urls,
    logger,
    settings: { ...settings, ...overrides },
    observer: {
      sent: () => (counts.sent += 1),
      failed: () => (counts.failed += 1),
      dropped: () => (counts.dropped += 1),
    },
    // Backoff waits are recorded, not waited for.
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
  });
  return { sender, counts, waits, lines };
}

describe("WebhookNotifier", () => {
  it("POSTs each event once to every receiver, the body exactly the event", async () => {
    const [a, b] = [await receiver(), await receiver()];
    const { sender, counts } = notifier([a.url, b.url]);
    sender.notify(event("alpha"));
    sender.notify(event("beta"));
    await sender.idle();
    expect(a.bodies).toEqual([event("alpha"), event("beta")]);
    expect(b.bodies).toEqual([event("alpha"), event("beta")]);
    expect(counts).toEqual({ sent: 4, failed: 0, dropped: 0 });
  });

  it("retries a 500 with doubling waits; gives up after the last attempt and counts it failed", async () => {
    const target = await receiver();
    target.answer(500, 503);
    const { sender, counts, waits } = notifier([target.url]);
    sender.notify(event("alpha"));
    await sender.idle();
    expect(target.bodies).toEqual([event("alpha")]);
    expect(waits).toEqual([1000, 2000]);
    target.answer(500, 500, 500);
    sender.notify(event("beta"));
    await sender.idle();
    expect(target.requests()).toBe(6);
    expect(counts).toEqual({ sent: 1, failed: 1, dropped: 0 });
  });

  it("does not retry a client error such as 404 (the URL is wrong; resending will not help)", async () => {
    const target = await receiver();
    target.answer(404);
    const { sender, counts } = notifier([target.url]);
    sender.notify(event("alpha"));
    await sender.idle();
    expect(target.requests()).toBe(1);
    expect(counts.failed).toBe(1);
  });

  it("a receiver that hangs times out, and delays neither notify() nor the other receivers", async () => {
    const [stuck, healthy] = [await receiver(), await receiver()];
    stuck.answer("hang");
    const { sender, counts } = notifier([stuck.url, healthy.url], { timeoutMs: 2000, attempts: 1 });
    const started = performance.now();
    for (let index = 0; index < 3; index += 1) sender.notify(event(`m${index}`));
    const enqueueMs = performance.now() - started;
    while (healthy.bodies.length < 3) await new Promise((resolve) => setTimeout(resolve, 10));
    // The healthy receiver has all three while the stuck one still holds the first.
    expect(counts).toEqual({ sent: 3, failed: 0, dropped: 0 });
    expect(stuck.requests()).toBe(1);
    await sender.idle();
    expect(performance.now() - started).toBeGreaterThanOrEqual(2000);
    expect(enqueueMs).toBeLessThan(100);
    expect(counts).toEqual({ sent: 5, failed: 1, dropped: 0 });
    expect(stuck.bodies).toEqual([event("m1"), event("m2")]);
  });

  it("drops and counts events past the queue's capacity", async () => {
    const target = await receiver();
    target.answer("hang");
    const { sender, counts } = notifier([target.url], { capacity: 2, attempts: 1 });
    for (let index = 0; index < 5; index += 1) sender.notify(event(`m${index}`));
    // One is being sent, two wait, two are dropped.
    expect(counts.dropped).toBe(2);
    await sender.idle();
    expect(counts).toEqual({ sent: 2, failed: 1, dropped: 2 });
  });

  it("never logs the URL's path, query or userinfo", async () => {
    const target = await receiver("T999/B999/hush-hush");
    target.answer(500, "hang");
    const { sender, lines } = notifier([target.url, "http://127.0.0.1:9/services/T999/B999/hush-hush"], {
      attempts: 2,
      capacity: 1,
    });
    for (let index = 0; index < 3; index += 1) sender.notify(event(`m${index}`));
    await sender.idle();
    const logged = lines.join("");
    expect(logged).toContain("notification failed");
    expect(logged).toContain("notification dropped");
    expect(logged).not.toMatch(/hush-hush|services|user|pass|token/);
    expect(redactUrl(target.url)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/…$/);
    expect(redactUrl("https://hooks.example.com/")).toBe("https://hooks.example.com/");
  });
});
