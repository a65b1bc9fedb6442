// Files changing under the reader. A manifest swapped for a FIFO between the reader's look at it and its open:
// opening a FIFO for reading blocks until a writer comes, and the daemon reads its directory one read at a time,
// so a blocked open would stop every later read and resync for good. A file rewritten during the read: half a
// manifest can be a valid one that grants more.
import { execFileSync } from "node:child_process";
import type * as FsPromises from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { readManifestDirectory, readManifestFile } from "../../src/fs/read-manifest-files.js";
import { loadManifestSet } from "../../src/manifest-set/load-manifest-set.js";
import { manifestYaml } from "../support/drift-kit.js";
import { within } from "../support/controller-harness.js";
import { tempDirs } from "../support/temp-dir.js";

// stat() by path sees what was there a moment earlier: a regular file (the race, made certain). And a writer
// that rewrites a file while the reader is reading it (between its first look and its first read).
const swapped = vi.hoisted(() => new Set<string>());
const writeDuringRead = vi.hoisted(() => new Map<string, string>());
vi.mock("node:fs/promises", async (importOriginal) => {
  const actual = await importOriginal<typeof FsPromises>();
  return {
    ...actual,
    open: async (...args: Parameters<typeof actual.open>) => {
      const handle = await actual.open(...args);
      const file = String(args[0]);
      const content = writeDuringRead.get(file);
      if (content === undefined) return handle;
      writeDuringRead.delete(file);
      const read = handle.read.bind(handle) as (...rest: unknown[]) => Promise<unknown>;
      let written = false;
      return Object.assign(Object.create(handle) as FsPromises.FileHandle, {
        read: async (...rest: unknown[]) => {
          if (!written) {
            written = true;
            await actual.writeFile(file, content);
          }
          return read(...rest);
        },
      });
    },
    stat: (file: string, ...rest: unknown[]) =>
      actual.stat(swapped.has(file) ? path.join(path.dirname(file), "regular.yaml") : file, ...(rest as [])),
  };
});

const dirs = tempDirs("file-swap");
const compileOptions = { iamPath: "/rolecall/", partition: "aws", defaultMode: "enforce" } as const;

afterEach(async () => {
  swapped.clear();
  writeDuringRead.clear();
  await dirs.cleanup();
});

describe("a file swapped for a FIFO after it was looked at", () => {
  it("is reported as not a regular file, without blocking the read", async () => {
    const directory = await dirs.make();
    const { writeFile } = await vi.importActual<typeof FsPromises>("node:fs/promises");
    await writeFile(path.join(directory, "regular.yaml"), "kind: InstanceAccess\n");
    const fifo = path.join(directory, "swapped.yaml");
    execFileSync("mkfifo", [fifo]);
    swapped.add(fifo);

    const input = await within("reading the swapped file", 5000, readManifestFile(fifo));
    expect(input).toEqual({
      file: fifo,
      error: expect.objectContaining({ code: "FileUnreadable", message: "not a regular file" }) as unknown,
    });

    const inputs = await within("reading the directory", 5000, readManifestDirectory(directory));
    expect(inputs.map((entry) => [path.basename(entry.file), "error" in entry])).toEqual([
      ["regular.yaml", false],
      ["swapped.yaml", true],
    ]);
  });
});

describe("a file rewritten while it is being read", () => {
  it("is reported as unreadable rather than read half-written, even when the half would be a valid manifest", async () => {
    const directory = await dirs.make();
    const file = path.join(directory, "reports.yaml");
    const { writeFile } = await vi.importActual<typeof FsPromises>("node:fs/promises");
    const old = manifestYaml({
      name: "reports",
      matchTags: { Team: "reports" },
      grants: [{ bucket: "reports", access: "read", prefixes: ["archive/2020/"] }],
    });
    await writeFile(file, old);
    // The writer truncates and has written the new version up to the middle of its prefix: "reports/2" alone is
    // a valid manifest, granting every key under "reports/2…" instead of "reports/2024/".
    const next = manifestYaml({
      name: "reports",
      matchTags: { Team: "reports" },
      grants: [{ bucket: "reports", access: "read", prefixes: ["reports/2024/"] }],
    });
    const half = next.slice(0, next.indexOf("reports/2024/") + "reports/2".length);
    const halfSet = loadManifestSet([{ file, bytes: Buffer.from(half) }], compileOptions);
    expect(halfSet.errors).toEqual([]);
    expect(JSON.stringify(halfSet.manifests[0]?.desired.policy.document)).toContain("reports/2*");

    writeDuringRead.set(file, half);
    const input = await readManifestFile(file);
    expect(input).toEqual({
      file,
      error: expect.objectContaining({
        code: "FileUnreadable",
        message: expect.stringContaining("changed while it was being read") as unknown,
      }) as unknown,
    });
    // The next read, once the write is done, sees the new version whole.
    await writeFile(file, next);
    const settled = await readManifestFile(file);
    expect("bytes" in settled && Buffer.from(settled.bytes).toString()).toBe(next);
  });
});
