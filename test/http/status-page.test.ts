import { createHash } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { buildServer } from "../../src/http/server.js";
import { html, escapeHtml } from "../../src/http/page/html.js";
import { renderManifestPage, renderStatusPage } from "../../src/http/page/status-page.js";
import { Metrics } from "../../src/observability/metrics.js";
import type { Condition } from "../../src/status/conditions.js";
import type { ManifestStatusView, ReconcileRecord, StatusDocument } from "../../src/status/status-store.js";
import { StatusStore } from "../../src/status/status-store.js";
import { emptyManifestPlan } from "../../src/plan/manifest-plan.js";

const browser = { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" };

function condition(
  type: Condition["type"],
  status: Condition["status"],
  reason = "R",
  message = "m",
): Condition {
  return {
    type,
    status,
    reason,
    message,
    lastTransitionTime: "2030-01-01T00:00:00.000Z",
    observedGeneration: "g",
  };
}

function record(overrides: Partial<ReconcileRecord> & Record<string, unknown> = {}): ReconcileRecord {
  return {
    at: "2030-01-01T00:00:00.000Z",
    reconcileId: "abcd1234",
    result: "converged",
    durationMs: 3,
    actions: [],
    error: null,
    ...overrides,
  };
}

function view(overrides: Partial<ManifestStatusView> = {}): ManifestStatusView {
  return {
    name: "alpha",
    file: "manifests/alpha.yaml",
    generation: "0123456789abcdef",
    mode: "enforce",
    conditions: [condition("Valid", "True"), condition("Synced", "True"), condition("Ready", "True")],
    drift: [],
    instances: [],
    resources: {},
    warnings: [],
    lastReconcile: null,
    history: [],
    ...overrides,
  };
}

function documentOf(manifests: ManifestStatusView[], extra: Record<string, unknown> = {}): StatusDocument {
  return {
    summary: {
      manifests: manifests.length,
      ready: 0,
      drifted: 0,
      invalid: 0,
      conflicts: 0,
      lastResyncAt: null,
    },
    manifests,
    removed: [],
    errors: [],
    notices: [],
    ...extra,
  };
}

/**
 * Markup without the white space next to tags (the templates are laid out over lines; a browser collapses that
 * white space, and these checks are about structure and values).
 */
const squash = (text: string) =>
  text
    .replace(/\s+/g, " ")
    .replace(/\s*>\s*/g, ">")
    .replace(/\s*</g, "<");

const page = (document: StatusDocument) => squash(renderStatusPage(document, { etag: 'W/"x"' }));

/** The text of the one card of this manifest in a page. */
function card(text: string, name: string): string {
  const start = text.indexOf(`<article class="card`, text.indexOf(`data-name="${name}"`) - 200);
  return text.slice(start, text.indexOf("</article>", start));
}

describe("html``", () => {
  it("escapes every interpolated value, keeps nested fragments and arrays of them", () => {
    const name = `<img src=x onerror="alert(1)">'&`;
    const fragment = html`<b title="${name}">${name}</b>${[html`<i>${1}</i>`, "<u>"]}${null}${undefined}`;
    expect(fragment.text).toBe(`<b title="${escapeHtml(name)}">${escapeHtml(name)}</b><i>1</i>&#60;u&#62;`);
    expect(fragment.text).not.toContain("<img");
    expect(escapeHtml(`"'<>&\`=`)).toBe("&#34;&#39;&#60;&#62;&#38;&#96;&#61;");
  });
});

describe("the status page", () => {
  it("colours conditions by meaning: Drifted or Conflict True is a problem, Ready True is fine", () => {
    const text = page(
      documentOf([
        view({
          name: "drifting",
          mode: "observe",
          conditions: [
            condition("Valid", "True"),
            condition("Synced", "False", "ObserveOnly"),
            condition("Drifted", "True", "DriftDetected"),
            condition("Conflict", "True", "ForeignInstanceProfile"),
            condition("Ready", "False", "ObserveOnly"),
          ],
        }),
        view({
          name: "calm",
          conditions: [condition("Drifted", "False", "NoDrift"), condition("Ready", "True")],
        }),
      ]),
    );
    const tone = (name: string, type: string) =>
      new RegExp(`<li class="cond (\\w+)"[^>]*><b>${type}</b>`).exec(card(text, name))?.[1];
    expect(tone("drifting", "Drifted")).toBe("bad");
    expect(tone("drifting", "Conflict")).toBe("bad");
    expect(tone("drifting", "Synced")).toBe("bad");
    expect(tone("drifting", "Valid")).toBe("good");
    expect(tone("calm", "Drifted")).toBe("good");
    expect(tone("calm", "Ready")).toBe("good");
    expect(card(text, "drifting")).toMatch(/data-states="not-ready drifted conflict observe"/);
    expect(card(text, "calm")).toMatch(/data-states="ready"/);
  });

  it("shows each drift item with the desired and the actual value, folding long ones", () => {
    const policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: ["s3:GetObject", "s3:GetObjectVersion"],
          Resource: ["arn:aws:s3:::reports-bucket/*"],
        },
      ],
    });
    const text = page(
      documentOf([
        view({
          drift: [
            {
              resource: "role/rolecall-alpha",
              field: "attachedPolicies",
              desired: '["rolecall-alpha"]',
              actual: "[]",
            },
            { resource: "policy/rolecall-alpha", field: "document", desired: policy, actual: "(none)" },
          ],
        }),
      ]),
    );
    const alpha = card(text, "alpha");
    expect(alpha).toContain("Drift (2)");
    expect(alpha).toMatch(
      /<td><code>role\/rolecall-alpha<\/code><\/td><td>attachedPolicies<\/td><td class="desired"><code class="value">\[&#34;rolecall-alpha&#34;\]<\/code><\/td><td class="actual"><code class="value">\[\]<\/code><\/td>/,
    );
    // The long document is folded and shown indented in full.
    expect(alpha).toMatch(/<td class="desired"><details class="value"><summary>/);
    const raw = renderStatusPage(
      documentOf([
        view({ drift: [{ resource: "policy/p", field: "document", desired: policy, actual: "(none)" }] }),
      ]),
      { etag: "e" },
    );
    expect(raw).toContain(`<pre>${escapeHtml(JSON.stringify(JSON.parse(policy), null, 2))}</pre>`);
    // The chain shows which resources drifted.
    expect(alpha).toMatch(
      /role<\/span><code>rolecall-alpha<\/code><span class="tag bad">drifted: attachedPolicies/,
    );
  });

  it("draws the chain as a tree, with a composite profile and the manifests it is shared with", () => {
    const text = page(
      documentOf([
        view({
          resources: {
            policyArn: "arn:aws:iam::123456789012:policy/rolecall/rolecall-alpha",
            roleArn: "arn:aws:iam::123456789012:role/rolecall/rolecall-alpha",
            instanceProfileArn: "arn:aws:iam::123456789012:instance-profile/rolecall/rolecall-alpha",
          },
          instances: [
            {
              id: "i-0000000000000000a",
              state: "running",
              association: "associated",
              profile: "rolecall-alpha",
            },
            {
              id: "i-0000000000000000b",
              state: "stopped",
              association: "pending",
              profile: "rolecall+3f2a9c",
              sharedWith: ["beta", "gamma"],
            },
          ],
        }),
      ]),
    );
    const alpha = card(text, "alpha");
    expect(alpha).toMatch(
      /<ul class="tree"><li><span class="kind">policy<\/span><code>rolecall-alpha<\/code><span class="tag good">in place<\/span><ul><li><span class="kind">role<\/span>/,
    );
    expect(alpha).toMatch(/instance profile<\/span><code>rolecall-alpha<\/code>.*i-0000000000000000a/s);
    const composite = alpha.slice(alpha.indexOf("composite profile"));
    expect(composite).toMatch(/<code>rolecall\+3f2a9c<\/code>/);
    expect(composite).toContain('<a href="/status/beta">beta</a>,<a href="/status/gamma">gamma</a>');
    expect(composite).toMatch(/i-0000000000000000b<\/code>stopped<span class="tag wait">pending<\/span>/);
    expect(alpha.indexOf("i-0000000000000000b")).toBeGreaterThan(alpha.indexOf("composite profile"));
  });

  it("shows the revision in force and each history entry's, when the daemon provides them", () => {
    const revision = "0123456789abcdef0123456789abcdef01234567";
    const withSource = page(
      documentOf(
        [
          view({
            lastReconcile: record({ revision }),
            history: [
              record({ revision, actions: [{ description: "create role rolecall-alpha", status: "done" }] }),
              record({ revision: null, result: "failed", error: "AccessDenied: no" }),
            ],
          }),
        ],
        {
          source: {
            path: "/git/current/manifests",
            revision,
            revisionTime: "2030-01-01T00:00:00Z",
            subject: "Grant <b>reports</b>",
          },
        },
      ),
    );
    expect(withSource).toMatch(
      /revision<code title="0123456789abcdef0123456789abcdef01234567">0123456<\/code><q>Grant &#60;b&#62;reports&#60;\/b&#62;<\/q>/,
    );
    const history = withSource.slice(withSource.indexOf('<details class="history"'));
    expect(history).toContain("<th>revision</th>");
    expect(history).toMatch(
      /<td><code title="0123456789abcdef[0-9a-f]+">0123456<\/code><\/td><td><span class="tag good">converged<\/span><\/td><td><ul class="actions"><li><span class="tag good">done<\/span>create role rolecall-alpha/,
    );
    expect(history).toContain("not in Git");
    expect(history).toContain('<div class="error-text">AccessDenied: no</div>');

    // An older daemon: no source, no revision fields, and no empty column for them.
    const without = page(documentOf([view({ history: [record()] })]));
    expect(without).not.toContain("<th>revision</th>");
    expect(without).not.toContain('<span class="revision">');
    const inGitless = page(
      documentOf([view()], { source: { path: "/m", revision: null, revisionTime: null, subject: null } }),
    );
    expect(inGitless).toContain("are not in a Git work tree");
  });

  it("lists invalid files as FILE:LINE:COL, notices, and removed manifests being cleaned up", () => {
    const removed = view({
      name: "gone",
      file: null,
      conditions: [condition("Valid", "False", "ManifestRemoved")],
    });
    const text = page({
      ...documentOf([view()]),
      removed: [removed],
      errors: [
        { file: "manifests/bad.yaml", line: 4, column: 11, message: "unknown field", pointer: "/spec/x" },
      ],
      notices: [{ reason: "PruneSuspended", message: "removals held back" }],
      summary: {
        manifests: 1,
        ready: 1,
        drifted: 0,
        invalid: 1,
        conflicts: 0,
        lastResyncAt: "2030-01-01T00:00:05.000Z",
      },
    });
    expect(text).toContain("<code>manifests/bad.yaml:4:11</code>unknown field");
    expect(text).toContain('<p class="notice"><b>PruneSuspended</b>: removals held back</p>');
    expect(text).toMatch(
      /Removed manifests, being cleaned up \(1\).*data-name="gone"[^>]*data-states="not-ready observe|data-name="gone"/s,
    );
    expect(card(text, "gone")).toMatch(/data-states="[^"]*removed"/);
    expect(card(text, "gone")).toContain("removing");
    expect(text).toContain('<a class="tag bad" href="#invalid-files">1 invalid file(s)</a>');
    expect(text).toContain(
      '<time datetime="2030-01-01T00:00:05.000Z" title="2030-01-01T00:00:05.000Z">2030-01-01 00:00:05 UTC</time>',
    );
  });

  it("puts the buckets where the filter reads them, and caps a huge instance list", () => {
    const instances = Array.from({ length: 75 }, (_, index) => ({
      id: `i-${String(index).padStart(17, "0")}`,
      state: "running",
      association: "associated" as const,
    }));
    const text = page(documentOf([view({ buckets: ["logs-a", "reports"], instances })]));
    expect(card(text, "alpha")).toContain('data-buckets="logs-a reports"');
    expect(card(text, "alpha")).toContain("<code>logs-a</code><code>reports</code>");
    expect(card(text, "alpha").match(/<span class="kind">instance<\/span>/g)).toHaveLength(50);
    expect(card(text, "alpha")).toContain("and 25 more (in the JSON)");
  });

  it("escapes every value a manifest, a file or AWS can put on it", () => {
    const evil = `<x-evil a="1">'"&`;
    const hostile = view({
      name: evil,
      file: evil,
      generation: evil,
      conditions: [condition("Ready", "False", evil, evil)],
      drift: [{ resource: evil, field: evil, desired: evil, actual: `{${evil}` }],
      instances: [
        { id: evil, state: evil, association: "conflict", profile: `rolecall+${evil}`, sharedWith: [evil] },
      ],
      resources: { policyArn: evil, roleArn: evil, instanceProfileArn: evil, permissionsBoundary: evil },
      warnings: [evil],
      buckets: [evil],
      lastReconcile: record({ at: evil, error: evil, revision: evil }),
      history: [
        record({
          at: evil,
          error: evil,
          revision: evil,
          actions: [{ description: evil, status: "failed", errorCode: evil, error: evil }],
        }),
      ],
    });
    const document = {
      ...documentOf([hostile], { source: { path: evil, revision: evil, revisionTime: evil, subject: evil } }),
      removed: [hostile],
      errors: [{ file: evil, line: 1, column: 2, message: evil, pointer: evil }],
      notices: [{ reason: evil, message: evil }],
    };
    for (const text of [page(document), squash(renderManifestPage(hostile, document, { etag: evil }))]) {
      expect(text).not.toContain("<x-evil");
      expect(text).not.toContain('a="1"');
      expect(text).toContain("&#60;x-evil a&#61;&#34;1&#34;&#62;&#39;&#34;&#38;");
    }
  });
});

