import type { CompileOptions } from "../desired/desired-access.js";
import type { ManifestsInForce } from "../engine/engine.js";
import { ManifestDirectoryError, readManifestDirectory } from "../fs/read-manifest-files.js";
import { ManifestFileMemo, type ManifestFileInput } from "../manifest/examine-file.js";
import { loadManifestSet, type ManifestSet, type ValidManifest } from "../manifest-set/load-manifest-set.js";
import { grantedBuckets } from "../status/manifest-buckets.js";
import type { ManifestEntry } from "../status/status-store.js";

export interface TrackerOptions {
  readonly directory: string;
  readonly compile: CompileOptions;
  /**
   * A file modified more recently than this may still be being written (a plain `git checkout` writes files in
   * place): its previous content stays in force and it is read again once it has settled.
   */
  readonly settleMs: number;
  /** Injectable for tests; defaults to reading the directory from disk. */
  readonly readDirectory?: (directory: string) => Promise<ManifestFileInput[]>;
  /** Some file had not settled: call back once it has. */
  readonly onUnsettled: (afterMs: number) => void;
}

export type ReloadResult =
  | {
      readonly kind: "unreadable";
      readonly error: unknown;
      readonly message: string;
      readonly firstTime: boolean;
    }
  | {
      readonly kind: "read";
      /** Names whose manifest in force changed, appeared or went. */
      readonly changed: readonly string[];
      readonly set: ManifestSet;
      /** The status store's view of the directory. */
      readonly entries: readonly ManifestEntry[];
      /** This read lifted a hold on removals (every file readable again): removed manifests may go now. */
      readonly liftedHold: boolean;
    };

/**
 * The manifests in force, as the daemon knows them between reads: the current valid ones, and the last valid
 * version of any that turned invalid (a broken file never removes anything). Reads are serialised.
 */
