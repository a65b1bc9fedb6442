import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimDaemon, waitUntil } from "../../scripts/sim-daemon.mjs";
import { repoRoot } from "../support/cli.js";

/*
 * The image cannot be built here (no Docker engine), so this runs what its ENTRYPOINT runs: node with the same
 * flags, the same environment, on the simulated cloud, with the manifests volume not mounted yet.
 */
let dockerfile: string;
let scratch: string;
beforeAll(async () => {
  dockerfile = await readFile(path.join(repoRoot, "Dockerfile"), "utf8");
  scratch = await mkdtemp(path.join(os.tmpdir(), "rolecall-container-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const entrypoint = () => JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)![1]!) as string[];

describe("the container's entry point", () => {
  it("takes the manifests directory and host from the environment, and ships the page's assets", () => {
    const command = entrypoint();
    expect(command.slice(0, 1)).toEqual(["node"]);
    expect(command.slice(-2)).toEqual(["dist/cli.js", "run"]);
    expect(dockerfile).toMatch(/ROLECALL_MANIFESTS=\/manifests/);
    expect(dockerfile).toMatch(/ROLECALL_HOST=0\.0\.0\.0/);
    const runtime = dockerfile.slice(dockerfile.indexOf("AS runtime"));
    expect(runtime).toMatch(/^COPY web \.\/web$/m);
  });

  it("logs only JSON lines, from the first; is not ready until its manifests directory exists", async () => {
    const command = entrypoint();
    const nodeFlags = command.slice(1, command.indexOf("dist/cli.js"));
    expect(nodeFlags).toContain("--lite-mode");
    const manifests = path.join(scratch, "manifests");
    const daemon = await startSimDaemon({
      nodeFlags,
      args: ["--resync", "1s"],
      env: { ROLECALL_MANIFESTS: manifests, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    });
    try {
      // Two full passes over the missing directory, and still not ready.
      const firstResync = await waitUntil("a full pass", async () => {
        const status = (await (await fetch(`${daemon.url}/status`)).json()) as {
          summary: { lastResyncAt: string | null };
        };
        return status.summary.lastResyncAt ?? undefined;
      });
      await waitUntil("a second full pass", async () => {
        const status = (await (await fetch(`${daemon.url}/status`)).json()) as {
          summary: { lastResyncAt: string | null };
        };
        return status.summary.lastResyncAt !== firstResync;
      });
      expect((await fetch(`${daemon.url}/readyz`)).status).toBe(503);

      await cp(path.join(repoRoot, "manifests"), manifests, { recursive: true });
      await waitUntil(
        "readiness once the volume is there",
        async () => (await fetch(`${daemon.url}/readyz`)).ok,
      );
    } finally {
      const end = await daemon.stop();
      expect(end.code).toBe(0);
    }
    expect(daemon.output.length).toBeGreaterThan(3);
    const notJson = daemon.output.filter(({ line }) => {
      try {
        return typeof JSON.parse(line) !== "object";
      } catch {
        return true;
      }
    });
    expect(notJson).toEqual([]);
  });
});
