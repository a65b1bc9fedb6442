import { describe, expect, it } from "vitest";
import { TargetDirectories } from "../../src/daemon/target-directories.js";
import { loadManifestSet } from "../../src/manifest-set/load-manifest-set.js";
import type { ManifestFileInput } from "../../src/manifest/examine-file.js";
import type { TargetSpec } from "../../src/targets/target-spec.js";
import { manifestYaml } from "../support/drift-kit.js";

const targets: TargetSpec[] = [
  { name: "prod", manifests: "prod", account: "111111111111", regions: ["us-east-1"] },
  { name: "dev", manifests: "dev", account: "222222222222", regions: ["us-east-1"] },
];
const compile = { iamPath: "/rolecall/", defaultMode: "enforce" as const };
const file = (name: string, content: string): ManifestFileInput => ({
  file: `/m/${name}`,
  bytes: new TextEncoder().encode(content),
});

function directories(files: () => ManifestFileInput[]) {
  let reads = 0;
  const reader = new TargetDirectories("/m", targets, compile, () => {
    reads += 1;
    return Promise.resolve(files());
  });
  return { reader, reads: () => reads };
}

describe("TargetDirectories", () => {
  it("gives each target the files of its own sub-directory, from one read", async () => {
    const { reader } = directories(() => [
      file("prod/web.yaml", manifestYaml({ name: "web", matchTags: { app: "web" } })),
      file("dev/api.yaml", manifestYaml({ name: "api", matchTags: { app: "api" } })),
    ]);
    expect((await reader.readerFor("prod")()).map((input) => input.file)).toEqual(["/m/prod/web.yaml"]);
    expect((await reader.readerFor("dev")()).map((input) => input.file)).toEqual(["/m/dev/api.yaml"]);
    expect(reader.outside()).toEqual([]);
  });

  it("protects, in every other target, the names of a target not reached; nothing at all before the first read", async () => {
    const { reader } = directories(() => [
      file("prod/web.yaml", manifestYaml({ name: "web", matchTags: { app: "web" } })),
      file("dev/api.yaml", manifestYaml({ name: "api", matchTags: { app: "api" } })),
    ]);
    expect(reader.holdsFor("prod", ["dev"]).holdRemovals).toBe(true);
    await reader.read();
    expect(reader.holdsFor("prod", ["dev"])).toEqual({
      protectedNames: new Set(["api"]),
      holdRemovals: false,
    });
    expect(reader.holdsFor("prod", [])).toEqual({ protectedNames: new Set(), holdRemovals: false });
    // A target's own names are its own business, even while it is the one not reached.
    expect(reader.holdsFor("dev", ["dev"]).protectedNames).toEqual(new Set());
  });

  it("an unreadable file in an unreached target, or a file in no target's directory, holds every removal", async () => {
    let files = [file("dev/broken.yaml", "key: [unclosed")];
    const { reader } = directories(() => files);
    await reader.read();
    expect(reader.holdsFor("prod", ["dev"]).holdRemovals).toBe(true);
    expect(reader.holdsFor("prod", []).holdRemovals).toBe(false);
    files = [file("stray.yaml", manifestYaml({ name: "stray", matchTags: { app: "x" } }))];
    await reader.read();
    expect(reader.outside().map((error) => [error.file, error.code])).toEqual([
      ["/m/stray.yaml", "OutsideTargets"],
    ]);
    expect(reader.holdsFor("prod", []).holdRemovals).toBe(true);
  });

  it("a read asked for during another starts after it (it may be about a later change), and is shared", async () => {
    let release: () => void = () => undefined;
    let reads = 0;
    const reader = new TargetDirectories("/m", targets, compile, async () => {
      reads += 1;
      if (reads === 1)
        await new Promise<void>((resolve) => {
          release = resolve;
        });
      return [];
    });
    const first = reader.read();
    const second = reader.read();
    const third = reader.read();
    expect(reads).toBe(1);
    release();
    await Promise.all([first, second, third]);
    expect(reads).toBe(2);
    expect(second).toBe(third);
  });

  it("compiles an unreachable target's files once per directory read, not once per pass", async () => {
    let files = [file("dev/api.yaml", manifestYaml({ name: "api", matchTags: { app: "api" } }))];
    const compiled: string[] = [];
    const reader = new TargetDirectories(
      "/m",
      targets,
      compile,
      () => Promise.resolve(files),
      (inputs, options, memo) => {
        compiled.push(inputs.map((input) => input.file).join(","));
        return loadManifestSet(inputs, options, memo);
      },
    );
    await reader.read();
    for (let pass = 0; pass < 5; pass += 1)
      expect(reader.holdsFor("prod", ["dev"]).protectedNames).toEqual(new Set(["api"]));
    expect(compiled).toEqual(["/m/dev/api.yaml"]);
    // Reachability only picks among what was compiled: prod turning unreachable too compiles prod's (none).
    expect(reader.holdsFor("dev", ["prod", "dev"]).protectedNames).toEqual(new Set());
    expect(reader.holdsFor("prod", []).protectedNames).toEqual(new Set());
    expect(reader.holdsFor("prod", ["dev"]).protectedNames).toEqual(new Set(["api"]));
    expect(compiled).toEqual(["/m/dev/api.yaml", ""]);
    // A new read forgets what the last one claimed: the renamed manifest is the one protected now.
    files = [file("dev/api.yaml", manifestYaml({ name: "api-v2", matchTags: { app: "api" } }))];
    await reader.read();
    expect(reader.holdsFor("prod", ["dev"]).protectedNames).toEqual(new Set(["api-v2"]));
    expect(reader.holdsFor("prod", ["dev"]).protectedNames).toEqual(new Set(["api-v2"]));
    expect(compiled).toEqual(["/m/dev/api.yaml", "", "/m/dev/api.yaml"]);
  });
});
