import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { age, renderStatusTable } from "../../src/commands/status-table.js";
import { buildServer } from "../../src/http/server.js";
import { Metrics } from "../../src/observability/metrics.js";
import { emptyManifestPlan } from "../../src/plan/manifest-plan.js";
import { StatusStore } from "../../src/status/status-store.js";
import { runCli } from "../support/cli.js";

const token = "status-cli-token";
const now = new Date("2026-03-01T10:00:00Z");
const revision = "0123456789abcdef0123456789abcdef01234567";

function store(): StatusStore {
  const status = new StatusStore(() => now);
  status.setSource({ path: "/manifests", revision, revisionTime: now.toISOString(), subject: "Add alpha" });
  status.setManifests(
    [
      { name: "alpha", file: "alpha.yaml", generation: "g1", mode: "enforce" },
      { name: "observed-one", file: "o.yaml", generation: "g2", mode: "observe" },
    ],
    [],
  );
  const plan = emptyManifestPlan("alpha", "enforce");
  status.recordReconcile(
    {
      manifest: "alpha",
      mode: "enforce",
      status: "converged",
      retryable: false,
      errors: [],
      warnings: [],
      plan,
      outcomes: [],
    },
    {
      at: "2026-03-01T09:59:15Z",
      reconcileId: "r1",
      result: "converged",
      durationMs: 5,
      actions: [],
      error: null,
      revision,
    },
  );
  return status;
}

describe("rolecall status: the table", () => {
  it("has kubectl's columns, padded, and a summary with the revision", () => {
    expect(renderStatusTable(store().document(), now).split("\n")).toEqual([
      "NAME           MODE      READY     DRIFT   INSTANCES   LAST RECONCILE",
      "alpha          enforce   True      0       0           converged 45s ago",
      "observed-one   observe   Unknown   0       0           never",
      "1 of 2 ready, 0 drifted, 0 invalid file(s), revision 0123456",
      "leadership: no lease configured (this process makes changes alone)",
    ]);
  });

  it("says whether this process leads, or who does and until when, as the status page does", () => {
    const status = store();
    const lease = { table: "rolecall-lease", name: "rolecall" };
    const leadership = {
      lease,
      holderId: "host-b-42-1a2b3c4d",
      leading: false,
      leader: "host-a-7-9f8e7d6c",
      since: "2026-03-01T09:00:00.000Z",
      expiresAt: "2026-03-01T10:00:12.000Z",
    };
    status.setLeadership(() => leadership);
    const lastLine = () => renderStatusTable(status.document(), now).split("\n").at(-1);
    expect(lastLine()).toBe(
      'leadership: standby, host-a-7-9f8e7d6c leads since 2026-03-01T09:00:00.000Z, lease until 2026-03-01T10:00:12.000Z (lease "rolecall" in table rolecall-lease)',
    );
    status.setLeadership(() => ({ ...leadership, leading: true, leader: leadership.holderId }));
    expect(lastLine()).toBe(
      'leadership: leading as host-b-42-1a2b3c4d since 2026-03-01T09:00:00.000Z, lease until 2026-03-01T10:00:12.000Z (lease "rolecall" in table rolecall-lease)',
    );
    status.setLeadership(() => ({ ...leadership, leader: null, since: null, expiresAt: null }));
    expect(lastLine()).toBe('leadership: standby, no leader seen (lease "rolecall" in table rolecall-lease)');
  });

  it("ages like kubectl", () => {
    const at = (seconds: number) => new Date(now.getTime() - seconds * 1000).toISOString();
    expect([at(5), at(119), at(600), at(7200 * 3), at(86_400 * 9)].map((iso) => age(iso, now))).toEqual([
      "5s",
      "119s",
      "10m",
      "6h",
      "9d",
    ]);
  });
});

describe("rolecall status: against a daemon's HTTP API", () => {
  let app: FastifyInstance;
  let url: string;
  beforeAll(async () => {
    const status = store();
    app = buildServer({
      status,
      isReady: () => true,
      registry: new Metrics({ defaultMetrics: false }).registry,
      statusToken: token,
      events: status,
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(() => app.close());

  it("prints JSON rows and exits 3 while a manifest is not ready; 1 without the token or the daemon", async () => {
    const json = await runCli(["status", "--url", url, "--status-token", token, "--output", "json"]);
    expect(json.code).toBe(3);
    const parsed = JSON.parse(json.stdout) as {
      manifests: { name: string; ready: string }[];
      source: { revision: string };
      leadership: unknown;
    };
    expect(parsed.leadership).toBeNull();
    expect(parsed.manifests.map(({ name, ready }) => `${name} ${ready}`)).toEqual([
      "alpha True",
      "observed-one Unknown",
    ]);
    expect(parsed.source.revision).toBe(revision);

    const refused = await runCli(["status", "--url", url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("requires a status token");
    const closedPort = await runCli(["status", "--url", "http://127.0.0.1:9"]);
    expect(closedPort.code).toBe(1);
    expect(closedPort.stderr).toContain("cannot reach the daemon at http://127.0.0.1:9");
  });
});
