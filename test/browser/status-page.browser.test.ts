import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../../scripts/chromium.mjs";
import { startSimDaemon, waitUntil, type SimDaemon } from "../../scripts/sim-daemon.mjs";
import { buildServer } from "../../src/http/server.js";
import { Metrics } from "../../src/observability/metrics.js";
import { emptyManifestPlan } from "../../src/plan/manifest-plan.js";
import { StatusStore, type LeadershipStatus } from "../../src/status/status-store.js";

/*
 * The status page in a real browser: Debian's Chromium, driven by playwright-core. The first part runs against the
 * demo (the daemon from dist/ on the simulated cloud, over manifests/); the second against a status store this
 * file fills, to change it between refreshes and to put hostile text where a manifest or a file could.
 */

/*
 * The little of the DOM these checks touch inside the page. The project's types have no DOM library (its code
 * runs on Node), so the page-side callbacks are typed by this, declared for this module only.
 */
interface PageElement {
  textContent: string | null;
  hidden: boolean;
  value: string;
  readonly dataset: Record<string, string | undefined>;
}
interface PageDocument {
  getElementById(id: string): PageElement | null;
  addEventListener(
    type: string,
    listener: (event: { violatedDirective: string; blockedURI: string }) => void,
  ): void;
  dispatchEvent(event: Event): boolean;
}
declare const document: PageDocument;
declare const window: { violations?: string[] };

let browser: Browser | undefined;
let demo: SimDaemon | undefined;

