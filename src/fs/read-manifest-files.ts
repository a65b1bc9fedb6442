import { constants } from "node:fs";
import { lstat, open, realpath, stat, type FileHandle } from "node:fs/promises";
import path from "node:path";
import pLimit from "p-limit";
import { maxManifestFileBytes } from "../manifest/decode-text.js";
import type { ManifestFileInput } from "../manifest/examine-file.js";
import { fileError } from "../manifest/manifest-error.js";
import { errorCode } from "./error-code.js";
import { findManifestFiles } from "./find-manifest-files.js";
import { ManifestDirectoryError } from "./manifest-directory-error.js";

export { ManifestDirectoryError };

/**
 * Reads every manifest file under `root`. Dot-files and dot-directories (.git) are skipped; symlinks are followed
 * only while they stay inside `root`. A file that cannot be read becomes an error entry rather than vanishing,
 * so callers never mistake an unreadable manifest for a removed one.
 */
export async function readManifestDirectory(root: string): Promise<ManifestFileInput[]> {
  const rootReal = await resolveRoot(root);
  const { unreachable, files } = await findManifestFiles(root, rootReal);
  // Read in parallel (bounded): a thousand small files one after another cost a third of a second.
  const limit = pLimit(32);
  const read = await Promise.all(
    files.map(({ target, shown }) => limit(() => readManifestFile(target, shown))),
  );
  return [...unreachable, ...read];
}

/** The root's real path: symlinks under it are judged by whether they stay inside that. */
async function resolveRoot(root: string): Promise<string> {
  try {
    const rootReal = await realpath(root);
    if (!(await stat(rootReal)).isDirectory())
      throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
    return rootReal;
  } catch (error) {
    throw new ManifestDirectoryError(root, errorCode(error));
  }
}

/** Reads one file, refusing oversized ones before loading them. */
export async function readManifestFile(file: string, shown: string = file): Promise<ManifestFileInput> {
  try {
    const info = await stat(file);
    if (!info.isFile())
      return { file: shown, error: fileError(shown, "FileUnreadable", "not a regular file") };
    if (info.size > maxManifestFileBytes) {
      return {
        file: shown,
        error: fileError(
          shown,
          "FileTooLarge",
          `file is ${info.size} bytes; manifests are limited to ${maxManifestFileBytes} bytes (1 MiB)`,
        ),
      };
    }
    return await readRegularFile(file, shown, info.size);
  } catch (error) {
    return {
      file: shown,
      error: fileError(shown, "FileUnreadable", `cannot read file: ${errorCode(error)}`),
    };
  }
}

/**
 * Opens without blocking and checks what was opened: the file may have been replaced since stat(), and opening a
 * FIFO for reading would otherwise wait for a writer for ever, and every directory read after this one with it.
 */
async function readRegularFile(file: string, shown: string, expected: number): Promise<ManifestFileInput> {
  // (O_NONBLOCK is POSIX only; Windows has no FIFOs in the file system to fear.)
  const handle = await open(file, constants.O_RDONLY | ((constants.O_NONBLOCK as number | undefined) ?? 0));
  try {
    const before = await handle.stat();
    if (!before.isFile())
      return { file: shown, error: fileError(shown, "FileUnreadable", "not a regular file") };
    const bytes = await readAtMost(handle, maxManifestFileBytes + 1, expected);
    // A read that overlapped a write may hold half of each version, and half a manifest can still be a valid one
    // (a prefix cut short grants more): it counts as unreadable, and the write's own change event reads it again.
    const after = await handle.stat();
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs || after.ctimeMs !== before.ctimeMs) {
      return {
        file: shown,
        error: fileError(
          shown,
          "FileUnreadable",
          "the file changed while it was being read; it is read again",
        ),
      };
    }
    return { file: shown, bytes, modifiedAt: after.mtimeMs };
  } finally {
    await handle.close();
  }
}

/**
 * Reads at most `limit` bytes, so a file that grows after stat() cannot make us load gigabytes. The first chunk
 * holds the expected size and one byte more, so a file that did not grow ends in it: a fresh 64 KiB chunk only to
 * learn that the file has ended made a thousand-file directory read allocate 64 MB.
 */
export async function readAtMost(handle: FileHandle, limit: number, expected: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let chunk = Buffer.alloc(Math.max(1, Math.min(limit, expected + 1)));
  let filled = 0;
  let total = 0;
  while (total < limit) {
    const { bytesRead } = await handle.read(chunk, filled, chunk.length - filled, total);
    if (bytesRead === 0) break;
    filled += bytesRead;
    total += bytesRead;
    if (filled === chunk.length && total < limit) {
      chunks.push(chunk);
      chunk = Buffer.alloc(Math.min(64 * 1024, limit - total));
      filled = 0;
    }
  }
  const last = chunk.subarray(0, filled);
  if (chunks.length === 0) return last;
  chunks.push(last);
  return Buffer.concat(chunks, total);
}

/**
 * Reads what `validate PATH…` was given: files as they are, directories recursively. A file reached twice (named
 * and inside a named directory, or `dir` and `./dir`) is read once, or it would clash with itself as a duplicate.
 */
export async function readManifestPaths(paths: readonly string[]): Promise<ManifestFileInput[]> {
  const inputs: ManifestFileInput[] = [];
  const seen = new Set<string>();
  const push = (...added: ManifestFileInput[]) => {
    for (const input of added) {
      const key = path.resolve(input.file);
      if (seen.has(key)) continue;
      seen.add(key);
      inputs.push(input);
    }
  };
  for (const given of paths) {
    let isDirectory = false;
    try {
      isDirectory = (await lstat(given)).isDirectory() || (await stat(given)).isDirectory();
    } catch (error) {
      push({ file: given, error: fileError(given, "FileUnreadable", `cannot read: ${errorCode(error)}`) });
      continue;
    }
    if (isDirectory) push(...(await readManifestDirectory(given)));
    else push(await readManifestFile(given));
  }
  return inputs;
}
