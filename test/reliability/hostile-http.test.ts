// The HTTP API against hostile clients: /status refuses every token but the right one, compared in constant time;
// oversized and malformed requests get a 4xx with a short body and no stack trace, and the server keeps answering.
import type * as crypto from "node:crypto";
import { connect, type AddressInfo } from "node:net";
import type { FastifyInstance, InjectOptions } from "fastify";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { bearerTokenMatches } from "../../src/http/bearer-token.js";
import { buildServer } from "../../src/http/server.js";
import { Metrics } from "../../src/observability/metrics.js";
import { StatusStore } from "../../src/status/status-store.js";

// Every comparison the token check makes, with the lengths of what it compared.
const compared = vi.hoisted(() => [] as [number, number][]);
vi.mock("node:crypto", async (importOriginal) => {
  const actual = await importOriginal<typeof crypto>();
  return {
    ...actual,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      compared.push([a.byteLength, b.byteLength]);
      return actual.timingSafeEqual(a, b);
    },
  };
});

const token = "s3cr3t-T0ken-for-rolecall-status-0123456789";

function store(): StatusStore {
  const status = new StatusStore();
  status.setManifests(
    [
      {
        name: "private-analytics",
        file: "manifests/private-analytics.yaml",
        generation: "g",
        mode: "enforce",
      },
    ],
    [],
  );
  return status;
}