/** A new page that records CSP violations and dialogs (an alert() would mean a value ran as script). */
async function open(
  url: string,
): Promise<{ page: Page; violations: () => Promise<string[]>; dialogs: string[] }> {
  const page = await browser!.newPage();
  const dialogs: string[] = [];
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.addInitScript(() => {
    const seen: string[] = [];
    window.violations = seen;
    document.addEventListener("securitypolicyviolation", (event) => {
      seen.push(`${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  await page.goto(url);
  return {
    page,
    dialogs,
    violations: () => page.evaluate(() => window.violations ?? ["the recorder did not run"]),
  };
}

const visibleNames = (page: Page) =>
  page.$$eval(".card[data-name]", (cards) =>
    (cards as unknown as PageElement[]).filter((card) => !card.hidden).map((card) => card.dataset.name),
  );

/** Makes the page refresh now (it refreshes when it becomes visible) and waits for the refresh to land. */
async function refreshNow(page: Page): Promise<string> {
  await page.evaluate(() => {
    document.getElementById("refresh-note")!.textContent = "";
    document.dispatchEvent(new Event("visibilitychange"));
  });
  await page.waitForFunction(() => document.getElementById("refresh-note")!.textContent !== "");
  return (await page.textContent("#refresh-note")) ?? "";
}

beforeAll(async () => {
  browser = await launchChromium();
  const daemon = await startSimDaemon({ manifests: "manifests", args: ["--resync", "60s"] });
  demo = daemon;
  await waitUntil("the demo to be ready", async () => (await fetch(`${daemon.url}/readyz`)).ok);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await demo?.stop();
});

describe("the demo's status page in Chromium", () => {
  it("renders the three manifests with their conditions, and runs without a CSP violation", async () => {
    const { page, violations } = await open(`${demo!.url}/status`);
    expect((await visibleNames(page)).sort()).toEqual(["analytics-reports", "dev-s3-read", "staging-logs"]);
    expect(await page.textContent("#summary .counts")).toMatch(/3 manifests.*2 ready.*1 drifted/s);
    // The demo runs alone: no --lease-table.
    expect(await page.getAttribute("#leadership", "data-leadership")).toBe("alone");
    expect(await page.textContent("#leadership")).toMatch(
      /no lease configured\s+this process makes changes alone/,
    );
    const drifted = page.locator('.card[data-name="staging-logs"] li.cond', { hasText: "Drifted" });
    expect(await drifted.getAttribute("class")).toBe("cond bad");
    const ready = page.locator('.card[data-name="dev-s3-read"] li.cond', { hasText: "Ready" });
    expect(await ready.getAttribute("class")).toBe("cond good");
    expect(await page.locator('.card[data-name="dev-s3-read"] .tree').textContent()).toMatch(
      /policy DevS3ReadAccess in place.*role DEV_ROLE in place.*instance profile DEV_PROFILE in place.*instance i-070823c5d33601d4f running associated/s,
    );
    expect(await violations()).toEqual([]);
    await page.close();
  });

  it("shows the drifted manifest's drift with the desired and the actual value", async () => {
    const { page } = await open(`${demo!.url}/status`);
    const rows = page.locator('.card[data-name="staging-logs"] .drift tbody tr');
    expect(await rows.count()).toBeGreaterThan(2);
    const cells = await rows.first().locator("td").allTextContents();
    expect(cells).toEqual(["policy/rolecall-staging-logs", "exists", "present", "absent"]);
    const association = page.locator('.card[data-name="staging-logs"] .drift tr', { hasText: "association" });
    expect(await association.first().locator("td.desired").textContent()).toBe("rolecall-staging-logs");
    expect(await association.first().locator("td.actual").textContent()).toBe("(none)");
    await page.close();
  });

  it("filters by name and by state, keeps the filter in the hash, and through a reload and a refresh", async () => {
    const { page } = await open(`${demo!.url}/status`);
    await page.fill("#filter-text", "dev");
    expect(await visibleNames(page)).toEqual(["dev-s3-read"]);
    expect(new URL(page.url()).hash).toBe("#q=dev");
    expect(await page.textContent("#filter-count")).toBe("1 of 3 shown");
    await page.fill("#filter-text", "");
    expect((await visibleNames(page)).length).toBe(3);
    await page.selectOption("#filter-state", "drifted");
    expect(await visibleNames(page)).toEqual(["staging-logs"]);

    await page.reload();
    expect(await page.inputValue("#filter-state")).toBe("drifted");
    expect(await visibleNames(page)).toEqual(["staging-logs"]);
    expect(await refreshNow(page)).toMatch(/^(updated|checked)/);
    expect(await visibleNames(page)).toEqual(["staging-logs"]);

    // The summary's counts are links that filter.
    await page.click('#summary a.count[data-state="ready"]');
    await page.waitForFunction(() => document.getElementById("filter-state")!.value === "ready");
    expect((await visibleNames(page)).sort()).toEqual(["analytics-reports", "dev-s3-read"]);
    await page.close();
  });

  it("/status/:name is a page of its own", async () => {
    const { page, violations } = await open(`${demo!.url}/status/staging-logs`);
    expect(await visibleNames(page)).toEqual(["staging-logs"]);
    expect(await page.textContent(".drift")).toContain("absent");
    expect(await refreshNow(page)).toMatch(/^(updated|checked)/);
    expect(await violations()).toEqual([]);
    await page.close();
  });
});

describe("the page over a store this test changes", () => {
  let app: FastifyInstance | undefined;
  let store: StatusStore;
  let url: string;
  let files: string;
  let hostileDaemon: SimDaemon | undefined;

  const converged = (name: string, description: string) => {
    store.recordReconcile(
      {
        manifest: name,
        mode: "enforce",
        status: "converged",
        retryable: false,
        errors: [],
        warnings: [],
        plan: emptyManifestPlan(name, "enforce"),
        outcomes: [],
      },
      {
        at: new Date().toISOString(),
        reconcileId: "r1",
        result: "converged",
        durationMs: 1,
        actions: [{ description, status: "done" }],
        error: null,
      },
    );
  };

  beforeAll(async () => {
    store = new StatusStore();
    const evil = `<script>alert("name")</script><img src=x onerror="alert('img')">`;
    store.setManifests(
      [
        {
          name: "reports-a",
          file: "a.yaml",
          generation: "a1",
          mode: "enforce",
          buckets: ["finance-reports"],
        },
        { name: "reports-b", file: "b.yaml", generation: "b1", mode: "enforce", buckets: ["ops-logs"] },
        { name: evil, file: `${evil}.yaml`, generation: "e1", mode: "enforce", buckets: [evil] },
      ],
      [
        {
          file: `${evil}.yaml`,
          line: 1,
          column: 1,
          message: evil,
          pointer: "/metadata/name",
          code: "SchemaViolation",
        },
      ],
    );
    app = buildServer({
      status: store,
      isReady: () => true,
      registry: new Metrics({ defaultMetrics: false }).registry,
    });
    url = await app.listen({ host: "127.0.0.1", port: 0 });

    // And the same through the daemon: a file whose name and content hold markup.
    files = await mkdtemp(path.join(os.tmpdir(), "rolecall-browser-"));
    await writeFile(
      path.join(files, "<script>alert(1)<\\script>.yaml"),
      'apiVersion: rolecall.dev/v1alpha1\nkind: InstanceAccess\nmetadata:\n  name: "<script>alert(2)</script>"\nspec: {}\n',
    );
    const daemon = await startSimDaemon({ manifests: files, args: ["--resync", "60s"] });
    hostileDaemon = daemon;
    await waitUntil("the daemon to read its directory", async () => {
      const document = (await (await fetch(`${daemon.url}/status`)).json()) as { errors: unknown[] };
      return document.errors.length > 0;
    });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await hostileDaemon?.stop();
    await rm(files, { recursive: true, force: true });
  });

  it("filters by bucket", async () => {
    const { page } = await open(`${url}/status`);
    await page.fill("#filter-text", "finance");
    expect(await visibleNames(page)).toEqual(["reports-a"]);
    await page.fill("#filter-text", "logs");
    expect(await visibleNames(page)).toEqual(["reports-b"]);
    await page.close();
  });

  it("a refresh brings in what changed and keeps the filter and the open sections", async () => {
    const { page } = await open(`${url}/status#q=reports`);
    expect(await visibleNames(page)).toEqual(["reports-a", "reports-b"]);
    expect(await refreshNow(page)).toMatch(/^checked/); // nothing new: a 304
    converged("reports-a", "create role rolecall-reports-a");
    expect(await refreshNow(page)).toMatch(/^updated/);
    const history = page.locator('.card[data-name="reports-a"] details.history');
    expect(await history.textContent()).toContain("create role rolecall-reports-a");
    await history.locator("summary").click();
    expect(await history.getAttribute("open")).not.toBeNull();
    converged("reports-a", "attach policy rolecall-reports-a to role rolecall-reports-a");
    expect(await refreshNow(page)).toMatch(/^updated/);
    expect(await history.getAttribute("open")).not.toBeNull();
    expect(await history.textContent()).toContain("attach policy");
    expect(await visibleNames(page)).toEqual(["reports-a", "reports-b"]);
    expect(await page.inputValue("#filter-text")).toBe("reports");
    await page.close();
  });

  it("shows leadership from /status.leadership, and follows it through a refresh", async () => {
    const lease = { table: "rolecall-lease", name: "rolecall" };
    const standby: LeadershipStatus = {
      lease,
      holderId: "host-b-42-1a2b3c4d",
      leading: false,
      leader: "host-a-7-9f8e7d6c",
      since: "2026-03-01T09:00:00.000Z",
      expiresAt: "2026-03-01T10:00:12.000Z",
    };
    let leadership = standby;
    store.setLeadership(() => leadership);
    try {
      const { page, violations } = await open(`${url}/status`);
      const banner = page.locator("#leadership");
      expect(await banner.getAttribute("data-leadership")).toBe("standby");
      expect((await banner.textContent())?.replace(/\s+/g, " ").trim()).toBe(
        "standby host-a-7-9f8e7d6c leads since 2026-03-01 09:00:00 UTC · its lease until 2026-03-01 10:00:12 UTC lease rolecall in table rolecall-lease",
      );
      expect(await banner.locator("time").first().getAttribute("datetime")).toBe(standby.since);
      leadership = { ...standby, leading: true, leader: standby.holderId, since: "2026-03-01T10:00:20.000Z" };
      expect(await refreshNow(page)).toMatch(/^updated/);
      expect(await banner.getAttribute("data-leadership")).toBe("leading");
      expect(await banner.textContent()).toMatch(
        /leading\s+this process\s+host-b-42-1a2b3c4d\s+since 2026-03-01 10:00:20 UTC/,
      );
      expect(await page.locator("#leadership .tag").getAttribute("class")).toBe("tag good");
      leadership = { ...standby, leader: null, since: null, expiresAt: null };
      expect(await refreshNow(page)).toMatch(/^updated/);
      expect((await banner.textContent())?.replace(/\s+/g, " ").trim()).toBe(
        "standby no leader seen lease rolecall in table rolecall-lease",
      );
      expect(await violations()).toEqual([]);
      await page.close();
    } finally {
      store.setLeadership(undefined);
    }
  });

  it("a manifest named, or a file holding, <script> renders as text and runs nothing", async () => {
    for (const target of [`${url}/status`, `${hostileDaemon!.url}/status`]) {
      const { page, dialogs, violations } = await open(target);
      const text = (await page.textContent("body")) ?? "";
      expect(text).toContain("<script>alert(");
      expect(await page.$$("main script, main img")).toEqual([]);
      expect(dialogs).toEqual([]);
      expect(await violations()).toEqual([]);
      await page.close();
    }
    const { page } = await open(`${url}/status`);
    const heading = await page.locator(".card h2").allTextContents();
    expect(heading).toContain(`<script>alert("name")</script><img src=x onerror="alert('img')">`);
    await page.close();
  });
});
