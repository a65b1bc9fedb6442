import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
} from "fastify";
import type { MetricsSource } from "../observability/merged-registry.js";
import type { Logger } from "../observability/logger.js";
import { bearerTokenMatches } from "./bearer-token.js";
import { addSecurityHeaders } from "./security-headers.js";
import { registerEventsRoute, type EventFeed } from "./events-route.js";
import { registerStatusRoutes, type StatusReader } from "./status-routes.js";

export interface ServerDeps {
  readonly status: StatusReader;
  readonly isReady: () => boolean;
  /**
   * run --targets: what /readyz adds to its body, ready or not (the targets unavailable, those not done with
   * their first pass). None: the body is as it always was.
   */
  readonly readinessDetails?: () => Readonly<Record<string, unknown>>;
  readonly registry: MetricsSource;
  /** When set, /status requires `Authorization: Bearer <token>`. */
  readonly statusToken?: string | undefined;
  readonly logger?: Logger;
  /** The events /events streams; without it, /events is not served. */
  readonly events?: EventFeed;
}

/** No route takes a body; anything larger than this is refused before it is read. */
const bodyLimit = 1024;

/** The HTTP API, built apart from listen() so tests drive it with inject(). It only reads; it changes nothing. */
export function buildServer(deps: ServerDeps): FastifyInstance {
  const logger: FastifyBaseLogger | undefined = deps.logger;
  const app: FastifyInstance = Fastify({
    ...(logger === undefined ? { logger: false } : { loggerInstance: logger }),
    // Probes and scrapes every few seconds would drown the controller's own log lines.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    routerOptions: { maxParamLength: 200 },
    return503OnClosing: true,
    // Errors the router raises before any route runs (a malformed URL, an over-long manifest name) get the same
    // short body as every other error, instead of Fastify's default, which echoes the whole URL back.
    frameworkErrors: (error, _request, reply) => {
      const statusCode = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 400;
      void (reply as FastifyReply)
        .code(statusCode)
        .send({ error: statusCode === 414 ? "name too long" : "bad request" });
    },
  });

  app.setErrorHandler((error: { statusCode?: number; message?: string }, request, reply) => {
    const statusCode =
      error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500
        ? error.statusCode
        : 500;
    if (statusCode === 500) request.log.error({ err: error }, "request failed");
    // Clients get a short reason, never a stack trace.
    void reply
      .code(statusCode)
      .send({ error: statusCode === 500 ? "internal error" : (error.message ?? "bad request") });
  });
  app.setNotFoundHandler((_request, reply) => {
    void reply.code(404).send({ error: "not found" });
  });

  // Fastify applies bodyLimit only to the bodies it parses, and it parses none on GET or HEAD: a GET announcing
  // megabytes would be answered 200 while the server reads and discards them. Refused whatever the method, and the
  // connection closed rather than drained.
  app.addHook("onRequest", (request, reply, done) => {
    if (Number(request.headers["content-length"] ?? 0) > bodyLimit) {
      void reply.code(413).header("connection", "close").send({ error: "Request body is too large" });
      return;
    }
    done();
  });

  addSecurityHeaders(app);

  app.get("/healthz", () => ({ status: "ok" }));

  app.get("/readyz", (_request, reply) => {
    const details = deps.readinessDetails?.() ?? {};
    if (deps.isReady()) return { status: "ready", ...details };
    return reply.code(503).send({
      status: "not ready",
      reason: "manifests not loaded or first full pass not finished",
      ...details,
    });
  });

  const authorized = (header: string | undefined) =>
    deps.statusToken === undefined || bearerTokenMatches(header, deps.statusToken);

  registerStatusRoutes(app, deps.status, authorized);
  if (deps.events !== undefined) registerEventsRoute(app, deps.events, authorized);

  app.get("/metrics", async (_request, reply) => {
    const body = await deps.registry.metrics();
    return reply.type(deps.registry.contentType).send(body);
  });

  return app;
}
