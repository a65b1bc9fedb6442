import type { ServerResponse } from "node:http";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { StatusEvent } from "../status/status-event.js";

/** Where /events gets its events from (the status store). */
export interface EventFeed {
  subscribe(listener: (event: StatusEvent) => void): () => void;
}

/** A comment line this often keeps proxies and load balancers from closing a quiet stream. */
const keepAliveMs = 15_000;
/** A client that reads slower than events come is cut off rather than buffered for without end. */
const maxBufferedBytes = 1024 * 1024;

/** One Server-Sent Events message: the event type as its name, the notification body as its data. */
export function sseMessage(id: number, event: StatusEvent): string {
  return `id: ${id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * GET /events: the events notifications carry, as Server-Sent Events (`curl -N`), from the moment of connecting.
 * Behind the status token when there is one. Streams end when the server closes.
 */
export function registerEventsRoute(
  app: FastifyInstance,
  feed: EventFeed,
  authorized: (header: string | undefined) => boolean,
): void {
  const open = new Set<ServerResponse>();
  let sequence = 0;
  app.addHook("preClose", (done) => {
    for (const stream of open) stream.end();
    done();
  });
  app.get("/events", (request, reply: FastifyReply) => {
    if (!authorized(request.headers.authorization))
      return reply
        .code(401)
        .header("www-authenticate", 'Bearer realm="rolecall"')
        .send({ error: "unauthorized" });
    void reply.hijack();
    const stream = reply.raw;
    stream.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
      connection: "keep-alive",
    });
    stream.write(": rolecall events\n\n");
    open.add(stream);
    const unsubscribe = feed.subscribe((event) => {
      sequence += 1;
      if (stream.writableLength > maxBufferedBytes) stream.destroy();
      else stream.write(sseMessage(sequence, event));
    });
    const keepAlive = setInterval(() => stream.write(": keep-alive\n\n"), keepAliveMs).unref();
    stream.once("close", () => {
      clearInterval(keepAlive);
      unsubscribe();
      open.delete(stream);
    });
    return reply;
  });
}
