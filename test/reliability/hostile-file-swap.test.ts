// A manifest file swapped for a FIFO between the reader's look at it and its open: opening a FIFO for reading
// blocks until a writer comes, and the daemon reads its directory one read at a time, so a blocked open would stop
// every later read and resync for good. The reader must notice and move on.
import { execFileSync } from "node:child_process";
import type * as FsPromises from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { readManifestDirectory, readManifestFile } from "../../src/fs/read-manifest-files.js";
import { tempDirs } from "../support/temp-dir.js";

// stat() by path sees what was there a moment earlier: a regular file (the race, made certain).
const swapped = vi.hoisted(() => new Set<string>());
vi.mock("node:fs/promises", async (importOriginal) => {
  const actual = await importOriginal<typeof FsPromises>();
  return {
    ...actual,
    stat: (file: string, ...rest: unknown[]) =>
      actual.stat(swapped.has(file) ? path.join(path.dirname(file), "regular.yaml") : file, ...(rest as [])),
  };
});

const dirs = tempDirs("file-swap");

afterEach(async () => {
  swapped.clear();
  await dirs.cleanup();
});

/** Fails instead of hanging when `promise` does not settle in time. */
async function within<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what} did not finish within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

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
