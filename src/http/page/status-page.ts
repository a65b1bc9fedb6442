import type { ManifestStatusView, StatusDocument } from "../../status/status-store.js";
import { html, Html } from "./html.js";
import { leadershipBanner } from "./leadership-banner.js";
import { manifestCard } from "./manifest-card.js";
import { pageAssets } from "./page-assets.js";
import { revisionLine, summaryBar } from "./summary-bar.js";
import { filterStates } from "./states.js";

/** How often the page fetches itself again; the filter, scroll position and open sections survive it. */
const refreshMs = 5000;

interface PageOptions {
  /** The page's ETag: the script sends it back, and an unchanged status costs a 304. */
  readonly etag: string;
}

function layout(title: string, options: PageOptions, summary: Html, filter: Html, content: Html): string {
  const { script, style } = pageAssets();
  // Exactly the assets' text between the tags: the Content-Security-Policy allows them by their hashes.
  const styleElement = new Html(`<style>${style}</style>`);
  const scriptElement = new Html(`<script>${script}</script>`);
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title}</title>
        <link rel="icon" href="data:," />
        ${styleElement}
        <noscript><meta http-equiv="refresh" content="${refreshMs / 1000}" /></noscript>
      </head>
      <body data-refresh-ms="${refreshMs}" data-etag="${options.etag}">
        ${summary} ${filter}
        <main id="content">${content}</main>
        ${scriptElement}
      </body>
    </html>`.text;
}

const filterBox = html`<div class="filter" role="search">
  <input
    id="filter-text"
    type="search"
    placeholder="Filter by name or bucket"
    aria-label="Filter by name or bucket"
    autocomplete="off"
    spellcheck="false"
  />
  <select id="filter-state" aria-label="Filter by state">
    <option value="">any state</option>
    ${filterStates.map((state) => html`<option value="${state}">${state}</option>`)}
  </select>
  <span id="filter-count" class="muted"></span> <span id="refresh-note" class="muted"></span>
</div>`;

function notices(document: StatusDocument): Html {
  return html`${document.notices.map((notice) => html`<p class="notice"><b>${notice.reason}</b>: ${notice.message}</p>`)}`;
}

function invalidFiles(document: StatusDocument): Html {
  if (document.errors.length === 0) return html``;
  const items = document.errors.map(
    (error) =>
      html`<li>
        <code>${`${error.file}:${error.line}:${error.column}`}</code> ${error.message}
        <code class="muted">${error.pointer}</code>
      </li>`,
  );
  return html`<section id="invalid-files" class="errors">
    <h2>Invalid files (${document.errors.length})</h2>
    <ul>
      ${items}
    </ul>
  </section>`;
}

/** /status for a browser: the same facts as the JSON, as a page that filters on the client and refreshes itself. */
export function renderStatusPage(document: StatusDocument, options: PageOptions): string {
  const cards = document.manifests.map((view) => manifestCard(view));
  const removed =
    document.removed.length === 0
      ? ""
      : html`<section class="removed">
          <h2>Removed manifests, being cleaned up (${document.removed.length})</h2>
          ${document.removed.map((view) => manifestCard(view, true))}
        </section>`;
  const content = html`${leadershipBanner(document)}${notices(document)}${invalidFiles(document)}
    <section class="cards">${cards.length === 0 ? html`<p class="muted">No manifests.</p>` : cards}</section>
    ${removed}`;
  return layout("rolecall status", options, summaryBar(document), filterBox, content);
}

/** /status/:name for a browser: one manifest's card, refreshing itself like the whole page. */
export function renderManifestPage(
  view: ManifestStatusView,
  document: StatusDocument,
  options: PageOptions,
): string {
  const removed = view.conditions.some((condition) => condition.reason === "ManifestRemoved");
  const summary = html`<header id="summary" class="summary">
    <h1><a href="/status">rolecall</a> / ${view.name}</h1>
    <p class="facts">${revisionLine(document)}</p>
  </header>`;
  const toolbar = html`<div class="filter">
    <a href="/status">all manifests</a> <span id="refresh-note" class="muted"></span>
  </div>`;
  return layout(`${view.name} · rolecall status`, options, summary, toolbar, manifestCard(view, removed));
}
