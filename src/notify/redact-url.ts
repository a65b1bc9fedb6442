/**
 * A webhook URL as logs may show it: scheme, host and port only. Incoming-webhook URLs carry their secret in the
 * path (Slack's `/services/T…/B…/TOKEN`), the query or the userinfo, so all three are left out.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const hidden = parsed.pathname !== "/" || parsed.search !== "" || parsed.username !== "";
    return `${parsed.protocol}//${parsed.host}${hidden ? "/…" : "/"}`;
  } catch {
    return "(not a URL)";
  }
}
