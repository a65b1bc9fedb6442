import type { ActionRecord, ReconcileRecord } from "../../status/status-store.js";
import { html, type Html } from "./html.js";
import { revisionOf, shortRevision } from "./page-document.js";
import type { Tone } from "./states.js";

/** A pass that rewrote a whole chain lists a dozen actions; the first few say what happened. */
const actionsShown = 4;

/**
 * The page shows the newest few reconciles of each manifest (the JSON has all the store keeps): at 1,000
 * manifests, all ten would be most of the page's size and of the browser's time to show it.
 */
const entriesShown = 5;

const resultTone: Readonly<Record<ReconcileRecord["result"], Tone>> = {
  converged: "good",
  pending: "wait",
  drifted: "bad",
  failed: "bad",
};

const actionTone: Readonly<Record<ActionRecord["status"], Tone>> = {
  done: "good",
  planned: "wait",
  skipped: "none",
  failed: "bad",
};

export function resultTag(result: ReconcileRecord["result"]): Html {
  return html`<span class="tag ${resultTone[result]}">${result}</span>`;
}

/** A time as the page shows it: to the second, in UTC (the server cannot know the reader's zone). */
export function timeOf(iso: string): Html {
  const readable = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)/.exec(iso);
  return html`<time datetime="${iso}" title="${iso}"
    >${readable === null ? iso : `${readable[1]} ${readable[2]} UTC`}</time
  >`;
}

export function revisionCell(revision: string | null | undefined): Html {
  if (revision === undefined) return html``;
  if (revision === null) return html`<span class="muted">not in Git</span>`;
  return html`<code title="${revision}">${shortRevision(revision)}</code>`;
}

function changes(record: ReconcileRecord): Html {
  const actions = record.actions.slice(0, actionsShown).map(
    (action) =>
      html`<li>
        <span class="tag ${actionTone[action.status]}">${action.status}</span>
        ${action.description}${action.error === undefined ? "" : html` <span class="muted">${action.errorCode ?? "Error"}: ${action.error}</span>`}
      </li>`,
  );
  const more = record.actions.length - actionsShown;
  const error = record.error === null ? "" : html`<div class="error-text">${record.error}</div>`;
  if (actions.length === 0 && error === "") return html`<span class="muted">no action</span>`;
  return html`${error}
    <ul class="actions">
      ${actions}${more > 0 ? html`<li class="muted">and ${more} more</li>` : ""}
    </ul>`;
}

/**
 * A manifest's recent history: the reconciles that acted or changed its result, newest first. The revision
 * column appears once the daemon records which Git revision each reconcile applied.
 */
export function historyTable(name: string, history: readonly ReconcileRecord[], open: boolean): Html {
  if (history.length === 0) return html``;
  const withRevision = history.some((record) => revisionOf(record) !== undefined);
  const rows = history.slice(0, entriesShown).map(
    (record) =>
      html`<tr>
        <td class="when">${timeOf(record.at)}</td>
        ${withRevision ? html`<td>${revisionCell(revisionOf(record))}</td>` : ""}
        <td>${resultTag(record.result)}</td>
        <td>${changes(record)}</td>
      </tr>`,
  );
  return html`<details class="history" data-key="history:${name}" ${open ? html` open` : ""}>
    <summary>
      History
      (${history.length > entriesShown ? `newest ${entriesShown} of ${history.length}` : history.length})
    </summary>
    <table>
      <thead>
        <tr>
          <th>time</th>
          ${withRevision ? html`<th>revision</th>` : ""}
          <th>result</th>
          <th>what changed</th>
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>
  </details>`;
}
