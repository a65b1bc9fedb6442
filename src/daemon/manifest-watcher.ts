import path from "node:path";
import { watch, type FSWatcher } from "chokidar";

export interface WatcherOptions {
  /** Quiet time after the last event before the directory is read again. */
  readonly debounceMs: number;
  /** A burst that never goes quiet is still read after this long. */
  readonly maxWaitMs: number;
}

/**
 * Watches a manifests directory and calls `onChange` once per burst of events: an editor's atomic save (write a
 * temporary file, rename it over the old one) and a `git checkout` of many files each become one call.
 */
export class ManifestWatcher {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private firstEventAt: number | undefined;

  constructor(
    private readonly directory: string,
    private readonly options: WatcherOptions,
    private readonly onChange: () => void,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    if (this.watcher !== undefined) return;
    this.watcher = watch(this.directory, {
      ignoreInitial: true,
      // Dot-files and dot-directories (.git) are not manifests; ignoring them also spares git's churn. Kubernetes
      // ConfigMap volumes are the exception: they update by swapping "..data" to a new "..<timestamp>" directory.
      ignored: (file: string) => {
        const name = path.basename(file);
        return file !== this.directory && name.startsWith(".") && !name.startsWith("..");
      },
      ignorePermissionErrors: true,
      followSymlinks: true,
      atomic: true,
    });
    this.watcher.on("all", () => {
      this.schedule();
    });
    this.watcher.on("error", (error) => {
      this.onError(error);
    });
  }

  /** Starts over, e.g. after the directory was deleted and created again (the old watch is on a dead inode). */
  async restart(): Promise<void> {
    await this.close();
    this.start();
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const watcher = this.watcher;
    this.watcher = undefined;
    await watcher?.close();
  }

  private schedule(): void {
    const now = Date.now();
    this.firstEventAt ??= now;
    if (this.timer !== undefined) clearTimeout(this.timer);
    const wait = Math.min(
      this.options.debounceMs,
      Math.max(0, this.firstEventAt + this.options.maxWaitMs - now),
    );
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.firstEventAt = undefined;
      this.onChange();
    }, wait);
  }
}
