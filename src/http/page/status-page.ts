import type { ManifestStatusView, StatusDocument } from "../../status/status-store.js";
import {
  isTargetsDocument,
  type TargetStatusSection,
  type TargetsStatusDocument,
} from "../../status/targets-status.js";
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

function notices(document: Pick<StatusDocument, "notices">): Html {
  return html`${document.notices.map((notice) => html`<p class="notice"><b>${notice.reason}</b>: ${notice.message}</p>`)}`;
}

function invalidFiles(errors: StatusDocument["errors"], id = "invalid-files", title = "Invalid files"): Html {
  if (errors.length === 0) return html``;
  const items = errors.map(
    (error) =>
      html`<li>
        <code>${`${error.file}:${error.line}:${error.column}`}</code> ${error.message}
        <code class="muted">${error.pointer}</code>
      </li>`,
  );
  return html`<section id="${id}" class="errors">
    <h2>${title} (${errors.length})</h2>
    <ul>
      ${items}
    </ul>
  </section>`;
}

/** One directory's manifests: its notices, invalid files, cards and removed manifests. */
function world(document: Omit<StatusDocument, "source" | "leadership">, invalidId?: string): Html {
  const cards = document.manifests.map((view) => manifestCard(view));
  const removed =
    document.removed.length === 0
      ? ""
      : html`<section class="removed">
          <h2>Removed manifests, being cleaned up (${document.removed.length})</h2>
          ${document.removed.map((view) => manifestCard(view, true))}
        </section>`;
  return html`${notices(document)}${invalidFiles(document.errors, invalidId)}
    <section class="cards">${cards.length === 0 ? html`<p class="muted">No manifests.</p>` : cards}</section>
    ${removed}`;
}

/** run --targets: a section per target, headed by its account and regions, with why it is unavailable. */
function targetSection(target: TargetStatusSection): Html {
  const banner =
    target.error === undefined
      ? target.state === "connecting"
        ? html`<p class="notice"><b>connecting</b>: the first attempt to reach the account is under way</p>`
        : ""
      : html`<p class="notice unavailable">
          <b>unavailable: ${target.error.code}</b> ${target.error.message}
          <span class="muted">(attempt ${target.error.attempts}; next ${target.error.retryAt})</span>
        </p>`;
  return html`<section class="target" id="target-${target.name}" data-target="${target.name}">
    <h2>
      target <code>${target.name}</code>
      <span class="muted">account ${target.account}; ${target.regions.join(", ")}</span>
      <span class="tag ${target.reachable ? "good" : "bad"}">${target.state}</span>
    </h2>
    ${banner}${world(target, `invalid-files-${target.name}`)}
  </section>`;
}

/** The summary bar over every target: their manifests counted together. */
function allTargets(document: TargetsStatusDocument): StatusDocument {
  return {
    ...(document.source === undefined ? {} : { source: document.source }),
    summary: document.summary,
    manifests: document.targets.flatMap((target) => target.manifests),
    removed: document.targets.flatMap((target) => target.removed),
    errors: [...document.outside, ...document.targets.flatMap((target) => target.errors)],
    notices: document.notices,
  };
}

/** /status for a browser: the same facts as the JSON, as a page that filters on the client and refreshes itself. */
export function renderStatusPage(
  document: StatusDocument | TargetsStatusDocument,
  options: PageOptions,
): string {
  if (!isTargetsDocument(document))
    return layout(
      "rolecall status",
      options,
      summaryBar(document),
      filterBox,
      html`${leadershipBanner(document)}${world(document)}`,
    );
  const content = html`${leadershipBanner(document)}${notices(document)}${invalidFiles(document.outside, "invalid-files", "Files in no target's directory")}
  ${document.targets.map(targetSection)}`;
  return layout("rolecall status", options, summaryBar(allTargets(document)), filterBox, content);
}

/** /status/:name for a browser: one manifest's card, refreshing itself like the whole page. */
export function renderManifestPage(
  view: ManifestStatusView,
  document: Pick<StatusDocument, "source">,
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
