import { describe, expect, it } from "vitest";
import { readManifestDirectory } from "../../src/fs/read-manifest-files.js";
import { loadManifestSet } from "../../src/manifest-set/load-manifest-set.js";

describe("the example manifests", () => {
  it("are all valid", async () => {
    const set = loadManifestSet(await readManifestDirectory("manifests"), {
      iamPath: "/rolecall/",
      partition: "aws",
      defaultMode: "enforce",
    });
    expect(set.errors).toEqual([]);
    expect(set.manifests.map((manifest) => manifest.name)).toEqual([
      "analytics-reports",
      "dev-s3-read",
      "staging-logs",
    ]);
  });
});
