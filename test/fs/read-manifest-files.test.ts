import { execFileSync } from "node:child_process";
import { mkdir, symlink, truncate, writeFile, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  ManifestDirectoryError,
  readAtMost,
  readManifestDirectory,
  readManifestFile,
  readManifestPaths,
} from "../../src/fs/read-manifest-files.js";
import { maxManifestFileBytes } from "../../src/manifest/decode-text.js";
import type { ManifestFileInput } from "../../src/manifest/examine-file.js";
import { tempDirs } from "../support/temp-dir.js";

const temp = tempDirs("fs");
afterEach(temp.cleanup);

/** Creates files (with their directories) under root; content defaults to a line naming the file. */
async function layout(root: string, files: readonly string[]): Promise<void> {
  for (const file of files) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), `# ${file}\n`);
  }
}

const files = (inputs: readonly ManifestFileInput[], root: string) =>
  inputs.map((input) => path.relative(root, input.file));
const errors = (inputs: readonly ManifestFileInput[], root: string) =>
  inputs.flatMap((input) =>
    "error" in input
      ? [[path.relative(root, input.file), input.error.code, input.error.message] as const]
      : [],
  );

describe("readManifestDirectory", () => {
  it("reads *.yaml, *.yml and *.json files in nested directories, sorted, with their bytes", async () => {
    const root = await temp.make();
    await layout(root, [
      "b.yaml",
      "a.yml",
      "team/c.json",
      "team/deeper/still/d.yaml",
      "UPPER.YAML",
      "z/e.yaml",
    ]);
    const inputs = await readManifestDirectory(root);
    expect(files(inputs, root)).toEqual([
      "UPPER.YAML",
      "a.yml",
      "b.yaml",
      "team/c.json",
      "team/deeper/still/d.yaml",
      "z/e.yaml",
    ]);
    expect(errors(inputs, root)).toEqual([]);
    const first = inputs[0]!;
    expect("bytes" in first && Buffer.from(first.bytes).toString("utf8")).toBe("# UPPER.YAML\n");
  });

  it("ignores dot-directories, dot-files and other extensions", async () => {
    const root = await temp.make();
    await layout(root, [
      "kept.yaml",
      ".git/config.yaml",
      ".github/workflows/ci.yml",
      "team/.hidden/x.yaml",
      ".editor.yaml",
      "README.md",
      "notes.txt",
      "kept.yaml.bak",
      "yaml",
      "schema.yaml.orig",
      "team/kept.json",
    ]);
    expect(files(await readManifestDirectory(root), root)).toEqual(["kept.yaml", "team/kept.json"]);
  });

  it("shows paths as the caller gave the root, also for a relative root", async () => {
    const root = await temp.make();
    await layout(root, ["sub/m.yaml"]);
    const relativeRoot = path.relative(process.cwd(), root);
    const inputs = await readManifestDirectory(relativeRoot);
    expect(inputs.map((input) => input.file)).toEqual([path.join(relativeRoot, "sub", "m.yaml")]);
  });

  it("does not hang on symlink loops, and reads each directory once", async () => {
    const root = await temp.make();
    await layout(root, ["a/m.yaml"]);
    await symlink(root, path.join(root, "a", "back-to-root"));
    await symlink(path.join(root, "a"), path.join(root, "a", "self"));
    await symlink("a", path.join(root, "a-again")); // a second path to a directory already read
    const inputs = await readManifestDirectory(root);
    expect(files(inputs, root)).toEqual(["a/m.yaml"]);
  });

  it("reads a Kubernetes ConfigMap volume: files are links through ..data into a hidden timestamped directory", async () => {
    const root = await temp.make();
    await layout(root, ["..2026_11_28_01_00_00.123/app.yaml"]);
    await symlink("..2026_11_28_01_00_00.123", path.join(root, "..data"));
    await symlink("..data/app.yaml", path.join(root, "app.yaml"));
    const inputs = await readManifestDirectory(root);
    expect(files(inputs, root)).toEqual(["app.yaml"]);
    expect(errors(inputs, root)).toEqual([]);
  });

  it("follows symlinks that stay inside the root, reading a linked file once under its own name", async () => {
    const root = await temp.make();
    await layout(root, ["shared/base.yaml"]);
    await mkdir(path.join(root, "team"));
    await symlink("../shared/base.yaml", path.join(root, "team", "linked.yaml"));
    const inputs = await readManifestDirectory(root);
    // Reachable directly and through team/linked.yaml: one input, so it cannot clash with itself by name.
    expect(files(inputs, root)).toEqual(["shared/base.yaml"]);
    expect(errors(inputs, root)).toEqual([]);
  });

  it("reports symlinks that leave the root, to a file or a directory, without reading them", async () => {
    const outside = await temp.make();
    await layout(outside, ["secret.yaml", "dir/inner.yaml", "notes.txt"]);
    const root = await temp.make();
    await layout(root, ["ok.yaml"]);
    await symlink(path.join(outside, "secret.yaml"), path.join(root, "file-link.yaml"));
    await symlink(path.join(outside, "dir"), path.join(root, "dir-link"));
    await symlink(path.join(outside, "notes.txt"), path.join(root, "notes-link.txt")); // not a manifest: ignored

    const inputs = await readManifestDirectory(root);
    expect(files(inputs, root)).toEqual(["dir-link", "file-link.yaml", "ok.yaml"]);
    expect(errors(inputs, root)).toEqual([
      [
        "dir-link",
        "SymlinkOutsideRoot",
        `symlink points outside the manifests directory (to ${path.join(outside, "dir")}); it is ignored`,
      ],
      [
        "file-link.yaml",
        "SymlinkOutsideRoot",
        `symlink points outside the manifests directory (to ${path.join(outside, "secret.yaml")}); it is ignored`,
      ],
    ]);
  });

  it("reports a dangling symlink with a manifest name as unreadable", async () => {
    const root = await temp.make();
    await symlink(path.join(root, "missing.yaml"), path.join(root, "dangling.yaml"));
    expect(errors(await readManifestDirectory(root), root)).toEqual([
      ["dangling.yaml", "FileUnreadable", "cannot follow symlink: ENOENT"],
    ]);
  });

  it("turns an entry that cannot be read as a file into an error entry, not a silent gap", async () => {
    const root = await temp.make();
    await layout(root, ["ok.yaml"]);
    execFileSync("mkfifo", [path.join(root, "pipe.yaml")]); // a FIFO: opening it to read would block
    const inputs = await readManifestDirectory(root);
    expect(files(inputs, root)).toEqual(["ok.yaml", "pipe.yaml"]);
    expect(errors(inputs, root)).toEqual([["pipe.yaml", "FileUnreadable", "not a regular file"]]);
  });

  it("refuses an oversized file from its size alone, before reading it", async () => {
    const root = await temp.make();
    // A sparse file: 4 GiB on paper, nothing on disk. Reading it would be slow; stat() is enough.
    await writeFile(path.join(root, "huge.yaml"), "");
    await truncate(path.join(root, "huge.yaml"), 4 * 1024 ** 3);
    expect(errors(await readManifestDirectory(root), root)).toEqual([
      [
        "huge.yaml",
        "FileTooLarge",
        `file is ${4 * 1024 ** 3} bytes; manifests are limited to ${maxManifestFileBytes} bytes (1 MiB)`,
      ],
    ]);
  });

  it("throws ManifestDirectoryError when the root is missing or not a directory", async () => {
    const root = await temp.make();
    await layout(root, ["file.yaml"]);
    await expect(readManifestDirectory(path.join(root, "nope"))).rejects.toMatchObject({
      name: "ManifestDirectoryError",
      code: "ENOENT",
    });
    const notADirectory = readManifestDirectory(path.join(root, "file.yaml"));
    await expect(notADirectory).rejects.toBeInstanceOf(ManifestDirectoryError);
    await expect(notADirectory).rejects.toMatchObject({ code: "ENOTDIR" });
  });
});

