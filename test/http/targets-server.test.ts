import { execFile } from "node:child_process";
import { describe, expect, it } from "vitest";
import { buildServer } from "../../src/http/server.js";
import { mergedRegistry } from "../../src/observability/merged-registry.js";
import { Metrics } from "../../src/observability/metrics.js";
import type { StatusEvent } from "../../src/status/status-event.js";
import { StatusStore } from "../../src/status/status-store.js";
import {
  TargetsStatus,
  type TargetReach,
  type TargetsStatusDocument,
} from "../../src/status/targets-status.js";
import { parsePrometheusText } from "../support/prometheus-text.js";

const now = () => new Date("2030-01-01T00:00:00Z");

/** Two targets: prod reached (ready or not, as the test says), dev not reachable; one file in neither. */
function world(options: { prodReady: boolean; devReach?: TargetReach }) {
  const process = new StatusStore(now);
  process.setNotice("NoPermissionsBoundary", "no boundary");
  const prod = new StatusStore(now, "prod");
  prod.setManifests([{ name: "web", file: "/m/prod/web.yaml", generation: "g1", mode: "enforce" }], []);
  prod.markResync(new Date("2030-01-01T00:00:00Z"));
  const dev = new StatusStore(now, "dev");
  const devReach: TargetReach = options.devReach ?? {
    state: "unavailable",
    code: "AssumeRoleFailed",
    message: "target dev: AssumeRoleFailed: cannot act through role arn:aws:iam::222222222222:role/x",
    attempts: 3,
    retryAt: "2030-01-01T00:00:08.000Z",
  };
  const status = new TargetsStatus(
    process,
    [
      {
        name: "prod",
        account: "111111111111",
        regions: ["us-east-1", "eu-west-1"],
        store: prod,
        reach: () => ({ state: "reachable", since: "2030-01-01T00:00:00.000Z" }),
        ready: () => options.prodReady,
      },
      {
        name: "dev",
        account: "222222222222",
        regions: ["us-east-1"],
        store: dev,
        reach: () => devReach,
        ready: () => false,
      },
    ],
    () => [
      {
        file: "/m/stray.yaml",
        line: 1,
        column: 1,
        message: "file is in no target's directory",
        pointer: "",
        code: "OutsideTargets",
      },
    ],
    now,
  );
  const metrics = {
    process: new Metrics({ scope: "process" }),
    prod: new Metrics({ scope: { target: "prod" } }),
    dev: new Metrics({ scope: { target: "dev" } }),
  };
  const app = buildServer({
    status,
    isReady: () => status.readiness().ready,
    readinessDetails: () => {
      const { unavailable, waitingFor } = status.readiness();
      return { unavailable, waitingFor };
    },
    registry: mergedRegistry(() => [metrics.process.registry, metrics.prod.registry, metrics.dev.registry]),
    events: status,
  });
  return { app, status, metrics, prod };
}

function promtoolCheck(text: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile("/usr/bin/promtool", ["check", "metrics"], (error, stdout, stderr) => {
      resolve({
        code: error === null ? 0 : Number((error as { code?: unknown }).code ?? 1),
        output: stdout + stderr,
      });
    });
    child.stdin?.end(text);
  });
}

