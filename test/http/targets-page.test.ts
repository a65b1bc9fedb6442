import { describe, expect, it } from "vitest";
import { renderStatusPage } from "../../src/http/page/status-page.js";
import { strayFile, twoTargets } from "../support/targets-fixture.js";

const now = new Date("2030-01-01T00:00:00Z");

/** prod reached with one manifest; dev unavailable; a file in neither directory. */
function page(): string {
  const status = twoTargets(
    now,
    {
      state: "unavailable",
      code: "AssumeRoleFailed",
      message: "cannot act through role <x>",
      attempts: 4,
      retryAt: "2030-01-01T00:00:16.000Z",
    },
    [strayFile],
  );
  return renderStatusPage(status.document(), { etag: 'W/"x"' });
}

/** The HTML of one target's section. */
function section(html: string, name: string): string {
  const start = html.indexOf(`<section class="target" id="target-${name}"`);
  expect(start).toBeGreaterThanOrEqual(0);
  const next = html.indexOf('<section class="target"', start + 1);
  return html.slice(start, next === -1 ? undefined : next);
}

describe("the status page with --targets", () => {
  it("shows a section per target with its account and regions, the manifests in it, and why one is unavailable", () => {
    const html = page();
    const prod = section(html, "prod");
    expect(prod).toContain("account 111111111111; us-east-1, eu-west-1");
    expect(prod).toContain('data-name="web"');
    expect(prod).not.toContain("unavailable");
    const dev = section(html, "dev");
    expect(dev).toContain("unavailable: AssumeRoleFailed");
    // Escaped like everything else the page shows.
    expect(dev).toContain("cannot act through role &#60;x&#62;");
    expect(dev).toContain("attempt 4");
    expect(dev).not.toContain('data-name="web"');
  });

  it("lists the files in no target's directory above the targets, and counts every target in the summary", () => {
    const html = page();
    expect(html.indexOf("Files in no target&#39;s directory")).toBeLessThan(html.indexOf('id="target-prod"'));
    expect(html).toContain("/m/stray.yaml:1:1");
    expect(html).toMatch(/<b>1<\/b> manifests/);
  });
});