describe("readManifestFile", () => {
  it("returns the file's bytes exactly", async () => {
    const root = await temp.make();
    const bytes = Buffer.from([0xef, 0xbb, 0xbf, 0x61, 0x3a, 0x20, 0xe9, 0x0a]);
    await writeFile(path.join(root, "raw.yaml"), bytes);
    const input = await readManifestFile(path.join(root, "raw.yaml"), "shown.yaml");
    expect(input.file).toBe("shown.yaml");
    expect("bytes" in input && Buffer.from(input.bytes)).toEqual(bytes);
  });

  it("reads a file of exactly the size limit", async () => {
    const root = await temp.make();
    await writeFile(path.join(root, "limit.yaml"), "#".repeat(maxManifestFileBytes));
    const input = await readManifestFile(path.join(root, "limit.yaml"));
    expect("bytes" in input && input.bytes.byteLength).toBe(maxManifestFileBytes);
  });

  it("reports a read error as an error entry: a directory where a file is expected, a missing file", async () => {
    const root = await temp.make();
    await layout(root, ["plain.yaml", "dir.yaml/inside.yaml"]);
    const inputs = [
      await readManifestFile(path.join(root, "dir.yaml")),
      await readManifestFile(path.join(root, "plain.yaml", "below.yaml")),
      await readManifestFile(path.join(root, "absent.yaml")),
    ];
    expect(errors(inputs, root)).toEqual([
      ["dir.yaml", "FileUnreadable", "not a regular file"],
      ["plain.yaml/below.yaml", "FileUnreadable", "cannot read file: ENOTDIR"],
      ["absent.yaml", "FileUnreadable", "cannot read file: ENOENT"],
    ]);
    for (const input of inputs) expect("error" in input && input.error).toMatchObject({ line: 1, column: 1 });
  });
});

