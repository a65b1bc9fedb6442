import { startSimDaemon } from "../../scripts/sim-daemon.mjs";
import { parsePrometheusText } from "../support/prometheus-text.js";

const suffixes: Readonly<Record<string, readonly string[]>> = {
  histogram: ["_bucket", "_sum", "_count"],
  summary: ["", "_sum", "_count"],
};

/**
 * Every series name a real daemon (from dist/, on the simulated cloud) exports on /metrics: the families its
 * `# TYPE` lines declare, with their histogram and summary suffixes. Families without samples yet (no AWS error
 * so far) are declared all the same, so this is the whole set, not what happened to be observed.
 */
export async function exportedMetricNames(): Promise<Set<string>> {
  const daemon = await startSimDaemon({ manifests: "manifests", args: ["--resync", "60s"] });
  try {
    const response = await fetch(`${daemon.url}/metrics`);
    const exposition = parsePrometheusText(await response.text());
    const names = new Set<string>();
    for (const [family, type] of exposition.types)
      for (const suffix of suffixes[type] ?? [""]) names.add(`${family}${suffix}`);
    return names;
  } finally {
    await daemon.stop();
  }
}

const keywords = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "offset",
  "and",
  "or",
  "unless",
  "inf",
  "nan",
]);

/**
 * The metric names a PromQL expression reads: identifiers that are not functions (followed by "("), keywords,
 * label names (inside {…} or by/without/on/ignoring lists), strings, ranges or Grafana variables.
 */
export function metricNames(expression: string): string[] {
  const bare = expression
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "");
  const names = [...bare.matchAll(/(?<![\w:$.])([a-zA-Z_:][\w:]*)\b(?!\s*\()/g)].map((match) => match[1]!);
  return [...new Set(names.filter((name) => !keywords.has(name.toLowerCase())))];
}