/** A stack frame ("at f (file.js:1:2)"), a source path, or the word stack: none may reach a client. */
function expectNoInternals(body: string, label: string): void {
  expect(body, label).not.toMatch(/\bat [^\n]*:\d+:\d+/);
  expect(body, label).not.toMatch(/\bat (async )?[\w.<>]+ \(/);
  expect(body, label).not.toMatch(/(\/|\\)(src|dist|node_modules)(\/|\\)/);
  expect(body, label).not.toMatch(/\.(ts|js|mjs|cjs):\d+/);
  expect(body, label).not.toMatch(/stack/i);
  expect(body, label).not.toContain(process.cwd());
}

describe("bearerTokenMatches", () => {
  beforeEach(() => {
    compared.length = 0;
  });

  it("accepts only the exact token, in a well-formed Bearer header", () => {
    expect(bearerTokenMatches(`Bearer ${token}`, token)).toBe(true);
    expect(bearerTokenMatches(`bearer ${token}`, token)).toBe(true);
    const wrong = [
      undefined,
      "",
      "Bearer",
      "Bearer ",
      token,
      `Basic ${token}`,
      `Bearer ${token.slice(0, -1)}`,
      `Bearer ${token.slice(0, 1)}`,
      `Bearer ${token}x`,
      `Bearer ${token}${token}`,
      `Bearer ${token.slice(0, -1)}${token.endsWith("9") ? "8" : "9"}`,
      `Bearer ${token.toUpperCase()}`,
      `Bearer ${"x".repeat(100_000)}`,
      `Bearer ${token.replace("s", "\u017f")}`,
    ];
    for (const header of wrong)
      expect(bearerTokenMatches(header, token), String(header).slice(0, 60)).toBe(false);
  });

  it("compares fixed-length digests with crypto.timingSafeEqual, whatever the lengths, and never throws", () => {
    const presented = [
      undefined,
      "",
      "Bearer a",
      `Bearer ${token.slice(0, 5)}`,
      `Bearer ${token}`,
      `Bearer ${"y".repeat(4096)}`,
    ];
    for (const expected of ["t", token, "z".repeat(1000)]) {
      for (const header of presented) expect(() => bearerTokenMatches(header, expected)).not.toThrow();
    }
    // Every check goes through timingSafeEqual (no early return on a length mismatch), always on 32-byte digests.
    expect(compared).toHaveLength(presented.length * 3);
    expect(new Set(compared.map(([a, b]) => `${a}/${b}`))).toEqual(new Set(["32/32"]));
  });
});

describe("/status with a token", () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it("refuses missing and wrong tokens (same length, prefixes, in the query string) and accepts the right one", async () => {
    app = buildServer({
      status: store(),
      isReady: () => true,
      registry: new Metrics({ defaultMetrics: false }).registry,
      statusToken: token,
    });
    const sameLength = token.replace(/.$/, (last) => (last === "9" ? "8" : "9"));
    expect(sameLength).toHaveLength(token.length);
    const refused: { url: string; headers?: Record<string, string> }[] = [];
    for (const url of ["/status", "/status/private-analytics", "/status/nobody"]) {
      refused.push({ url }, { url: `${url}?token=${token}` }, { url: `${url}?access_token=${token}` });
      for (const authorization of [
        `Bearer ${sameLength}`,
        `Bearer ${token.slice(0, -1)}`,
        `Bearer ${token.slice(0, token.length / 2)}`,
        `Bearer ${token.slice(1)}`,
        `Bearer ${token} x`,
        `Bearer x${token}`,
        "Bearer",
        `Token ${token}`,
        `Basic ${Buffer.from(`rolecall:${token}`).toString("base64")}`,
      ])
        refused.push({ url, headers: { authorization } });
      refused.push({ url, headers: { cookie: `token=${token}` } });
    }
    for (const request of refused) {
      const label = `${request.url.slice(0, 40)} ${request.headers?.authorization?.slice(0, 30) ?? "(no header)"}`;
      for (const method of ["GET", "HEAD"] as const) {
        const response = await app.inject({ ...request, method });
        expect(response.statusCode, `${method} ${label}`).toBe(401);
        expect(response.headers["www-authenticate"], label).toMatch(/^Bearer /);
        expect(response.body, label).not.toContain("private-analytics");
      }
    }
    for (const url of ["/status", "/status/private-analytics"]) {
      const right = await app.inject({ url, headers: { authorization: `Bearer ${token}` } });
      expect(right.statusCode, url).toBe(200);
      expect(right.body).toContain("private-analytics");
    }
    // An unknown name is only revealed as unknown to a client with the token.
    const unknown = await app.inject({
      url: "/status/nobody",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(unknown.statusCode).toBe(404);
  });
});

describe("oversized and malformed requests", () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const serve = () => {
    app = buildServer({
      status: store(),
      isReady: () => true,
      registry: new Metrics({ defaultMetrics: false }).registry,
      statusToken: token,
    });
    return app;
  };

  it("through inject: a 4xx with a short JSON body, and the server still answers", async () => {
    const server = serve();
    const big = "x".repeat(64 * 1024);
    const auth = { authorization: `Bearer ${token}` };
    const cases: (InjectOptions & { method: string; url: string; expected?: number })[] = [
      {
        method: "GET",
        url: "/healthz",
        payload: big,
        headers: { "content-type": "text/plain" },
        expected: 413,
      },
      {
        method: "GET",
        url: "/status",
        payload: big,
        headers: { ...auth, "content-type": "application/json" },
        expected: 413,
      },
      {
        method: "HEAD",
        url: "/readyz",
        payload: big,
        headers: { "content-type": "application/octet-stream" },
        expected: 413,
      },
      {
        method: "POST",
        url: "/status",
        payload: big,
        headers: { ...auth, "content-type": "application/json" },
        expected: 413,
      },
      {
        method: "POST",
        url: "/healthz",
        payload: big,
        headers: { "content-type": "text/plain" },
        expected: 413,
      },
      {
        method: "PUT",
        url: "/metrics",
        payload: big,
        headers: { "content-type": "application/x-www-form-urlencoded" },
        expected: 413,
      },
      {
        method: "POST",
        url: "/status",
        payload: "{not json",
        headers: { ...auth, "content-type": "application/json" },
      },
      { method: "GET", url: "/status/%E0%A4%A", headers: auth, expected: 400 },
      { method: "GET", url: "/status/%", headers: auth, expected: 400 },
      { method: "GET", url: "/%zz", expected: 400 },
      { method: "GET", url: `/status/${"n".repeat(5000)}`, headers: auth, expected: 414 },
      { method: "GET", url: `/${"a".repeat(100_000)}`, expected: 404 },
      { method: "GET", url: `/healthz?${"q=1&".repeat(20_000)}` },
      { method: "DELETE", url: "/status", headers: auth, expected: 404 },
      { method: "OPTIONS", url: "/status", expected: 404 },
      { method: "GET", url: "/status", headers: { ...auth, accept: "\u0000text/html;;;q=NaN" } },
    ];
    for (const { expected, ...request } of cases) {
      const label = `${request.method} ${request.url.slice(0, 40)}`;
      const response = await server.inject(request);
      if (expected !== undefined) expect(response.statusCode, label).toBe(expected);
      else if (response.statusCode === 200) {
        // Harmless oddities may be served; the point is that they are not errors of the server.
        expect(label).toMatch(/healthz|accept|status$/);
      }
      expect(response.statusCode, label).toBeLessThan(500);
      if (response.statusCode >= 400 && request.method !== "HEAD") {
        expect(response.headers["content-type"], label).toMatch(/^application\/json/);
        expect(Object.keys(response.json<Record<string, unknown>>()), label).toEqual(["error"]);
        expect(response.body.length, label).toBeLessThan(200);
      }
      expectNoInternals(response.body, label);
      expect((await server.inject({ url: "/healthz" })).statusCode, `after ${label}`).toBe(200);
    }
  });

  it("on a real socket: garbage, bad methods, huge headers and URLs, smuggling shapes get a 4xx; /healthz still answers", async () => {
    const server = serve();
    await server.listen({ host: "127.0.0.1", port: 0 });
    const { port } = server.server.address() as AddressInfo;
    /** Writes raw bytes, half-closes, and collects whatever comes back until the server closes. */
    const raw = (data: string | Buffer) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, "127.0.0.1", () => {
          socket.end(data);
        });
        let received = "";
        socket.setEncoding("latin1");
        socket.on("data", (chunk: string) => (received += chunk));
        socket.on("error", reject);
        socket.on("close", () => {
          resolve(received);
        });
      });
    const request = (head: string, body = "") =>
      `${head}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n${body}`;
    const cases: [string, string | Buffer][] = [
      ["garbage", "garbage\r\n\r\n"],
      ["binary", Buffer.from([0, 1, 2, 0xff, 0xfe, 13, 10, 13, 10])],
      ["TLS hello on a plain port", Buffer.from("16030100a5010000a10303", "hex")],
      ["invalid method", request("FOO /healthz HTTP/1.1")],
      ["method with a space", request("GE T /healthz HTTP/1.1")],
      ["unknown HTTP version", request("GET /healthz HTTP/9.9")],
      ["no Host", "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n"],
      ["bad percent-encoding", request("GET /status/%E0%A4%A HTTP/1.1")],
      ["a lone percent", request("GET /% HTTP/1.1")],
      ["a space in the URL", request("GET /sta tus HTTP/1.1")],
      ["control character in the URL", request("GET /status\u0001 HTTP/1.1")],
      ["very long URL", request(`GET /${"a".repeat(100_000)} HTTP/1.1`)],
      ["huge header", request(`GET /healthz HTTP/1.1\r\nX-Big: ${"b".repeat(100_000)}`)],
      ["header without a colon", request("GET /healthz HTTP/1.1\r\nBad Header")],
      ["control character in a header", request("GET /status HTTP/1.1\r\nAuthorization: Bearer \u007f")],
      [
        "Content-Length with Transfer-Encoding",
        request("POST /status HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked", "0\r\n\r\n"),
      ],
      [
        "two Content-Lengths",
        request("POST /status HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2", "ab"),
      ],
      [
        "invalid chunk size",
        request("POST /status HTTP/1.1\r\nTransfer-Encoding: chunked", "zz\r\nx\r\n0\r\n\r\n"),
      ],
      ["negative Content-Length", request("POST /status HTTP/1.1\r\nContent-Length: -1")],
      [
        "body over the limit on GET",
        request("GET /healthz HTTP/1.1\r\nContent-Length: 100000", "x".repeat(100_000)),
      ],
      [
        "body over the limit on POST",
        request(
          "POST /status HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 100000",
          "x".repeat(100_000),
        ),
      ],
    ];
    for (const [label, data] of cases) {
      const response = await raw(data);
      const status = /^HTTP\/1\.[01] (\d{3}) /.exec(response)?.[1];
      expect(status, `${label}: ${JSON.stringify(response.slice(0, 120))}`).toMatch(/^4\d\d$/);
      const body = response.slice(response.indexOf("\r\n\r\n") + 4);
      expect(body.length, label).toBeLessThan(300);
      expectNoInternals(response, label);
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status, `after ${label}`).toBe(200);
    }
  });
});
