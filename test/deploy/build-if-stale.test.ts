import { mkdir, rm, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { staleReason } from "../../scripts/build-if-stale.mjs";
import { tempDirs } from "../support/temp-dir.js";

const dirs = tempDirs("build-if-stale");
afterEach(async () => {
  await dirs.cleanup();
});

/** A tree as a build leaves it: sources at `sourceTime`, dist/cli.js at `builtTime` (seconds). */
async function tree(sourceTime: number, builtTime: number | undefined): Promise<string> {
  const root = await dirs.make();
  await mkdir(path.join(root, "src", "http"), { recursive: true });
  await mkdir(path.join(root, "scripts"));
  for (const file of [
    "src/cli.ts",
    "src/http/server.ts",
    "tsconfig.json",
    "tsconfig.build.json",
    "scripts/bundle-sdk.mjs",
  ]) {
    await writeFile(path.join(root, file), "x");
    await utimes(path.join(root, file), sourceTime, sourceTime);
  }
  for (const directory of ["src/http", "src"])
    await utimes(path.join(root, directory), sourceTime, sourceTime);
  if (builtTime !== undefined) {
    await mkdir(path.join(root, "dist"));
    await writeFile(path.join(root, "dist", "cli.js"), "x");
    await utimes(path.join(root, "dist", "cli.js"), builtTime, builtTime);
  }
  return root;
}

describe("scripts/build-if-stale.mjs (npm run demo builds only when the sources changed)", () => {
  it("skips the build of a fresh clone that npm ci has just built", async () => {
    expect(staleReason(await tree(1_000, 2_000))).toBeUndefined();
  });

  it("builds when there is no build, or a source, a tsconfig, the bundle script or a folder changed after it", async () => {
    expect(staleReason(await tree(1_000, undefined))).toMatch(/does not exist/);
    const edited = await tree(1_000, 2_000);
    await utimes(path.join(edited, "src/http/server.ts"), 3_000, 3_000);
    expect(staleReason(edited)).toMatch(/src changed/);
    const configured = await tree(1_000, 2_000);
    await utimes(path.join(configured, "tsconfig.build.json"), 3_000, 3_000);
    expect(staleReason(configured)).toMatch(/tsconfig\.build\.json changed/);
    const rebundled = await tree(1_000, 2_000);
    await utimes(path.join(rebundled, "scripts/bundle-sdk.mjs"), 3_000, 3_000);
    expect(staleReason(rebundled)).toMatch(/bundle-sdk\.mjs changed/);
    const deleted = await tree(1_000, 2_000);
    await rm(path.join(deleted, "src/http/server.ts"));
    expect(staleReason(deleted)).toMatch(/src changed/);
  });
});