describe("the HTTP API with --targets", () => {
  it("/status groups by target, with who and where each is, why one is unavailable, and the files in none", async () => {
    const { app } = world({ prodReady: true });
    const document = (await app.inject("/status")).json<TargetsStatusDocument>();
    expect(document.notices).toEqual([{ reason: "NoPermissionsBoundary", message: "no boundary" }]);
    expect(document.outside).toEqual([
      { file: "/m/stray.yaml", line: 1, column: 1, message: "file is in no target's directory", pointer: "" },
    ]);
    expect(
      document.targets.map((target) => [target.name, target.account, target.regions, target.reachable]),
    ).toEqual([
      ["prod", "111111111111", ["us-east-1", "eu-west-1"], true],
      ["dev", "222222222222", ["us-east-1"], false],
    ]);
    expect(document.targets[0]?.manifests.map((manifest) => manifest.name)).toEqual(["web"]);
    expect(document.targets[1]).toMatchObject({
      state: "unavailable",
      error: { code: "AssumeRoleFailed", attempts: 3, retryAt: "2030-01-01T00:00:08.000Z" },
      manifests: [],
    });
    // Totals: one manifest, one invalid file (the one in no target's directory); dev has no resync yet but is not reached.
    expect(document.summary).toMatchObject({
      manifests: 1,
      invalid: 1,
      lastResyncAt: "2030-01-01T00:00:00.000Z",
    });
    expect(document).not.toHaveProperty("manifests");
  });

  it("/status/:name finds the manifest in its target, and ?target= looks in that one alone", async () => {
    const { app } = world({ prodReady: true });
    expect((await app.inject("/status/web")).json()).toMatchObject({ name: "web", target: "prod" });
    expect((await app.inject("/status/web?target=prod")).statusCode).toBe(200);
    expect((await app.inject("/status/web?target=dev")).statusCode).toBe(404);
  });

  it("/readyz is 200 once every reachable target did its first pass, naming the unavailable ones", async () => {
    const ready = await world({ prodReady: true }).app.inject("/readyz");
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({
      status: "ready",
      unavailable: [
        {
          target: "dev",
          code: "AssumeRoleFailed",
          message: "target dev: AssumeRoleFailed: cannot act through role arn:aws:iam::222222222222:role/x",
        },
      ],
      waitingFor: [],
    });
    const waiting = await world({ prodReady: false }).app.inject("/readyz");
    expect(waiting.statusCode).toBe(503);
    expect(waiting.json()).toMatchObject({ status: "not ready", waitingFor: ["prod"] });
    const connecting = await world({ prodReady: true, devReach: { state: "connecting" } }).app.inject(
      "/readyz",
    );
    expect(connecting.statusCode).toBe(503);
    expect(connecting.json()).toMatchObject({ waitingFor: ["dev"], unavailable: [] });
  });

  it("/metrics is one valid exposition: per-target families labelled, process-wide ones not, one TYPE each", async () => {
    const { app, metrics } = world({ prodReady: true });
    metrics.prod.reconcileTotal.inc({ result: "converged" });
    metrics.dev.reconcileTotal.inc({ result: "failed" });
    metrics.prod.request("iam", "ListRoles");
    metrics.process.request("dynamodb", "GetItem");
    metrics.process.leader.set(1);
    const response = await app.inject("/metrics");
    expect(response.headers["content-type"]).toContain("text/plain");
    const text = response.body;
    const exposition = parsePrometheusText(text);
    const samples = (name: string) => exposition.samples.filter((sample) => sample.name === name);
    expect(
      samples("rolecall_reconcile_total").map((sample) => [sample.labels.target, sample.labels.result]),
    ).toEqual([
      ["prod", "converged"],
      ["dev", "failed"],
    ]);
    expect(
      samples("rolecall_aws_api_requests_total").map((sample) => sample.labels.target ?? "(process)"),
    ).toEqual(["(process)", "prod"]);
    expect(samples("rolecall_leader")).toEqual([{ name: "rolecall_leader", labels: {}, value: 1 }]);
    expect(
      samples("nodejs_heap_size_total_bytes").every((sample) => sample.labels.target === undefined),
    ).toBe(true);
    expect(text.match(/^# TYPE rolecall_aws_api_requests_total /gm)).toHaveLength(1);
    // promtool parses strictly (a second TYPE line is an error) and lints; the only lint findings are prom-client's
    // own Node gauges named *_total, which /metrics has without --targets too.
    const checked = await promtoolCheck(text);
    const findings = checked.output
      .split("\n")
      .filter(
        (line) =>
          line !== "" && !/^nodejs_\w+_total non-counter metrics should not have "_total" suffix$/.test(line),
      );
    expect(findings).toEqual([]);
  });

  it("events of every target carry its name; the targets' own events go to the same subscribers", () => {
    const { status, prod } = world({ prodReady: true });
    const events: StatusEvent[] = [];
    const stop = status.subscribe((event) => events.push(event));
    prod.setManifests(
      [
        {
          name: "web",
          file: "/m/prod/web.yaml",
          generation: "g2",
          mode: "enforce",
          invalid: { message: "bad", inForceGeneration: "g1" },
        },
      ],
      [],
    );
    status.announce("dev", {
      type: "TargetUnavailable",
      message: "cannot assume",
      details: { code: "AssumeRoleFailed" },
    });
    stop();
    status.announce("dev", { type: "TargetRecovered", message: "back", details: {} });
    expect(events.map((event) => [event.type, event.target, event.manifest])).toEqual([
      ["ManifestInvalid", "prod", "web"],
      ["TargetUnavailable", "dev", null],
    ]);
    expect(events[1]?.text).toBe("rolecall: target unavailable in dev: cannot assume");
  });
});