describe("the page over HTTP", () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  function serve(): { app: FastifyInstance; store: StatusStore } {
    const store = new StatusStore(() => new Date("2030-01-01T00:00:00Z"));
    store.setManifests(
      [
        {
          name: "alpha",
          file: "manifests/alpha.yaml",
          generation: "aaaa",
          mode: "enforce",
          buckets: ["reports"],
        },
        { name: "beta", file: "manifests/beta.yaml", generation: "bbbb", mode: "observe" },
      ],
      [],
    );
    app = buildServer({
      status: store,
      isReady: () => true,
      registry: new Metrics({ defaultMetrics: false }).registry,
    });
    return { app, store };
  }

  const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

  it("every HTML response has a CSP allowing only its own script and style, and nosniff", async () => {
    const { app } = serve();
    for (const url of ["/status", "/status/alpha", "/status/nobody"]) {
      const response = await app.inject({ url, headers: browser });
      expect(response.headers["content-type"], url).toMatch(/^text\/html/);
      expect(response.headers["x-content-type-options"], url).toBe("nosniff");
      const policy = String(response.headers["content-security-policy"]);
      expect(policy, url).toContain("default-src 'none'");
      expect(policy, url).toContain("frame-ancestors 'none'");
      expect(policy, url).not.toContain("unsafe-inline");
      const scripts = [...response.body.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((match) => match[1]!);
      const styles = [...response.body.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((match) => match[1]!);
      for (const script of scripts) expect(policy, url).toContain(`script-src ${sha256(script)}`);
      for (const style of styles) expect(policy, url).toContain(`style-src ${sha256(style)}`);
      if (url !== "/status/nobody") expect(scripts.length * styles.length, url).toBe(1);
    }
    const json = await app.inject({ url: "/status" });
    expect(json.headers["x-content-type-options"]).toBe("nosniff");
    expect(json.headers["content-security-policy"]).toBeUndefined();
  });

  it("/status/:name is a page for a browser, JSON otherwise; a missing one is a 404 either way", async () => {
    const { app } = serve();
    const pageResponse = await app.inject({ url: "/status/alpha", headers: browser });
    expect(pageResponse.statusCode).toBe(200);
    expect(pageResponse.body.match(/<article class="card/g)).toHaveLength(1);
    expect(pageResponse.body).toContain('data-name="alpha"');
    expect(pageResponse.body).toContain('<a href="/status">rolecall</a>');
    expect(pageResponse.headers.vary).toMatch(/accept/i);
    const json = await app.inject({ url: "/status/alpha" });
    expect(json.headers["content-type"]).toMatch(/^application\/json/);
    expect(json.json<ManifestStatusView>()).toMatchObject({ name: "alpha", buckets: ["reports"] });
    expect(json.json<Record<string, unknown>>()).not.toHaveProperty("buckets", undefined);
    const beta = await app.inject({ url: "/status/beta" });
    expect(beta.json<Record<string, unknown>>()).not.toHaveProperty("buckets");
    const missing = await app.inject({ url: "/status/no-such", headers: browser });
    expect(missing.statusCode).toBe(404);
    expect(missing.body).toContain("No manifest named <code>no-such</code>");
  });

  it("answers 304 to a refresh that finds nothing new, and the new page once something changed", async () => {
    const { app, store } = serve();
    for (const url of ["/status", "/status/alpha"]) {
      const first = await app.inject({ url, headers: browser });
      const etag = String(first.headers.etag);
      expect(etag).toMatch(/^W\/"/);
      expect(first.body).toContain(`data-etag="${escapeHtml(etag)}"`);
      const again = await app.inject({ url, headers: { ...browser, "if-none-match": etag } });
      expect(again.statusCode, url).toBe(304);
      expect(again.body).toBe("");
      // JSON and the page are different representations: the JSON is never answered 304 for the page's tag.
      const json = await app.inject({ url, headers: { "if-none-match": etag } });
      expect(json.statusCode).toBe(200);
    }
    const before = String((await app.inject({ url: "/status/alpha", headers: browser })).headers.etag);
    store.recordReconcile(
      {
        manifest: "alpha",
        mode: "enforce",
        status: "converged",
        retryable: false,
        errors: [],
        warnings: [],
        plan: emptyManifestPlan("alpha", "enforce"),
        outcomes: [],
      },
      record({ actions: [{ description: "create role rolecall-alpha", status: "done" }] }),
    );
    const after = await app.inject({
      url: "/status/alpha",
      headers: { ...browser, "if-none-match": before },
    });
    expect(after.statusCode).toBe(200);
    expect(after.headers.etag).not.toBe(before);
    expect(after.body).toContain("create role rolecall-alpha");
  });
});
