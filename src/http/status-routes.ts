import { createHash } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { InstanceExplanation } from "../explain/explain-instance.js";
import type { ManifestStatusView, StatusDocument } from "../status/status-store.js";
import type { TargetsStatusDocument } from "../status/targets-status.js";
import { prefersHtml } from "./negotiate.js";
import { html } from "./page/html.js";
import { pageAssets } from "./page/page-assets.js";
import { sourceOf } from "./page/page-document.js";
import { renderManifestPage, renderStatusPage } from "./page/status-page.js";

/** What the routes read: the status store, or (run --targets) every target's at once. */
export interface StatusReader {
  document(): StatusDocument | TargetsStatusDocument;
  /** `target` (the `?target=` of the request, run --targets only): look in that target alone. */
  manifest(name: string, target?: string): ManifestStatusView | undefined;
  /** One instance as `rolecall explain --instance` shows it, from the daemon's last pass. */
  instance(instanceId: string, target?: string): InstanceExplanation | undefined;
}

type TargetQuery = { Querystring: { target?: string } };

/**
 * Answers with the page, or 304 when the browser already has it: the page refreshes itself every few seconds,
 * and most refreshes find nothing new. The ETag is taken from the facts the page shows (and the page's own
 * version), before rendering, so an unchanged status costs neither the rendering nor the transfer.
 */
function sendPage(
  request: FastifyRequest,
  reply: FastifyReply,
  facts: unknown,
  render: (etag: string) => string,
): FastifyReply {
  const hash = createHash("sha1").update(pageAssets().version).update(JSON.stringify(facts));
  const etag = `W/"${hash.digest("base64url")}"`;
  void reply.header("etag", etag).header("cache-control", "no-cache");
  const presented = request.headers["if-none-match"]?.split(",").map((tag) => tag.trim()) ?? [];
  if (presented.includes(etag)) return reply.code(304).send();
  return reply.type("text/html; charset=utf-8").send(render(etag));
}

function notFoundPage(name: string): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>not found · rolecall status</title>
      </head>
      <body>
        <p>No manifest named <code>${name}</code>. <a href="/status">All manifests</a></p>
      </body>
    </html>`.text;
}

/** /status, /status/:name and /status/instances/:id: JSON by default, the page for a browser (content negotiation on Accept). */
export function registerStatusRoutes(
  app: FastifyInstance,
  status: StatusReader,
  authorized: (header: string | undefined) => boolean,
): void {
  const refuse = (reply: FastifyReply) =>
    reply.code(401).header("www-authenticate", 'Bearer realm="rolecall"').send({ error: "unauthorized" });

  app.get("/status", (request, reply) => {
    if (!authorized(request.headers.authorization)) return refuse(reply);
    void reply.header("vary", "Accept");
    const document = status.document();
    if (!prefersHtml(request.headers.accept)) return document;
    return sendPage(request, reply, ["status", document], (etag) => renderStatusPage(document, { etag }));
  });

  app.get<{ Params: { name: string } } & TargetQuery>("/status/:name", (request, reply) => {
    if (!authorized(request.headers.authorization)) return refuse(reply);
    void reply.header("vary", "Accept");
    const { name } = request.params;
    const manifest = status.manifest(name, targetOf(request.query));
    const wantsPage = prefersHtml(request.headers.accept);
    if (manifest === undefined) {
      if (wantsPage) return reply.code(404).type("text/html; charset=utf-8").send(notFoundPage(name));
      return reply.code(404).send({ error: `no manifest named "${name}"` });
    }
    if (!wantsPage) return manifest;
    const document = status.document();
    return sendPage(request, reply, ["manifest", manifest, sourceOf(document)], (etag) =>
      renderManifestPage(manifest, document, { etag }),
    );
  });

  // Who can reach what from one instance, as `rolecall explain --instance ID --output json` prints it, but from the
  // daemon's last pass: no AWS call is made for it.
  app.get<{ Params: { id: string } } & TargetQuery>("/status/instances/:id", (request, reply) => {
    if (!authorized(request.headers.authorization)) return refuse(reply);
    const explanation = status.instance(request.params.id, targetOf(request.query));
    if (explanation === undefined) {
      return reply.code(404).send({ error: `instance "${request.params.id}" is not known to the last pass` });
    }
    return explanation;
  });
}

/** `?target=NAME`, when given once as a plain string (anything else is no filter). */
function targetOf(query: { target?: unknown }): string | undefined {
  return typeof query.target === "string" && query.target !== "" ? query.target : undefined;
}
