import type { FastifyInstance } from "fastify";
import { pageAssets } from "./page/page-assets.js";

/**
 * Every response says its content type is to be believed (nosniff); every HTML response also carries the page's
 * Content-Security-Policy: only its own hashed script and style run, it loads nothing, and no site may frame it.
 * A hook rather than a call in each route, so that an HTML route added later cannot go without them.
 */
export function addSecurityHeaders(app: FastifyInstance): void {
  app.addHook("onSend", (_request, reply, payload, done) => {
    void reply.header("x-content-type-options", "nosniff");
    const type = reply.getHeader("content-type");
    if (typeof type === "string" && type.startsWith("text/html")) {
      void reply.header("content-security-policy", pageAssets().contentSecurityPolicy);
      void reply.header("referrer-policy", "no-referrer");
    }
    done(null, payload);
  });
}
