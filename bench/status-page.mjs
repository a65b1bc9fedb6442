/* global document, requestAnimationFrame */
// Benchmark: the /status page at 1,000 manifests, in Debian's Chromium (playwright-core). Not part of npm test.
// Usage: npm run bench:status-page (builds first), or node bench/status-page.mjs [--manifests N] [--runs N]
//
// A status store is filled with N generated manifests, worse than a typical account: every one has two
// instances, 1 to 3 buckets and a history of 1 to 10 reconciles of 7 actions; 10% are observe-mode and drifted
// (7 drift items, one a whole policy document), 5% fail, 5% share a composite profile. It is served by the
// daemon's own HTTP server (from dist/), and the script measures: the page's size (and gzipped, for a proxy that
// compresses), the server's time to answer it, and in Chromium the time to a rendered page, a filter keystroke,
// and a refresh that brings new content. Medians of --runs runs.
import { existsSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { launchChromium } from "../scripts/chromium.mjs";
import { mulberry32 } from "../test/support/seeded-random.mjs";

const distHttp = fileURLToPath(new URL("../dist/http/server.js", import.meta.url));
if (!existsSync(distHttp)) {
  console.error(`${distHttp} is missing: run \`npm run build\` first (npm run bench:status-page does)`);
  process.exit(1);
}
const { buildServer } = await import("../dist/http/server.js");
const { StatusStore } = await import("../dist/status/status-store.js");
const { Metrics } = await import("../dist/observability/metrics.js");
const { emptyManifestPlan } = await import("../dist/plan/manifest-plan.js");

const option = (name, fallback) => {
  const index = process.argv.indexOf(name);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
};
const manifestCount = option("--manifests", 1000);
const runs = option("--runs", 5);

const next = mulberry32(20261202);
const pick = (items) => items[Math.floor(next() * items.length)];
const between = (low, high) => low + Math.floor(next() * (high - low + 1));
const hex = (length) => Array.from({ length }, () => pick([..."0123456789abcdef"])).join("");
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const account = "123456789012";
const arn = (kind, name) => `arn:aws:iam::${account}:${kind}/rolecall/${name}`;

function chainActions(name, instances) {
  return [
    `create policy ${name}`,
    `create role ${name}`,
    `attach policy ${name} to role ${name}`,
    `create instance profile ${name}`,
    `add role ${name} to instance profile ${name}`,
    ...instances.map((id) => `associate instance profile ${name} with ${id}`),
  ];
}

function policyDocument(buckets) {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: buckets.flatMap((bucket) => [
      {
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:GetObjectVersion"],
        Resource: [`arn:aws:s3:::${bucket}/*`],
      },
      {
        Effect: "Allow",
        Action: ["s3:ListBucket", "s3:GetBucketLocation"],
        Resource: [`arn:aws:s3:::${bucket}`],
      },
    ]),
  });
}

function fill(store) {
  const entries = [];
  const kinds = [];
  for (let index = 0; index < manifestCount; index += 1) {
    const roll = next();
    const kind = roll < 0.1 ? "drifted" : roll < 0.15 ? "failed" : roll < 0.2 ? "composite" : "converged";
    const name = `${pick(["data", "web", "ml", "billing", "search", "ops"])}-${pick(["dev", "staging", "prod"])}-${index}`;
    const buckets = Array.from(
      { length: between(1, 3) },
      () => `${pick(["reports", "logs", "exports", "assets"])}-${hex(6)}`,
    );
    entries.push({
      name,
      file: `manifests/${name}.yaml`,
      generation: hex(16),
      mode: kind === "drifted" ? "observe" : "enforce",
      buckets,
    });
    kinds.push({ name, kind, buckets });
  }
  store.setManifests(entries, []);
  for (const { name, kind, buckets } of kinds) record(store, name, kind, buckets);
  store.markResync(new Date());
}

function record(store, name, kind, buckets) {
  const ids = [`i-0${hex(16)}`, `i-0${hex(16)}`];
  const mode = kind === "drifted" ? "observe" : "enforce";
  const composite = `rolecall+${hex(12)}`;
  const instances = ids.map((id, position) => ({
    id,
    state: pick(["running", "running", "stopped"]),
    association: kind === "drifted" ? "pending" : "associated",
    profile: kind === "composite" && position === 1 ? composite : name,
    ...(kind === "composite" && position === 1 ? { sharedWith: [`web-prod-${between(0, 999)}`] } : {}),
  }));
  const drift =
    kind === "drifted"
      ? [
          {
            resource: `policy/${name}`,
            field: "document",
            desired: policyDocument(buckets),
            actual: policyDocument(buckets.slice(1)),
          },
          {
            resource: `role/${name}`,
            field: "attachedPolicies",
            desired: JSON.stringify([name]),
            actual: "[]",
          },
          { resource: `role/${name}`, field: "trustPolicy", desired: "ec2.amazonaws.com", actual: "(none)" },
          {
            resource: `instance-profile/${name}`,
            field: "roles",
            desired: JSON.stringify([name]),
            actual: "[]",
          },
          {
            resource: `instance-profile/${name}`,
            field: "tags",
            desired: "rolecall.dev/managed-by=rolecall",
            actual: "(none)",
          },
          ...ids.map((id) => ({
            resource: `instance/${id}`,
            field: "association",
            desired: name,
            actual: "(none)",
          })),
        ]
      : [];
  const plan = {
    ...emptyManifestPlan(name, mode),
    drift,
    instances,
    resources:
      kind === "drifted"
        ? {}
        : {
            policyArn: arn("policy", name),
            roleArn: arn("role", name),
            instanceProfileArn: arn("instance-profile", name),
          },
  };
  const status = kind === "composite" ? "converged" : kind;
  const entries = between(1, 10);
  for (let entry = 0; entry < entries; entry += 1) {
    const failedNow = status === "failed" && entry % 2 === 1;
    const actions = chainActions(name, ids).map((description) => ({
      description,
      status: mode === "observe" ? "planned" : failedNow ? "failed" : "done",
      ...(failedNow
        ? { errorCode: "AccessDenied", error: "User is not authorized to perform iam:CreateRole" }
        : {}),
    }));
    store.recordReconcile(
      {
        manifest: name,
        mode,
        status: failedNow ? "failed" : status === "failed" ? "converged" : status,
        retryable: false,
        errors: [],
        warnings: [],
        plan,
        outcomes: [],
      },
      {
        at: new Date(Date.now() - (entries - entry) * 60_000).toISOString(),
        reconcileId: hex(8),
        result: failedNow ? "failed" : status === "failed" ? "converged" : status,
        durationMs: between(5, 900),
        // Each entry differs from the one before it, so that history keeps them all (the worst case).
        actions: actions.map((action, position) =>
          position === entry % actions.length
            ? { ...action, description: `${action.description} (${entry})` }
            : action,
        ),
        error: failedNow
          ? "create role: AccessDenied: User is not authorized to perform iam:CreateRole"
          : null,
      },
    );
  }
}

