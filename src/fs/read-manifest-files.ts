import { constants } from "node:fs";
import { lstat, open, readdir, realpath, stat, type FileHandle } from "node:fs/promises";
import path from "node:path";
import pLimit from "p-limit";
import { maxManifestFileBytes } from "../manifest/decode-text.js";
import type { ManifestFileInput } from "../manifest/examine-file.js";
import { fileError } from "../manifest/manifest-error.js";

const manifestExtension = /\.(ya?ml|json)$/i;

/** The manifests directory itself could not be read: nothing may be concluded from its contents. */
export class ManifestDirectoryError extends Error {
  constructor(
    readonly directory: string,
    readonly code: string,
  ) {
    super(`cannot read manifests directory ${directory}: ${code}`);
    this.name = "ManifestDirectoryError";
  }
}

/**
 * Reads every manifest file under `root`. Dot-files and dot-directories (.git) are skipped; symlinks are followed
 * only while they stay inside `root`. A file that cannot be read becomes an error entry rather than vanishing,
 * so callers never mistake an unreadable manifest for a removed one.
 */
export async function readManifestDirectory(root: string): Promise<ManifestFileInput[]> {
  let rootReal: string;
  try {
    rootReal = await realpath(root);
    if (!(await stat(rootReal)).isDirectory())
      throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
  } catch (error) {
    throw new ManifestDirectoryError(root, errorCode(error));
  }
  const inputs: ManifestFileInput[] = [];
  const visitedDirectories = new Set<string>([rootReal]);
  // Files found, by real path: a file reached both directly and through a symlink is read once, under its own name.
  const found = new Map<string, { shown: string; viaLink: boolean }>();

  const walk = async (directory: string, display: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(directory, { withFileTypes: true });
    } catch (error) {
      if (directory === rootReal) throw new ManifestDirectoryError(root, errorCode(error));
      inputs.push({
        file: display,
        error: fileError(display, "FileUnreadable", `cannot read directory: ${errorCode(error)}`),
      });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const full = path.join(directory, entry.name);
      const shown = path.join(display, entry.name);
      let target = full;
      let isDirectory = entry.isDirectory();
      if (entry.isSymbolicLink()) {
        try {
          target = await realpath(full);
          isDirectory = (await stat(target)).isDirectory();
        } catch (error) {
          if (manifestExtension.test(entry.name)) {
            inputs.push({
              file: shown,
              error: fileError(shown, "FileUnreadable", `cannot follow symlink: ${errorCode(error)}`),
            });
          }
          continue;
        }
        if (target !== rootReal && !target.startsWith(rootReal + path.sep)) {
          if (isDirectory || manifestExtension.test(entry.name)) {
            inputs.push({
              file: shown,
              error: fileError(
                shown,
                "SymlinkOutsideRoot",
                `symlink points outside the manifests directory (to ${target}); it is ignored`,
              ),
            });
          }
          continue;
        }
      }
      if (isDirectory) {
        if (visitedDirectories.has(target)) continue; // a symlink loop, or a second path to a directory already read
        visitedDirectories.add(target);
        await walk(target, shown);
      } else if (manifestExtension.test(entry.name)) {
        const viaLink = entry.isSymbolicLink();
        const known = found.get(target);
        if (known === undefined || (known.viaLink && !viaLink)) found.set(target, { shown, viaLink });
      }
    }
  };
  await walk(rootReal, root);
  const files = [...found].sort(([, a], [, b]) => (a.shown < b.shown ? -1 : a.shown > b.shown ? 1 : 0));
  // Read in parallel (bounded): a thousand small files one after another cost a third of a second.
  const limit = pLimit(32);
  inputs.push(
    ...(await Promise.all(files.map(([target, { shown }]) => limit(() => readManifestFile(target, shown))))),
  );
  return inputs;
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

/** Reads at most `limit` bytes, so a file that grows after stat() cannot make us load gigabytes. */
async function readAtMost(handle: FileHandle, limit: number, expected: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  let chunkSize = Math.max(1, Math.min(limit, expected + 1));
  while (total < limit) {
    const chunk = Buffer.alloc(Math.min(chunkSize, limit - total));
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, total);
    if (bytesRead === 0) break;
    chunks.push(chunk.subarray(0, bytesRead));
    total += bytesRead;
    chunkSize = 64 * 1024;
  }
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

function errorCode(error: unknown): string {
  if (error !== null && typeof error === "object" && "code" in error && typeof error.code === "string")
    return error.code;
  return error instanceof Error ? error.message : String(error);
}
