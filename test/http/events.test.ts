import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { buildServer } from "../../src/http/server.js";
import { Metrics } from "../../src/observability/metrics.js";
import { StatusStore } from "../../src/status/status-store.js";

const token = "events-token";
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** A server on a free loopback port over a store the test writes to (inject() cannot stream). */
async function listening(statusToken?: string) {
  const status = new StatusStore(() => new Date("2026-03-01T10:00:00Z"));
  app = buildServer({
    status,
    isReady: () => true,
    registry: new Metrics({ defaultMetrics: false }).registry,
    statusToken,
    events: status,
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { status, url: `http://127.0.0.1:${port}/events` };
}

/** Reads the stream until `count` messages (blocks separated by a blank line, comments aside) have come. */
async function readMessages(response: Response, count: number): Promise<string[]> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  const messages = () => text.split("\n\n").filter((block) => block.startsWith("id:"));
  while (messages().length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return messages();
}

describe("GET /events", () => {
  it("streams each event as it happens, named by type, the notification body as data", async () => {
    const { status, url } = await listening();
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    const reading = readMessages(response, 2);
    status.setManifests([], []);
    status.setNotice("PruneSuspended", "5 of 6 manifests would be removed");
    status.setNotice("PruneSuspended", "5 of 6 manifests would be removed");
    status.setNotice("PruneSuspended", undefined);
    status.setNotice("PruneSuspended", "again");
    const [first, second] = await reading;
    expect(first).toBe(
      `id: 1\nevent: RemovalHeldBack\ndata: ${JSON.stringify({
        type: "RemovalHeldBack",
        manifest: null,
        target: null,
        message: "5 of 6 manifests would be removed",
        revision: null,
        time: "2026-03-01T10:00:00.000Z",
        details: {},
        text: "rolecall: removal held back: 5 of 6 manifests would be removed",
      })}`,
    );
    expect(second).toMatch(/^id: 2\nevent: RemovalHeldBack\ndata: .*"message":"again"/);
  });

  it("requires the status token when one is set", async () => {
    const { url } = await listening(token);
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    await response.body?.cancel();
  });

  it("does not keep the server from closing, and stops listening to the store", async () => {
    const { status, url } = await listening();
    const response = await fetch(url);
    const reader = response.body!.getReader();
    await reader.read();
    const closing = app!.close();
    app = undefined;
    await closing;
    expect((await reader.read()).done).toBe(true);
    // The stream's listener is gone: events after the close go nowhere and break nothing.
    expect(() => {
      status.setNotice("PruneSuspended", "later");
    }).not.toThrow();
  });
});