export class ManifestTracker {
  private set: ManifestSet | undefined;
  private readonly lastValid = new Map<string, ValidManifest>();
  /** The last content of each file that had settled. */
  private readonly settledInputs = new Map<string, ManifestFileInput>();
  /** Parse results by file content: a re-read after one edit parses only the edited file. */
  private readonly memo = new ManifestFileMemo();
  private readable = true;
  private reading: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: TrackerOptions) {}

  /** Reads the directory again. One read at a time: an older read applied after a newer one would put stale manifests back in force. */
  reload(): Promise<ReloadResult> {
    const next = this.reading.then(() => this.readAndApply());
    this.reading = next.catch(() => undefined);
    return next;
  }

  isReadable(): boolean {
    return this.readable;
  }

  /** The manifest in force under this name, if any. */
  inForce(name: string): ValidManifest | undefined {
    return this.lastValid.get(name);
  }

  /** What a pass works from now. */
  manifests(): ManifestsInForce {
    return {
      inForce: [...this.lastValid.values()].map((manifest) => manifest.desired),
      protectedNames: new Set(
        [...(this.set?.invalidNames ?? [])].filter((name) => !this.lastValid.has(name)),
      ),
      unnamedInvalid: this.removalsHeld(),
    };
  }

  /** Removals are held back while some file could not be read far enough to know its names, or the directory. */
  private removalsHeld(): boolean {
    return (this.set?.unnamedInvalid ?? false) || !this.readable;
  }

  private async readAndApply(): Promise<ReloadResult> {
    let inputs: ManifestFileInput[];
    try {
      inputs = await (this.options.readDirectory ?? readManifestDirectory)(this.options.directory);
    } catch (error) {
      const message =
        error instanceof ManifestDirectoryError
          ? `${error.message}; the last manifests read stay in force and nothing is removed`
          : String(error);
      const firstTime = this.readable;
      this.readable = false;
      return { kind: "unreadable", error, message, firstTime };
    }
    const wasHeld = this.removalsHeld();
    this.readable = true;
    const set = loadManifestSet(this.settled(inputs), this.options.compile, this.memo);
    const changed = this.take(set);
    // The read that lifts the hold changes nothing about the removed manifests themselves, so without this their
    // removal would wait for the next resync.
    const liftedHold = wasHeld && !set.unnamedInvalid;
    return { kind: "read", changed: [...changed], set, entries: this.entries(set), liftedHold };
  }

  /** Takes a directory read into force; returns the names whose manifest in force changed. */
  private take(set: ManifestSet): Set<string> {
    const before = new Map([...this.lastValid].map(([name, manifest]) => [name, manifest.generation]));
    for (const manifest of set.manifests) this.lastValid.set(manifest.name, manifest);
    const failedFiles = new Set(set.errors.map((error) => error.file));
    const present = new Set([...set.manifests.map((manifest) => manifest.name), ...set.invalidNames]);
    for (const [name, manifest] of this.lastValid) {
      // A manifest counts as removed only when its name is gone and its file did not merely fail to read.
      if (!present.has(name) && !failedFiles.has(manifest.file)) this.lastValid.delete(name);
    }
    const changed = new Set<string>();
    for (const [name, manifest] of this.lastValid)
      if (before.get(name) !== manifest.generation) changed.add(name);
    for (const name of before.keys()) if (!this.lastValid.has(name)) changed.add(name);
    this.set = set;
    return changed;
  }

  /** Replaces files written moments ago by their last settled content (or leaves new ones out), for now. */
  private settled(inputs: ManifestFileInput[]): ManifestFileInput[] {
    const settleMs = this.options.settleMs;
    if (settleMs <= 0) return inputs;
    const now = Date.now();
    let unsettled = false;
    const result: ManifestFileInput[] = [];
    for (const input of inputs) {
      if ("bytes" in input && input.modifiedAt !== undefined && now - input.modifiedAt < settleMs) {
        unsettled = true;
        const previous = this.settledInputs.get(input.file);
        if (previous !== undefined) result.push(previous);
        continue;
      }
      this.settledInputs.set(input.file, input);
      result.push(input);
    }
    const present = new Set(inputs.map((input) => input.file));
    for (const file of this.settledInputs.keys()) if (!present.has(file)) this.settledInputs.delete(file);
    if (unsettled) this.options.onUnsettled(settleMs);
    return result;
  }

  /** The status store's entries: valid manifests, and invalid ones under the name they had (or have). */
  private entries(set: ManifestSet): ManifestEntry[] {
    const entries: ManifestEntry[] = set.manifests.map((manifest) => ({
      name: manifest.name,
      file: manifest.file,
      generation: manifest.generation,
      mode: manifest.desired.mode,
      buckets: grantedBuckets(manifest.desired),
    }));
    const validNames = new Set(entries.map((entry) => entry.name));
    // A file broken too badly to reveal its name (a YAML syntax error) keeps its last valid manifest in force; it
    // is invalid, not removed, so it is listed under its old name.
    const unnamed = [...this.lastValid.keys()].filter(
      (name) => !validNames.has(name) && !set.invalidNames.has(name),
    );
    for (const name of [...set.invalidNames, ...unnamed]) {
      if (!validNames.has(name)) entries.push(this.invalidEntry(name, set));
    }
    return entries;
  }

  private invalidEntry(name: string, set: ManifestSet): ManifestEntry {
    const inForce = this.lastValid.get(name);
    const file = set.invalidNameFiles.get(name) ?? inForce?.file;
    const error = set.errors.find((candidate) => candidate.file === file) ?? set.errors[0];
    return {
      name,
      file: error?.file ?? inForce?.file ?? "",
      generation: inForce?.generation ?? "",
      mode: inForce?.desired.mode ?? this.options.compile.defaultMode,
      invalid: {
        message:
          error === undefined
            ? "the manifest is invalid"
            : `${error.file}:${error.line}:${error.column}: ${error.message}`,
        inForceGeneration: inForce?.generation,
      },
    };
  }
}
