import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { emptyManifestPlan } from "../../src/plan/manifest-plan.js";
import { buildServer, type ServerDeps } from "../../src/http/server.js";
import { createLogger } from "../../src/observability/logger.js";
import { Metrics } from "../../src/observability/metrics.js";
import { StatusStore } from "../../src/status/status-store.js";
import { parsePrometheusText, sampleValue } from "../support/prometheus-text.js";

const token = "correct-horse-battery-staple";

/** A status store with one converged, one drifted (observe) and one invalid manifest, plus an error. */
function populatedStore(): StatusStore {
  const store = new StatusStore(() => new Date("2030-01-01T00:00:00Z"));
  store.setManifests(
    [
      { name: "analytics", file: "manifests/analytics.yaml", generation: "aaaa", mode: "enforce" },
      { name: "staging", file: "manifests/staging.yaml", generation: "bbbb", mode: "observe" },
      {
        name: "broken",
        file: "manifests/<b>&broken.yaml",
        generation: "cccc",
        mode: "enforce",
        invalid: {
          message: "manifests/<b>&broken.yaml:3:9: <script>alert(1)</script>",
          inForceGeneration: "cccc",
        },
      },
    ],
    [
      {
        file: "manifests/<b>&broken.yaml",
        line: 3,
        column: 9,
        message: "<script>alert(1)</script>",
        pointer: "/spec",
        code: "SchemaViolation",
      },
    ],
  );
  const plan = {
    ...emptyManifestPlan("analytics", "enforce"),
    instances: [{ id: "i-0123456789abcdef0", state: "running", association: "associated" as const }],
    resources: {
      policyArn: "arn:aws:iam::123456789012:policy/rolecall/rolecall-analytics",
      roleArn: "arn:aws:iam::123456789012:role/rolecall/rolecall-analytics",
      instanceProfileArn: "arn:aws:iam::123456789012:instance-profile/rolecall/rolecall-analytics",
    },
  };
  const record = {
    at: "2030-01-01T00:00:00.000Z",
    reconcileId: "abcd1234",
    durationMs: 12,
    error: null,
  };
  store.recordReconcile(
    {
      manifest: "analytics",
      mode: "enforce",
      status: "converged",
      retryable: false,
      errors: [],
      warnings: [],
      plan,
      outcomes: [],
    },
    {
      ...record,
      result: "converged",
      actions: [{ description: "create role rolecall-analytics", status: "done" }],
    },
  );
  const drift = [
    { resource: "role/rolecall-staging", field: "attachedPolicies", desired: "p", actual: "(none)" },
  ];
  store.recordReconcile(
    {
      manifest: "staging",
      mode: "observe",
      status: "drifted",
      retryable: false,
      errors: [],
      warnings: [],
      plan: { ...emptyManifestPlan("staging", "observe"), drift },
      outcomes: [],
    },
    { ...record, result: "drifted", actions: [{ description: "attach policy p", status: "planned" }] },
  );
  store.markResync(new Date("2030-01-01T00:00:05Z"));
  return store;
}

