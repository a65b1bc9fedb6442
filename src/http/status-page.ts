import type { StatusDocument, ManifestStatusView } from "../status/status-store.js";

const escape = (value: unknown): string =>
  String(value).replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

/** /status for a browser: the same facts as the JSON, readable, refreshing itself. */
export function renderStatusPage(document: StatusDocument): string {
  const { summary } = document;
  const rows = document.manifests.map(renderManifest).join("\n");
  const removed = document.removed.map(renderManifest).join("\n");
  const errors = document.errors
    .map(
      (error) =>
        `<li><code>${escape(`${error.file}:${error.line}:${error.column}`)}</code> ${escape(error.message)} <code>${escape(error.pointer)}</code></li>`,
    )
    .join("\n");
  const notices = document.notices
    .map((notice) => `<p class="notice"><b>${escape(notice.reason)}</b>: ${escape(notice.message)}</p>`)
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>rolecall status</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.4em;text-align:left;vertical-align:top}code{font-size:12px}
.True{color:#176f2c}.False{color:#a3150d}.Unknown{color:#8a6d00}.notice{background:#fff4d6;padding:.5em}
</style></head><body>
<h1>rolecall</h1>
<p>${summary.manifests} manifest(s): ${summary.ready} ready, ${summary.drifted} drifted, ${summary.conflicts} in conflict, ${summary.invalid} invalid file(s). Last resync: ${escape(summary.lastResyncAt ?? "not yet")}.</p>
${notices}
<table><thead><tr><th>Manifest</th><th>Conditions</th><th>Drift</th><th>Instances</th><th>Last reconcile</th></tr></thead>
<tbody>${rows}</tbody></table>
${removed === "" ? "" : `<h2>Removed manifests</h2><table><tbody>${removed}</tbody></table>`}
${errors === "" ? "" : `<h2>Invalid files</h2><ul>${errors}</ul>`}
</body></html>`;
}

function renderManifest(manifest: ManifestStatusView): string {
  const conditions = manifest.conditions
    .map(
      (condition) =>
        `<div class="${escape(condition.status)}" title="${escape(condition.message)}">${escape(condition.type)}=${escape(condition.status)} <small>${escape(condition.reason)}</small></div>`,
    )
    .join("");
  const drift = manifest.drift
    .map((item) => `<div><code>${escape(item.resource)}</code> ${escape(item.field)}</div>`)
    .join("");
  const instances = manifest.instances
    .map(
      (instance) =>
        `<div><code>${escape(instance.id)}</code> ${escape(instance.state)}, ${escape(instance.association)}</div>`,
    )
    .join("");
  const last = manifest.lastReconcile;
  const reconcile =
    last === null
      ? ""
      : `${escape(last.result)} at ${escape(last.at)}${last.error === null ? "" : `<br><small>${escape(last.error)}</small>`}`;
  return `<tr><td><b>${escape(manifest.name)}</b><br><small>${escape(manifest.file ?? "")} · ${escape(manifest.mode)}</small></td><td>${conditions}</td><td>${drift}</td><td>${instances}</td><td>${reconcile}</td></tr>`;
}