async function timeServer(app, headers) {
  const times = [];
  let body = "";
  for (let run = 0; run < runs; run += 1) {
    const started = performance.now();
    const response = await app.inject({ url: "/status", headers });
    times.push(performance.now() - started);
    body = response.body;
  }
  return { ms: median(times), body };
}

async function timeBrowser(url, store) {
  const browser = await launchChromium();
  const loads = [];
  const keystrokes = [];
  const refreshes = [];
  try {
    for (let run = 0; run < runs; run += 1) {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page.goto(url, { waitUntil: "load" });
      // Navigation start to the load event, after which the first frame is painted (one animation frame later).
      loads.push(
        await page.evaluate(
          () =>
            new Promise((resolve) => {
              requestAnimationFrame(() => {
                setTimeout(() => {
                  const navigation = performance.getEntriesByType("navigation")[0];
                  resolve(performance.now() - navigation.startTime);
                }, 0);
              });
            }),
        ),
      );
      keystrokes.push(
        await page.evaluate(() => {
          const input = document.getElementById("filter-text");
          const started = performance.now();
          input.value = "prod";
          input.dispatchEvent(new Event("input"));
          void document.body.offsetHeight; // the layout the filter causes, too
          return performance.now() - started;
        }),
      );
      // Something new for the refresh to bring: another reconcile of the first manifest.
      record(store, store.names()[0], "converged", ["reports-bench"]);
      refreshes.push(
        await page.evaluate(async () => {
          const note = document.getElementById("refresh-note");
          note.textContent = "";
          const started = performance.now();
          document.dispatchEvent(new Event("visibilitychange"));
          while (note.textContent === "") await new Promise((resolve) => setTimeout(resolve, 5));
          if (!note.textContent.startsWith("updated"))
            throw new Error(`the refresh did not update: ${note.textContent}`);
          void document.body.offsetHeight;
          return performance.now() - started;
        }),
      );
      await page.close();
    }
  } finally {
    await browser.close();
  }
  return { loadMs: median(loads), keystrokeMs: median(keystrokes), refreshMs: median(refreshes) };
}

const store = new StatusStore();
fill(store);
const app = buildServer({
  status: store,
  isReady: () => true,
  registry: new Metrics({ defaultMetrics: false }).registry,
});
const url = `${await app.listen({ host: "127.0.0.1", port: 0 })}/status`;
try {
  const page = await timeServer(app, { accept: "text/html" });
  const json = await timeServer(app, { accept: "application/json" });
  const browser = await timeBrowser(url, store);
  const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
  const results = {
    manifests: manifestCount,
    runs,
    htmlBytes: Buffer.byteLength(page.body),
    htmlGzipBytes: gzipSync(page.body).length,
    jsonBytes: Buffer.byteLength(json.body),
    serverHtmlMs: Number(page.ms.toFixed(1)),
    serverJsonMs: Number(json.ms.toFixed(1)),
    chromiumLoadMs: Number(browser.loadMs.toFixed(0)),
    chromiumFilterKeystrokeMs: Number(browser.keystrokeMs.toFixed(1)),
    chromiumRefreshMs: Number(browser.refreshMs.toFixed(0)),
  };
  console.log(JSON.stringify(results, null, 2));
  console.log(
    [
      `${manifestCount} manifests, median of ${runs} runs:`,
      `  page ${mib(results.htmlBytes)} (${mib(results.htmlGzipBytes)} gzipped), JSON ${mib(results.jsonBytes)}`,
      `  server: page ${results.serverHtmlMs} ms, JSON ${results.serverJsonMs} ms`,
      `  Chromium: rendered ${results.chromiumLoadMs} ms after navigation; a filter keystroke ${results.chromiumFilterKeystrokeMs} ms; a refresh with new content ${results.chromiumRefreshMs} ms`,
    ].join("\n"),
  );
} finally {
  await app.close();
}
