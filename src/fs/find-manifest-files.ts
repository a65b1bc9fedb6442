import type { Dirent } from "node:fs";
import { readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import type { ManifestFileInput } from "../manifest/examine-file.js";
import { fileError, type ManifestErrorCode } from "../manifest/manifest-error.js";
import { errorCode } from "./error-code.js";
import { ManifestDirectoryError } from "./manifest-directory-error.js";

const manifestExtension = /\.(ya?ml|json)$/i;

export interface FoundManifestFiles {
  /** What looked like manifests but could not be reached, as error entries in walk order. */
  readonly unreachable: readonly ManifestFileInput[];
  /** Each file once: its real path, and the path under the root it is reported as; sorted by the latter. */
  readonly files: readonly { readonly target: string; readonly shown: string }[];
}

/** Finds the manifest files under `root` (whose real path is `rootReal`) without reading them. */
export async function findManifestFiles(root: string, rootReal: string): Promise<FoundManifestFiles> {
  const walk = new ManifestTreeWalk(root, rootReal);
  await walk.directory(rootReal, root);
  return walk.result();
}

class ManifestTreeWalk {
  private readonly unreachable: ManifestFileInput[] = [];
  private readonly visitedDirectories: Set<string>;
  // Files found, by real path: a file reached both directly and through a symlink is read once, under its own name.
  private readonly found = new Map<string, { shown: string; viaLink: boolean }>();

  constructor(
    private readonly root: string,
    private readonly rootReal: string,
  ) {
    this.visitedDirectories = new Set([rootReal]);
  }

  async directory(directory: string, display: string): Promise<void> {
    let entries: Dirent[];
    try {
      entries = await readdir(directory, { withFileTypes: true });
    } catch (error) {
      if (directory === this.rootReal) throw new ManifestDirectoryError(this.root, errorCode(error));
      this.report(display, "FileUnreadable", `cannot read directory: ${errorCode(error)}`);
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (!entry.name.startsWith(".")) await this.entry(entry, directory, display);
    }
  }

  result(): FoundManifestFiles {
    const files = [...this.found]
      .sort(([, a], [, b]) => (a.shown < b.shown ? -1 : a.shown > b.shown ? 1 : 0))
      .map(([target, { shown }]) => ({ target, shown }));
    return { unreachable: this.unreachable, files };
  }

  private async entry(entry: Dirent, directory: string, display: string): Promise<void> {
    const full = path.join(directory, entry.name);
    const shown = path.join(display, entry.name);
    const viaLink = entry.isSymbolicLink();
    const resolved = viaLink
      ? await this.followLink(entry.name, full, shown)
      : { target: full, isDirectory: entry.isDirectory() };
    if (resolved === undefined) return;
    if (resolved.isDirectory) {
      // A symlink loop, or a second path to a directory already read.
      if (this.visitedDirectories.has(resolved.target)) return;
      this.visitedDirectories.add(resolved.target);
      await this.directory(resolved.target, shown);
    } else if (manifestExtension.test(entry.name)) {
      const known = this.found.get(resolved.target);
      if (known === undefined || (known.viaLink && !viaLink))
        this.found.set(resolved.target, { shown, viaLink });
    }
  }

  /** Symlinks are followed only while they stay inside the root; one that may be a manifest is reported otherwise. */
  private async followLink(
    name: string,
    full: string,
    shown: string,
  ): Promise<{ target: string; isDirectory: boolean } | undefined> {
    let target: string;
    let isDirectory: boolean;
    try {
      target = await realpath(full);
      isDirectory = (await stat(target)).isDirectory();
    } catch (error) {
      if (manifestExtension.test(name))
        this.report(shown, "FileUnreadable", `cannot follow symlink: ${errorCode(error)}`);
      return undefined;
    }
    if (target !== this.rootReal && !target.startsWith(this.rootReal + path.sep)) {
      if (isDirectory || manifestExtension.test(name)) {
        this.report(
          shown,
          "SymlinkOutsideRoot",
          `symlink points outside the manifests directory (to ${target}); it is ignored`,
        );
      }
      return undefined;
    }
    return { target, isDirectory };
  }

  private report(shown: string, code: ManifestErrorCode, message: string): void {
    this.unreachable.push({ file: shown, error: fileError(shown, code, message) });
  }
}
