import type { ManifestStatusView, StatusDocument } from "../../status/status-store.js";
import { timeOf } from "./history-table.js";
import { html, type Html } from "./html.js";
import { shortRevision, sourceOf } from "./page-document.js";
import { manifestStates, type FilterState, type Tone } from "./states.js";

function count(value: number, label: string, tone: Tone, state: FilterState | ""): Html {
  const shade = value === 0 ? "none" : tone;
  return html`<a class="count ${shade}" href="#state=${state}" data-state="${state}"
    ><b>${value}</b> ${label}</a
  >`;
}

/** The Git revision in force, short, with its subject; not a link (the repository's address is not known). */
export function revisionLine(document: Pick<StatusDocument, "source">): Html {
  const source = sourceOf(document);
  if (source === undefined) return html``;
  if (source.revision === null)
    return html`<span class="revision"
      >manifests <code>${source.path}</code> are not in a Git work tree</span
    >`;
  return html`<span class="revision"
    >revision
    <code title="${source.revision}">${shortRevision(source.revision)}</code
    >${source.subject === null ? "" : html` <q>${source.subject}</q>`}${source.revisionTime === null ? "" : html` <span class="muted">committed ${timeOf(source.revisionTime)}</span>`}</span
  >`;
}

/** How many manifests are in each state (each manifest's states worked out once, not once per count). */
function tally(manifests: readonly ManifestStatusView[]): (state: FilterState) => number {
  const counts = new Map<FilterState, number>();
  for (const view of manifests)
    for (const state of manifestStates(view)) counts.set(state, (counts.get(state) ?? 0) + 1);
  return (state) => counts.get(state) ?? 0;
}

/** Counts by state (each a link that filters the cards to it), the last resync and the revision in force. */
export function summaryBar(document: StatusDocument): Html {
  const { summary, manifests } = document;
  const resync = summary.lastResyncAt;
  const inState = tally(manifests);
  return html`<header id="summary" class="summary">
    <h1>rolecall</h1>
    <nav class="counts">
      ${count(summary.manifests, "manifests", "none", "")}${count(summary.ready, "ready", "good", "ready")}${count(summary.drifted, "drifted", "bad", "drifted")}${count(summary.conflicts, "in conflict", "bad", "conflict")}${count(inState("failed"), "failed", "bad", "failed")}${count(inState("pending"), "pending", "wait", "pending")}${count(inState("invalid"), "invalid", "bad", "invalid")}${count(document.removed.length, "being removed", "wait", "removed")}
    </nav>
    <p class="facts">
      ${summary.invalid === 0 ? "" : html`<a class="tag bad" href="#invalid-files">${summary.invalid} invalid file(s)</a> `}last
      resync ${resync === null ? html`<span class="tag wait">not yet</span>` : timeOf(resync)}
      ${revisionLine(document)}
    </p>
  </header>`;
}