describe("HTTP API", () => {
  let app: FastifyInstance | undefined;
  const serve = (overrides: Partial<ServerDeps> = {}) => {
    const metrics = new Metrics();
    app = buildServer({
      status: populatedStore(),
      isReady: () => true,
      registry: metrics.registry,
      ...overrides,
    });
    return { app, metrics };
  };

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it("/healthz answers 200 {status: ok}", async () => {
    const { app } = serve({ isReady: () => false });
    const response = await app.inject({ url: "/healthz" });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: "ok" });
  });

  it("/readyz answers 503 until the daemon is ready, then 200", async () => {
    let ready = false;
    const { app } = serve({ isReady: () => ready });
    const before = await app.inject({ url: "/readyz" });
    expect(before.statusCode).toBe(503);
    expect(before.json()).toMatchObject({ status: "not ready" });
    ready = true;
    const after = await app.inject({ url: "/readyz" });
    expect(after.statusCode).toBe(200);
    expect(after.json()).toEqual({ status: "ready" });
  });

  it("/status is JSON in the shape the issue asks for", async () => {
    const { app } = serve();
    const response = await app.inject({ url: "/status" });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^application\/json/);
    const body = response.json<Record<string, unknown>>();
    expect(body.summary).toEqual({
      manifests: 3,
      ready: 1,
      drifted: 1,
      invalid: 1,
      conflicts: 0,
      lastResyncAt: "2030-01-01T00:00:05.000Z",
    });
    const manifests = body.manifests as Record<string, unknown>[];
    expect(manifests.map((manifest) => manifest.name)).toEqual(["analytics", "broken", "staging"]);
    const typeOf = (value: unknown) =>
      Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
    for (const manifest of manifests) {
      expect(
        Object.fromEntries(Object.entries(manifest).map(([key, value]) => [key, typeOf(value)])),
      ).toMatchObject({
        name: "string",
        file: "string",
        generation: "string",
        mode: "string",
        conditions: "array",
        drift: "array",
        instances: "array",
        resources: "object",
        history: "array",
      });
      expect(["enforce", "observe"]).toContain(manifest.mode);
      expect(manifest).toHaveProperty("lastReconcile");
      for (const condition of manifest.conditions as Record<string, unknown>[]) {
        expect(Object.keys(condition).sort()).toEqual(
          ["lastTransitionTime", "message", "observedGeneration", "reason", "status", "type"].sort(),
        );
      }
    }
    const [analytics, , staging] = manifests;
    expect(analytics).toMatchObject({
      generation: "aaaa",
      instances: [{ id: "i-0123456789abcdef0", state: "running", association: "associated" }],
      resources: {
        policyArn: "arn:aws:iam::123456789012:policy/rolecall/rolecall-analytics",
        roleArn: "arn:aws:iam::123456789012:role/rolecall/rolecall-analytics",
        instanceProfileArn: "arn:aws:iam::123456789012:instance-profile/rolecall/rolecall-analytics",
      },
      lastReconcile: {
        at: "2030-01-01T00:00:00.000Z",
        result: "converged",
        actions: [{ description: "create role rolecall-analytics", status: "done" }],
        error: null,
      },
    });
    expect(staging).toMatchObject({
      mode: "observe",
      drift: [
        { resource: "role/rolecall-staging", field: "attachedPolicies", desired: "p", actual: "(none)" },
      ],
    });
    expect((staging?.conditions as { type: string }[]).map((condition) => condition.type)).toContain(
      "Drifted",
    );
    expect(body.errors).toEqual([
      {
        file: "manifests/<b>&broken.yaml",
        line: 3,
        column: 9,
        message: "<script>alert(1)</script>",
        pointer: "/spec",
      },
    ]);
  });

  it("/status/:name returns one manifest; an unknown name is a 404", async () => {
    const { app } = serve();
    const one = await app.inject({ url: "/status/analytics" });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({
      name: "analytics",
      generation: "aaaa",
      file: "manifests/analytics.yaml",
    });
    const missing = await app.inject({ url: "/status/nobody" });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers["content-type"]).toMatch(/^application\/json/);
    expect(missing.json<{ error: string }>().error).toContain("nobody");
  });

  it("/status/instances/:id explains one instance from the last pass; an unknown one is a 404", async () => {
    const store = populatedStore();
    const explanation = {
      instance: "i-0123456789abcdef0",
      state: "running",
      manifests: [{ name: "analytics", mode: "enforce" }],
      profile: { held: "rolecall-analytics", wanted: "rolecall-analytics", owned: true, composite: null },
      declared: [],
      effective: [],
      permissionsBoundary: null,
      notes: [],
    };
    const asked: string[] = [];
    store.setInstanceExplainer((id) => {
      asked.push(id);
      return id === explanation.instance ? explanation : undefined;
    });
    const { app } = serve({ status: store });
    const known = await app.inject({ url: "/status/instances/i-0123456789abcdef0" });
    expect(known.statusCode).toBe(200);
    expect(known.json()).toEqual(explanation);
    const unknown = await app.inject({ url: "/status/instances/i-00000000000000000" });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json<{ error: string }>().error).toContain("i-00000000000000000");
    expect(asked).toEqual(["i-0123456789abcdef0", "i-00000000000000000"]);
    // A manifest may be named "instances": the one-segment route still finds it.
    const manifest = await app.inject({ url: "/status/instances" });
    expect(manifest.statusCode).toBe(404);
    expect(manifest.json<{ error: string }>().error).toContain('no manifest named "instances"');
  });

  it("before the first pass, no instance is known", async () => {
    const { app } = serve({ status: new StatusStore() });
    const response = await app.inject({ url: "/status/instances/i-0123456789abcdef0" });
    expect(response.statusCode).toBe(404);
  });

  it("Accept: text/html gives a readable page with every value escaped", async () => {
    const { app } = serve();
    const response = await app.inject({
      url: "/status",
      headers: { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^text\/html/);
    const page = response.body;
    expect(page).toMatch(/^<!doctype html>/i);
    for (const name of ["analytics", "broken", "staging"]) expect(page).toContain(name);
    expect(page).toMatch(/<li class="cond bad"[^>]*>\s*<b>Drifted<\/b>\s*<span class="status">True<\/span>/);
    expect(page).toContain("&#60;script&#62;alert(1)&#60;/script&#62;");
    expect(page).toContain("manifests/&#60;b&#62;&#38;broken.yaml:3:9");
    // The page's own script is the only one, and nothing a manifest holds became markup.
    expect(page.match(/<script/g)).toHaveLength(1);
    expect(page).not.toContain("<script>alert");
    expect(page).not.toContain("<b>&broken");

    // JSON stays the default for API clients and for */*.
    for (const accept of ["*/*", "application/json", "application/json, text/html"]) {
      const json = await app.inject({ url: "/status", headers: { accept } });
      expect(json.headers["content-type"]).toMatch(/^application\/json/);
    }
  });

  it("with a status token, /status and /status/:name need it; probes and metrics do not", async () => {
    const { app } = serve({ statusToken: token });
    for (const url of ["/status", "/status/analytics", "/status/instances/i-0123456789abcdef0"]) {
      const missing = await app.inject({ url });
      expect(missing.statusCode).toBe(401);
      expect(missing.headers["www-authenticate"]).toMatch(/^Bearer/);
      expect(missing.body).not.toContain('analytics",');
      for (const authorization of [
        "Bearer wrong",
        `Bearer ${token}x`,
        `Bearer ${token.slice(0, -1)}`,
        "Bearer ",
        `Basic ${Buffer.from(`user:${token}`).toString("base64")}`,
        token,
      ]) {
        const wrong = await app.inject({ url, headers: { authorization } });
        expect(wrong.statusCode, authorization).toBe(401);
        expect(wrong.json()).toEqual({ error: "unauthorized" });
      }
      const right = await app.inject({ url, headers: { authorization: `Bearer ${token}` } });
      // Past the token, an instance no pass has seen is simply not found.
      expect(right.statusCode).toBe(url.includes("/instances/") ? 404 : 200);
    }
    const html = await app.inject({ url: "/status", headers: { accept: "text/html" } });
    expect(html.statusCode).toBe(401);
    for (const url of ["/healthz", "/readyz", "/metrics"])
      expect((await app.inject({ url })).statusCode).toBe(200);
  });

  it("without a token, /status is open", async () => {
    const { app } = serve();
    expect((await app.inject({ url: "/status" })).statusCode).toBe(200);
  });
});

