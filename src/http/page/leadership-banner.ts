import type { LeadershipStatus, StatusDocument } from "../../status/status-store.js";
import { timeOf } from "./history-table.js";
import { html, type Html } from "./html.js";

function lease(leadership: LeadershipStatus): Html {
  return html`<span class="muted"
    >lease <code>${leadership.lease.name}</code> in table <code>${leadership.lease.table}</code></span
  >`;
}

const optionalTime = (label: string, iso: string | null): Html | string =>
  iso === null ? "" : html` ${label} ${timeOf(iso)}`;

/**
 * Who makes changes, from /status.leadership: this process (leading), another one (standby: who, since when,
 * until when its lease runs), or nobody else because no lease is configured. The same facts as `rolecall status`.
 */
export function leadershipBanner(document: Pick<StatusDocument, "leadership">): Html {
  const leadership = document.leadership;
  if (leadership === undefined)
    return html`<p id="leadership" class="leadership" data-leadership="alone">
      <span class="tag">no lease configured</span> this process makes changes alone
    </p>`;
  if (leadership.leading)
    return html`<p id="leadership" class="leadership" data-leadership="leading">
      <span class="tag good">leading</span> this process
      <code>${leadership.holderId}</code>${optionalTime("since", leadership.since)}${optionalTime(
        "· lease until",
        leadership.expiresAt,
      )}
      ${lease(leadership)}
    </p>`;
  const leader =
    leadership.leader === null
      ? html`no leader seen`
      : html`<code>${leadership.leader}</code> leads${optionalTime("since", leadership.since)}${optionalTime(
            "· its lease until",
            leadership.expiresAt,
          )}`;
  return html`<p id="leadership" class="leadership" data-leadership="standby">
    <span class="tag wait">standby</span> ${leader} ${lease(leadership)}
  </p>`;
}
