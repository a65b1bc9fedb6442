import type { Condition } from "../../status/conditions.js";
import type { ManifestStatusView } from "../../status/status-store.js";
import { chainTree } from "./chain-tree.js";
import { driftTable } from "./drift-table.js";
import { historyTable, resultTag, revisionCell, timeOf } from "./history-table.js";
import { html, type Html } from "./html.js";
import { revisionOf } from "./page-document.js";
import { conditionTone, headline, manifestStates } from "./states.js";

function conditionItem(condition: Condition): Html {
  const tone = conditionTone(condition);
  // Drifted's message lists the drift items, which the drift table shows with their values.
  const explain = tone !== "good" && condition.type !== "Drifted";
  return html`<li class="cond ${tone}" ${explain ? "" : html` title="${condition.message}"`}>
    <b>${condition.type}</b> <span class="status">${condition.status}</span>
    <span class="reason">${condition.reason}</span
    >${explain ? html`<div class="msg">${condition.message}</div>` : ""}
  </li>`;
}

function lastReconcile(view: ManifestStatusView): Html {
  const last = view.lastReconcile;
  if (last === null) return html`<p class="muted">not reconciled yet</p>`;
  const revision = revisionOf(last);
  return html`<p class="last">
    Last reconcile ${resultTag(last.result)} at ${timeOf(last.at)} (${last.durationMs}
    ms)${revision === undefined ? "" : html`, revision ${revisionCell(revision)}`}
  </p>`;
}

function bucketList(buckets: readonly string[] | undefined): Html {
  if (buckets === undefined || buckets.length === 0) return html``;
  return html`<p class="buckets">
    Buckets: ${buckets.map((bucket, index) => html`${index > 0 ? " " : ""}<code>${bucket}</code>`)}
  </p>`;
}

/**
 * One manifest: what it is in a word, its conditions coloured by meaning, the chain it owns, each drift item with
 * the desired and the actual value, and its recent history. The data attributes are what the filter reads.
 */
export function manifestCard(view: ManifestStatusView, removed = false): Html {
  const states = manifestStates(view, removed);
  const { label, tone } = headline(states);
  const buckets = view.buckets ?? [];
  const warnings = view.warnings.map((warning) => html`<li>${warning}</li>`);
  return html`<article
    class="card ${tone}"
    id="m-${view.name}"
    data-name="${view.name}"
    data-buckets="${buckets.join(" ")}"
    data-states="${states.join(" ")}"
  >
    <header>
      <h2><a href="/status/${encodeURIComponent(view.name)}">${view.name}</a></h2>
      <span class="tag ${tone} headline">${label}</span>
      <span class="meta"
        >${view.mode} ·
        <code>${view.file ?? "(no file)"}</code
        >${view.generation === null ? "" : html` · generation <code>${view.generation}</code>`}</span
      >
    </header>
    <ul class="conditions">
      ${view.conditions.map(conditionItem)}
    </ul>
    ${bucketList(view.buckets)}
    <section class="chain">
      <h3>Chain</h3>
      ${chainTree(view.resources, view.instances, view.drift)}
    </section>
    ${driftTable(view.drift)}${
      warnings.length === 0
        ? ""
        : html`<ul class="warnings">
            ${warnings}
          </ul>`
    }${lastReconcile(view)}${historyTable(view.name, view.history, tone === "bad")}
  </article>`;
}