describe("/metrics", () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
  });

  it("is Prometheus text with rolecall's metrics and the default process metrics", async () => {
    const metrics = new Metrics();
    metrics.request("iam", "GetAccountAuthorizationDetails");
    metrics.request("iam", "GetAccountAuthorizationDetails");
    metrics.request("ec2", "DescribeInstances");
    metrics.error("iam", "CreateRole", "Throttling");
    metrics.reconcileTotal.inc({ result: "converged" });
    metrics.reconcileDuration.observe(0.2);
    metrics.setManifestCounts({ valid: 2, invalid: 1, ready: 1, drifted: 1, conflict: 0 });
    metrics.lastResync.set(1_900_000_000);
    app = buildServer({ status: new StatusStore(), isReady: () => true, registry: metrics.registry });

    const response = await app.inject({ url: "/metrics" });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    const exposition = parsePrometheusText(response.body);

    expect(
      Object.fromEntries([...exposition.types].filter(([name]) => name.startsWith("rolecall_"))),
    ).toEqual(
      expect.objectContaining({
        rolecall_reconcile_total: "counter",
        rolecall_reconcile_errors_total: "counter",
        rolecall_reconcile_duration_seconds: "histogram",
        rolecall_manifests: "gauge",
        rolecall_drift_detected_total: "counter",
        rolecall_aws_api_requests_total: "counter",
        rolecall_aws_api_request_errors_total: "counter",
        rolecall_workqueue_depth: "gauge",
        rolecall_last_resync_timestamp_seconds: "gauge",
      }),
    );
    for (const name of [
      "process_cpu_user_seconds_total",
      "process_resident_memory_bytes",
      "process_start_time_seconds",
      "nodejs_heap_size_used_bytes",
      "nodejs_eventloop_lag_seconds",
    ])
      expect(exposition.types.has(name), name).toBe(true);

    expect(
      sampleValue(exposition, "rolecall_aws_api_requests_total", {
        service: "iam",
        operation: "GetAccountAuthorizationDetails",
      }),
    ).toBe(2);
    expect(sampleValue(exposition, "rolecall_aws_api_requests_total")).toBe(3);
    expect(
      sampleValue(exposition, "rolecall_aws_api_request_errors_total", {
        service: "iam",
        operation: "CreateRole",
        code: "Throttling",
      }),
    ).toBe(1);
    expect(sampleValue(exposition, "rolecall_manifests", { state: "invalid" })).toBe(1);
    expect(sampleValue(exposition, "rolecall_reconcile_duration_seconds_count")).toBe(1);
    expect(sampleValue(exposition, "rolecall_reconcile_duration_seconds_bucket", { le: "0.25" })).toBe(1);
    expect(sampleValue(exposition, "rolecall_reconcile_duration_seconds_bucket", { le: "0.1" })).toBe(0);
    expect(sampleValue(exposition, "rolecall_last_resync_timestamp_seconds")).toBe(1_900_000_000);

    // Bounded labels only: no manifest, file or resource names.
    const allowed = new Set(["result", "state", "service", "operation", "code", "le"]);
    for (const sample of exposition.samples.filter((candidate) => candidate.name.startsWith("rolecall_")))
      for (const label of Object.keys(sample.labels))
        expect(allowed, `${sample.name} ${label}`).toContain(label);
  });

  it("the text parser rejects what Prometheus would", () => {
    const ok = '# HELP a_total x\n# TYPE a_total counter\na_total{k="v\\"q"} 1\n';
    expect(parsePrometheusText(ok).samples).toEqual([{ name: "a_total", labels: { k: 'v"q' }, value: 1 }]);
    for (const bad of [
      "# TYPE a counter\na 1",
      "a 1\n",
      "# TYPE a counter\na{k=v} 1\n",
      '# TYPE a counter\na{k="v"}1\n',
      '# TYPE a counter\na{k="v"} one\n',
      '# TYPE a counter\na{k="\\x"} 1\n',
      "# TYPE a counter\n a 1\n",
      "# TYPE h histogram\nh 1\n",
    ])
      expect(() => parsePrometheusText(bad), bad).toThrow();
  });
});

