import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../support/cli.js";
import { exportedMetricNames, metricNames } from "./exported-metrics.js";

interface Target {
  readonly refId: string;
  readonly expr: string;
  readonly datasource: { readonly type: string; readonly uid: string };
}
interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly targets: readonly Target[];
}
interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly schemaVersion: number;
  readonly panels: readonly Panel[];
  readonly templating: {
    readonly list: readonly { name: string; type: string; query: unknown; definition?: string }[];
  };
}

const load = async () =>
  JSON.parse(await readFile(path.join(repoRoot, "deploy", "grafana", "rolecall.json"), "utf8")) as Dashboard;

/*
 * There is no Grafana here to import the dashboard into; these checks are what an import would trip over (ids,
 * layout, data sources, the variables the queries use), and then what makes a dashboard useless though it
 * imports: a query naming a metric that does not exist.
 */
describe("deploy/grafana/rolecall.json", () => {
  it("is a dashboard Grafana can import: unique panel ids, a layout on its 24-column grid, every query with a Prometheus data source", async () => {
    const dashboard = await load();
    expect(dashboard.uid).toBe("rolecall");
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    const variables = new Set(dashboard.templating.list.map((variable) => variable.name));
    expect([...variables].sort()).toEqual(["datasource", "job"]);
    const cells = new Set<string>();
    for (const panel of dashboard.panels) {
      expect(["stat", "timeseries"], panel.title).toContain(panel.type);
      const { x, y, w, h } = panel.gridPos;
      expect(x + w, panel.title).toBeLessThanOrEqual(24);
      // No two panels cover the same cell of the grid.
      for (let column = x; column < x + w; column += 1)
        for (let row = y; row < y + h; row += 1) {
          const cell = `${column},${row}`;
          expect(cells.has(cell), `${panel.title} overlaps at ${cell}`).toBe(false);
          cells.add(cell);
        }
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets) {
        expect(target.datasource, panel.title).toEqual({ type: "prometheus", uid: "${datasource}" });
        const used = [...target.expr.matchAll(/\$(\w+)/g)].map((match) => match[1]!);
        for (const name of used)
          if (!name.startsWith("__")) expect(variables.has(name), `${panel.title}: $${name}`).toBe(true);
      }
    }
  });

  it("every query names only metrics a running rolecall exports", async () => {
    const [dashboard, exported] = await Promise.all([load(), exportedMetricNames()]);
    const queries = [
      ...dashboard.panels.flatMap((panel) =>
        panel.targets.map((target) => ({ where: panel.title, expr: target.expr })),
      ),
      ...dashboard.templating.list
        .filter((variable) => variable.type === "query")
        .map((variable) => ({
          where: `$${variable.name}`,
          expr: /\((\w+)/.exec(variable.definition ?? "")?.[1] ?? "",
        })),
    ];
    expect(queries.length).toBeGreaterThan(15);
    const named = queries.flatMap(({ where, expr }) => metricNames(expr).map((name) => ({ where, name })));
    expect(new Set(named.map(({ name }) => name)).size).toBeGreaterThan(10);
    expect(named.filter(({ name }) => !exported.has(name))).toEqual([]);
  });
});
