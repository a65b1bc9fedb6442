/**
 * Whether a request asks for HTML rather than JSON: a browser's Accept lists text/html first; API clients, curl
 * (`*\/*`) and anything naming application/json first get JSON, which stays the default.
 */
export function prefersHtml(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  const html = accept.indexOf("text/html");
  const json = accept.indexOf("application/json");
  return html !== -1 && (json === -1 || html < json);
}