describe("errors", () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
  });

  const noStack = (body: string) => {
    expect(body).not.toMatch(/\bat .+:\d+:\d+/);
    expect(body).not.toContain("node_modules");
    expect(body).not.toContain("stack");
  };

  it("an internal error is a 500 with a short body: no stack, no message, but logged", async () => {
    const lines: string[] = [];
    const logger = createLogger(
      "info",
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          lines.push(chunk.toString());
          callback();
        },
      }),
    );
    app = buildServer({
      status: {
        document: () => {
          throw new Error("secret internals at /srv/rolecall");
        },
        manifest: () => {
          throw new TypeError("cannot read x of undefined");
        },
        instance: () => {
          throw new Error("secret instance internals");
        },
      },
      isReady: () => true,
      registry: new Metrics({ defaultMetrics: false }).registry,
      logger,
    });
    for (const url of ["/status", "/status/a", "/status/instances/i-1"]) {
      const response = await app.inject({ url });
      expect(response.statusCode).toBe(500);
      expect(response.json()).toEqual({ error: "internal error" });
      noStack(response.body);
      expect(response.body).not.toContain("secret");
    }
    expect(lines.join("")).toContain("secret internals");
  });

  it("malformed or oversized requests get a 4xx with a short JSON body", async () => {
    app = buildServer({
      status: populatedStore(),
      isReady: () => true,
      registry: new Metrics({ defaultMetrics: false }).registry,
    });
    const cases = [
      {
        method: "POST" as const,
        url: "/status",
        payload: JSON.stringify({ x: "x".repeat(64 * 1024) }),
        headers: { "content-type": "application/json" },
        expected: 413,
      },
      {
        method: "POST" as const,
        url: "/healthz",
        payload: "{not json",
        headers: { "content-type": "application/json" },
      },
      { method: "GET" as const, url: "/status/%E0%A4%A", expected: 400 },
      { method: "GET" as const, url: `/status/${"a".repeat(5000)}` },
      { method: "DELETE" as const, url: "/status", expected: 404 },
      { method: "GET" as const, url: "/nothing-here", expected: 404 },
    ];
    for (const { expected, ...request } of cases) {
      const response = await app.inject(request);
      const label = `${request.method} ${request.url.slice(0, 40)}`;
      if (expected !== undefined) expect(response.statusCode, label).toBe(expected);
      expect(response.statusCode, label).toBeGreaterThanOrEqual(400);
      expect(response.statusCode, label).toBeLessThan(500);
      expect(response.headers["content-type"], label).toMatch(/^application\/json/);
      const body = response.json<Record<string, unknown>>();
      expect(Object.keys(body), label).toEqual(["error"]);
      expect(response.body.length, label).toBeLessThan(200);
      noStack(response.body);
    }
  });

  it("HEAD probes work without a body", async () => {
    app = buildServer({
      status: populatedStore(),
      isReady: () => true,
      registry: new Metrics({ defaultMetrics: false }).registry,
    });
    const response = await app.inject({ method: "HEAD", url: "/healthz" });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe("");
  });
});
