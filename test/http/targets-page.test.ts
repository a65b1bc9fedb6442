import { describe, expect, it } from "vitest";
import { renderStatusPage } from "../../src/http/page/status-page.js";
import { StatusStore } from "../../src/status/status-store.js";
import { TargetsStatus } from "../../src/status/targets-status.js";

const now = new Date("2030-01-01T00:00:00Z");

/** prod reached with one manifest; dev unavailable; a file in neither directory. */
function page(): string {
  const prod = new StatusStore(() => now, "prod");
  prod.setManifests([{ name: "web", file: "/m/prod/web.yaml", generation: "g1", mode: "enforce" }], []);
  const status = new TargetsStatus(
    new StatusStore(() => now),
    [
      {
        name: "prod",
        account: "111111111111",
        regions: ["us-east-1", "eu-west-1"],
        store: prod,
        reach: () => ({ state: "reachable", since: now.toISOString() }),
        ready: () => true,
      },
      {
        name: "dev",
        account: "222222222222",
        regions: ["us-east-1"],
        store: new StatusStore(() => now, "dev"),
        reach: () => ({
          state: "unavailable",
          code: "AssumeRoleFailed",
          message: "cannot act through role <x>",
          attempts: 4,
          retryAt: "2030-01-01T00:00:16.000Z",
        }),
        ready: () => false,
      },
    ],
    () => [
      {
        file: "/m/stray.yaml",
        line: 1,
        column: 1,
        message: "in no target",
        pointer: "",
        code: "OutsideTargets",
      },
    ],
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
