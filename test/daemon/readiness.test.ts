import { mkdir, rm } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { controllerHarnesses } from "../support/controller-harness.js";

const harnesses = controllerHarnesses("readiness");

afterEach(async () => {
  await harnesses.cleanup();
});

const readyz = async (h: Awaited<ReturnType<typeof harnesses.start>>) => {
  const response = await h.app.inject({ url: "/readyz" });
  return response.statusCode;
};

describe("/readyz and the manifests directory", () => {
  it("is 503 while the directory does not exist, even after full passes; 200 once it is there and passed", async () => {
    const h = await harnesses.start([], { instances: [{ id: "i-0aaaaaaaaaaaaaaa1", tags: { Team: "a" } }] });
    await rm(h.directory, { recursive: true });
    await h.resync();
    await h.resync();
    // The passes ran (a resync over nothing is still a resync) and still the daemon is not ready.
    expect(h.status.document().summary.lastResyncAt).not.toBeNull();
    expect(h.status.document().notices.map((notice) => notice.reason)).toContain("ManifestsUnreadable");
    expect(h.controller.isReady()).toBe(false);
    expect(await readyz(h)).toBe(503);

    await mkdir(h.directory);
    await h.write({ name: "alpha", matchTags: { Team: "a" } });
    await h.resync();
    expect(h.controller.isReady()).toBe(true);
    expect(await readyz(h)).toBe(200);
    expect(h.status.manifest("alpha")?.lastReconcile?.result).toBe("converged");
  });

  it("goes back to 503 when the directory disappears after the daemon was ready", async () => {
    const h = await harnesses.start([{ name: "alpha", matchTags: { Team: "a" } }]);
    await h.resync();
    expect(await readyz(h)).toBe(200);
    await rm(h.directory, { recursive: true });
    await h.changed();
    expect(await readyz(h)).toBe(503);
    await mkdir(h.directory);
    await h.changed();
    expect(await readyz(h)).toBe(200);
  });
});