/** A handle over `content` that records the size of every buffer it is asked to read into. */
function recordingHandle(content: Buffer): { handle: FileHandle; bufferSizes: number[] } {
  const bufferSizes: number[] = [];
  const read = (buffer: Buffer, offset: number, length: number, position: number) => {
    bufferSizes.push(buffer.length);
    const bytesRead = content.copy(buffer, offset, position, Math.min(content.length, position + length));
    return Promise.resolve({ bytesRead, buffer });
  };
  return { handle: { read } as unknown as FileHandle, bufferSizes };
}

describe("readAtMost", () => {
  it("finds the end of a file that kept its size within the one buffer of that size (a byte more)", async () => {
    const { handle, bufferSizes } = recordingHandle(Buffer.from("kind: InstanceAccess\n"));
    const bytes = await readAtMost(handle, maxManifestFileBytes + 1, 21);
    expect(Buffer.from(bytes).toString()).toBe("kind: InstanceAccess\n");
    expect(bufferSizes).toEqual([22, 22]);
  });

  it("reads on past the expected size of a file that grew, and stops at the limit", async () => {
    const grown = Buffer.from("x".repeat(200_000));
    const whole = recordingHandle(grown);
    expect(Buffer.from(await readAtMost(whole.handle, 1_000_000, 10)).equals(grown)).toBe(true);
    expect(whole.bufferSizes.slice(0, 2)).toEqual([11, 64 * 1024]);
    const capped = recordingHandle(grown);
    expect((await readAtMost(capped.handle, 100_000, 10)).byteLength).toBe(100_000);
  });
});

describe("readManifestPaths", () => {
  it("reads files as given and directories recursively, in the order given", async () => {
    const root = await temp.make();
    await layout(root, ["dir/b.yaml", "dir/a.yaml", "single.txt", "other.json"]);
    const inputs = await readManifestPaths([
      path.join(root, "other.json"),
      path.join(root, "dir"),
      path.join(root, "single.txt"), // named explicitly: read whatever its extension
      path.join(root, "missing"),
    ]);
    expect(files(inputs, root)).toEqual(["other.json", "dir/a.yaml", "dir/b.yaml", "single.txt", "missing"]);
    expect(errors(inputs, root)).toEqual([["missing", "FileUnreadable", "cannot read: ENOENT"]]);
  });

  it("reads a file reached twice only once, so it cannot clash with itself", async () => {
    const root = await temp.make();
    await layout(root, ["dir/a.yaml", "dir/b.yaml"]);
    const inputs = await readManifestPaths([
      path.join(root, "dir", "a.yaml"),
      path.join(root, "dir"),
      path.join(root, "dir") + path.sep,
      path.join(root, "dir", ".", "b.yaml"),
    ]);
    expect(files(inputs, root)).toEqual(["dir/a.yaml", "dir/b.yaml"]);
  });

  it("treats a symlink to a directory as a directory", async () => {
    const root = await temp.make();
    await layout(root, ["real/m.yaml"]);
    await symlink(path.join(root, "real"), path.join(root, "link"));
    const inputs = await readManifestPaths([path.join(root, "link")]);
    expect(files(inputs, root)).toEqual(["link/m.yaml"]);
  });
});
