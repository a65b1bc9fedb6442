import { execFile } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { repoRoot } from "../support/cli.js";
import { exportedMetricNames, metricNames } from "./exported-metrics.js";

const run = promisify(execFile);
const rulesDirectory = path.join(repoRoot, "deploy", "prometheus");
const promtool = "/usr/bin/promtool";

/**
 * Names a rule may read that rolecall does not export, each for a stated reason. Everything else a rule names
 * must be on a real daemon's /metrics.
 */
const notFromRolecall = new Map([["up", "recorded by Prometheus itself for every scrape"]]);

async function promtoolRun(args: readonly string[], cwd: string) {
  try {
    const { stdout, stderr } = await run(promtool, args, { cwd });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failure = error as { code?: unknown; stdout?: string; stderr?: string };
    if (failure.code === "ENOENT")
      throw new Error(
        `promtool is not installed at ${promtool}; these tests need it. Install it with: apt-get install -y prometheus (.ci/run does this when it is missing)`,
      );
    return { code: Number(failure.code), output: `${failure.stdout ?? ""}${failure.stderr ?? ""}` };
  }
}

interface Rule {
  readonly alert: string;
  readonly expr: string;
}

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), "rolecall-rules-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe("deploy/prometheus/rolecall-rules.yaml", () => {
  it("passes promtool check rules", async () => {
    const result = await promtoolRun(["check", "rules", "rolecall-rules.yaml"], rulesDirectory);
    expect(result.output).toContain("SUCCESS: 10 rules found");
    expect(result.code).toBe(0);
  });

  it("passes its promtool unit tests, which cover every alert", async () => {
    const result = await promtoolRun(["test", "rules", "rolecall-rules.test.yaml"], rulesDirectory);
    expect(result.output).toContain("SUCCESS");
    expect(result.code).toBe(0);
    const rules = parse(await readFile(path.join(rulesDirectory, "rolecall-rules.yaml"), "utf8")) as {
      groups: { rules: Rule[] }[];
    };
    const tests = parse(await readFile(path.join(rulesDirectory, "rolecall-rules.test.yaml"), "utf8")) as {
      tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    const fired = new Set(
      tests.tests.flatMap((test) =>
        test.alert_rule_test.filter((check) => check.exp_alerts.length > 0).map((check) => check.alertname),
      ),
    );
    expect([...fired].sort()).toEqual(
      rules.groups.flatMap((group) => group.rules.map((rule) => rule.alert)).sort(),
    );
  });

  it("the unit tests fail when an alert loses its patience (they are not vacuous)", async () => {
    const rules = await readFile(path.join(rulesDirectory, "rolecall-rules.yaml"), "utf8");
    const hasty = rules.replace(/(alert: RolecallDriftPersists[\s\S]*?for: )15m/, "$10m");
    expect(hasty).not.toBe(rules);
    await writeFile(path.join(scratch, "rolecall-rules.yaml"), hasty);
    await copyFile(
      path.join(rulesDirectory, "rolecall-rules.test.yaml"),
      path.join(scratch, "rolecall-rules.test.yaml"),
    );
    const result = await promtoolRun(["test", "rules", "rolecall-rules.test.yaml"], scratch);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("RolecallDriftPersists");
  });

  it("reads only series a running rolecall exports (and the listed exceptions)", async () => {
    const exported = await exportedMetricNames();
    expect(exported.has("rolecall_manifests")).toBe(true);
    const rules = parse(await readFile(path.join(rulesDirectory, "rolecall-rules.yaml"), "utf8")) as {
      groups: { rules: Rule[] }[];
    };
    const unknown = rules.groups
      .flatMap((group) => group.rules)
      .flatMap((rule) => metricNames(rule.expr).map((name) => ({ alert: rule.alert, name })))
      .filter(({ name }) => !exported.has(name) && !notFromRolecall.has(name));
    expect(unknown).toEqual([]);
    // The exceptions are still needed: none of them is exported already (then it must leave the list).
    for (const name of notFromRolecall.keys()) expect(exported.has(name), name).toBe(false);
  });
});

describe("metricNames", () => {
  it("finds the metrics of an expression and nothing else", () => {
    expect(
      metricNames(
        'sum by (service) (rate(rolecall_aws_api_request_errors_total{code=~"Throttling|x"}[5m])) / ignoring(code) sum(rolecall_aws_api_requests_total) > 0.05',
      ),
    ).toEqual(["rolecall_aws_api_request_errors_total", "rolecall_aws_api_requests_total"]);
    expect(metricNames('time() - max(rolecall_last_resync_timestamp_seconds{job="$job"}) > 3 * up')).toEqual([
      "rolecall_last_resync_timestamp_seconds",
      "up",
    ]);
    expect(metricNames("histogram_quantile(0.95, sum by (le) (rate(a_bucket[$__rate_interval])))")).toEqual([
      "a_bucket",
    ]);
  });
});
