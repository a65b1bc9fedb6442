// loadManifestSet decides what the daemon may act on: valid manifests, and which names must be left alone.
import { describe, expect, it } from "vitest";
import type { ManifestFileInput } from "../../src/manifest/examine-file.js";
import { loadManifestSet } from "../../src/manifest-set/load-manifest-set.js";
import { fileError } from "../../src/manifest/manifest-error.js";

const options = { iamPath: "/rolecall/", partition: "aws", defaultMode: "enforce" } as const;

const file = (name: string, text: string): ManifestFileInput => ({ file: name, bytes: Buffer.from(text) });

function manifest(name: string, extra = ""): string {
  return [
    "apiVersion: rolecall.dev/v1alpha1",
    "kind: InstanceAccess",
    "metadata:",
    `  name: ${name}`,
    "spec:",
    "  instanceSelector: {instanceIds: [i-070823c5d33601d4f]}",
    "  grants: [{bucket: my-dev-bucket, access: read}]",
    extra,
  ].join("\n");
}

describe("loadManifestSet", () => {
  it("returns valid manifests sorted by name, with their file, document index and first line", () => {
    const set = loadManifestSet(
      [
        file("b.yaml", `# two documents\n${manifest("zeta")}\n---\n${manifest("alpha")}`),
        file("a.yaml", manifest("mid")),
      ],
      options,
    );
    expect(set.errors).toEqual([]);
    expect(set.fileCount).toBe(2);
    expect(set.manifests.map((valid) => [valid.name, valid.file, valid.documentIndex, valid.line])).toEqual([
      ["alpha", "b.yaml", 1, 11],
      ["mid", "a.yaml", 0, 1],
      ["zeta", "b.yaml", 0, 2],
    ]);
    expect(set.invalidNames.size).toBe(0);
    expect(set.unnamedInvalid).toBe(false);
  });

  it("remembers the names of invalid manifests, so their AWS resources are left alone", () => {
    const set = loadManifestSet(
      [file("ok.yaml", manifest("ok")), file("bad.yaml", manifest("broken", "  mode: sometimes"))],
      options,
    );
    expect(set.manifests.map((valid) => valid.name)).toEqual(["ok"]);
    expect([...set.invalidNames]).toEqual(["broken"]);
    expect(set.unnamedInvalid).toBe(false);
  });

  it.each([
    [
      "an unreadable file",
      { file: "x.yaml", error: fileError("x.yaml", "FileUnreadable", "cannot read file: EIO") },
    ],
    ["a file that is not UTF-8", { file: "x.yaml", bytes: Uint8Array.from([0x61, 0x3a, 0x20, 0xff]) }],
    ["a YAML syntax error", file("x.yaml", "a: [1\n")],
    ["a document without a name", file("x.yaml", "apiVersion: rolecall.dev/v1alpha1\nmetadata: {}\n")],
    ["a document that is a list", file("x.yaml", "- a\n")],
  ] satisfies [string, ManifestFileInput][])("flags %s as invalid without a name", (_kind, input) => {
    const set = loadManifestSet([input, file("ok.yaml", manifest("ok"))], options);
    expect(set.errors.length).toBeGreaterThan(0);
    expect(set.unnamedInvalid).toBe(true);
    expect(set.manifests.map((valid) => valid.name)).toEqual(["ok"]);
  });

  it("rejects a document with a duplicate key even when the value it keeps is valid", () => {
    const set = loadManifestSet(
      [file("dup.yaml", manifest("dup", "  mode: observe\n  mode: enforce"))],
      options,
    );
    expect(set.errors.map((error) => [error.line, error.code])).toEqual([[9, "DuplicateKey"]]);
    expect(set.manifests).toEqual([]);
    expect([...set.invalidNames]).toEqual(["dup"]);
  });

  it("rejects every manifest sharing a name, and keeps the others", () => {
    const set = loadManifestSet(
      [file("a.yaml", manifest("same")), file("b.yaml", manifest("same")), file("c.yaml", manifest("other"))],
      options,
    );
    expect(set.manifests.map((valid) => valid.name)).toEqual(["other"]);
    expect(set.errors.map((error) => [error.file, error.code, error.message])).toEqual([
      ["a.yaml", "DuplicateName", expect.stringContaining("also used at b.yaml:4:9")],
      ["b.yaml", "DuplicateName", expect.stringContaining("also used at a.yaml:4:9")],
    ]);
    expect([...set.invalidNames]).toEqual(["same"]);
  });

  it("rejects manifests whose default and explicit IAM names collide, whatever the case", () => {
    const set = loadManifestSet(
      [
        file("a.yaml", manifest("team")),
        file("b.yaml", manifest("other", "  iam: {instanceProfileName: ROLECALL-TEAM}")),
        file("c.yaml", manifest("third")),
      ],
      options,
    );
    expect(set.manifests.map((valid) => valid.name)).toEqual(["third"]);
    expect(set.errors.map((error) => [error.file, error.line, error.column, error.pointer])).toEqual([
      ["a.yaml", 4, 9, "/metadata/name"],
      ["b.yaml", 8, 30, "/spec/iam/instanceProfileName"],
    ]);
    expect(set.errors[0]?.message).toBe(
      'IAM instance profile name "rolecall-team" is also claimed by manifest "other" (b.yaml:4:9)',
    );
    expect([...set.invalidNames].sort()).toEqual(["other", "team"]);
  });

  it("does not treat the same name for a policy and a role as a clash: IAM keeps them apart", () => {
    const set = loadManifestSet(
      [
        file("a.yaml", manifest("a", "  iam: {policyName: Shared}")),
        file("b.yaml", manifest("b", "  iam: {roleName: Shared}")),
      ],
      options,
    );
    expect(set.errors).toEqual([]);
  });

  it("gives a manifest the same generation however it is written, and a new one when it changes", () => {
    const yaml = loadManifestSet([file("m.yaml", manifest("gen"))], options).manifests[0]!;
    const json = loadManifestSet(
      [
        file(
          "m.json",
          JSON.stringify({
            spec: {
              grants: [{ access: "read", bucket: "my-dev-bucket" }],
              instanceSelector: { instanceIds: ["i-070823c5d33601d4f"] },
            },
            metadata: { name: "gen" },
            kind: "InstanceAccess",
            apiVersion: "rolecall.dev/v1alpha1",
          }),
        ),
      ],
      options,
    ).manifests[0]!;
    const changed = loadManifestSet([file("m.yaml", manifest("gen", "  mode: observe"))], options)
      .manifests[0]!;
    expect(yaml.generation).toMatch(/^[0-9a-f]{16}$/);
    expect(json.generation).toBe(yaml.generation);
    expect(changed.generation).not.toBe(yaml.generation);
  });

  it("sorts errors by file, line and column, and reports each once", () => {
    const set = loadManifestSet(
      [
        file("b.yaml", manifest("b", "  mode: x\n  onConflict: y")),
        file("a.yaml", manifest("a", "  adopt: 1")),
      ],
      options,
    );
    expect(set.errors.map((error) => `${error.file}:${error.line}`)).toEqual([
      "a.yaml:8",
      "b.yaml:8",
      "b.yaml:9",
    ]);
  });
});
