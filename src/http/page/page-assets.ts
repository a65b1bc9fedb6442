import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

/**
 * The page's script and style sheet, from web/ at the package root (two folders up from src/http/page and from
 * dist/http/page alike). They are inlined into every page, so the page needs nothing but its own response, and
 * allowed by their hashes in the Content-Security-Policy: no other script or style can run, injected or not.
 */
const read = (file: string) => readFileSync(new URL(`../../../web/${file}`, import.meta.url), "utf8");

const digest = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

export interface PageAssets {
  readonly script: string;
  readonly style: string;
  /** The Content-Security-Policy every HTML response carries. */
  readonly contentSecurityPolicy: string;
  /** Changes with the assets: part of the page's ETag, so an upgrade is never answered 304. */
  readonly version: string;
}

let loaded: PageAssets | undefined;

export function pageAssets(): PageAssets {
  if (loaded !== undefined) return loaded;
  const script = read("status-page.js");
  const style = read("status-page.css");
  loaded = {
    script,
    style,
    contentSecurityPolicy: [
      "default-src 'none'",
      `script-src ${digest(script)}`,
      `style-src ${digest(style)}`,
      // The script refreshes the page by fetching it again, from the same origin only.
      "connect-src 'self'",
      // The page's only image is its empty icon (so that the browser does not ask for /favicon.ico).
      "img-src data:",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join("; "),
    version: createHash("sha256").update(script).update(style).digest("hex").slice(0, 16),
  };
  return loaded;
}
