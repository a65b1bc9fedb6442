import type { Reason } from "../../plan/action.js";
import { html, type Html } from "./html.js";

/** Past this, a value (a whole policy document, say) is folded so that the table stays scannable. */
const foldAt = 120;

/** JSON values (policy documents, lists of names) are easier to compare indented. */
function readable(value: string): string {
  if (!/^[[{]/.test(value)) return value;
  try {
    return JSON.stringify(JSON.parse(value), null, 2);
  } catch {
    return value;
  }
}

function valueCell(value: string): Html {
  if (value.length <= foldAt) return html`<code class="value">${value}</code>`;
  return html`<details class="value">
    <summary><code>${value.slice(0, 60)}…</code></summary>
    <pre>${readable(value)}</pre>
  </details>`;
}

/** Each difference between the manifest and AWS, with what the manifest wants and what AWS has. */
export function driftTable(drift: readonly Reason[]): Html {
  if (drift.length === 0) return html``;
  const rows = drift.map(
    (item) =>
      html`<tr>
        <td><code>${item.resource}</code></td>
        <td>${item.field}</td>
        <td class="desired">${valueCell(item.desired)}</td>
        <td class="actual">${valueCell(item.actual)}</td>
      </tr>`,
  );
  return html`<section class="drift">
    <h3>Drift (${drift.length})</h3>
    <table>
      <thead>
        <tr>
          <th>resource</th>
          <th>field</th>
          <th>desired</th>
          <th>actual</th>
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>
  </section>`;
}
