import type { CompileOptions } from "../desired/desired-access.js";
import { readManifestDirectory } from "../fs/read-manifest-files.js";
import { ManifestFileMemo, type ManifestFileInput } from "../manifest/examine-file.js";
import type { ManifestError } from "../manifest/manifest-error.js";
import { loadManifestSet } from "../manifest-set/load-manifest-set.js";
import { assignManifests, type ManifestAssignment } from "../targets/assign-manifests.js";
import type { TargetSpec } from "../targets/target-spec.js";

/** What removals in one target must respect of the others (see TargetDirectories.holdsFor). */
export interface OutsideHolds {
  /** Manifests of targets that cannot be reached now: their resources stay wherever they are. */
  readonly protectedNames: ReadonlySet<string>;
  /** Nothing is removed: a file is in no target's directory, or an unreachable target's file revealed no name. */
  readonly holdRemovals: boolean;
}

/**
 * The --manifests directory of run --targets, read once for all targets and split by sub-directory, so that a
 * manifest moved from one target's directory to another's is seen gone from the first in the same read that
 * shows it in the second. Each target's controller reads its share through `readerFor`; reads asked for while
 * one is in flight share the next one (never the one in flight, which may predate the change that asked).
 */
export class TargetDirectories {
  private latest: ManifestAssignment | undefined;
  private inFlight: Promise<ManifestAssignment> | undefined;
  private next: Promise<ManifestAssignment> | undefined;
  private readonly memos = new Map<string, ManifestFileMemo>();

  constructor(
    private readonly root: string,
    private readonly targets: readonly TargetSpec[],
    private readonly compile: Omit<CompileOptions, "partition">,
    private readonly readDirectory: (
      directory: string,
    ) => Promise<ManifestFileInput[]> = readManifestDirectory,
  ) {}

  /** A target controller's readDirectory: its own files from a fresh read of the whole directory. */
  readerFor(target: string): () => Promise<ManifestFileInput[]> {
    return async () => [...((await this.read()).byTarget.get(target) ?? [])];
  }

  /** Files of the last read that are in no target's directory. */
  outside(): readonly ManifestError[] {
    return this.latest?.outside ?? [];
  }

  /** What `target`'s removals must leave alone, given which targets cannot be reached now. */
  holdsFor(target: string, unreachable: readonly string[]): OutsideHolds {
    const names = new Set<string>();
    let holdRemovals = this.outside().length > 0;
    for (const other of unreachable) {
      if (other === target) continue;
      const set = loadManifestSet(
        this.latest?.byTarget.get(other) ?? [],
        this.compileFor(),
        this.memo(other),
      );
      for (const manifest of set.manifests) names.add(manifest.name);
      for (const name of set.invalidNames) names.add(name);
      holdRemovals ||= set.unnamedInvalid;
    }
    // Before the first read nothing is known of the other targets' files: nothing may be removed yet.
    return { protectedNames: names, holdRemovals: holdRemovals || this.latest === undefined };
  }

  read(): Promise<ManifestAssignment> {
    if (this.next !== undefined) return this.next;
    if (this.inFlight === undefined) return this.start();
    const after = this.inFlight.catch(() => undefined);
    this.next = after.then(() => {
      this.next = undefined;
      return this.start();
    });
    return this.next;
  }

  private start(): Promise<ManifestAssignment> {
    const reading = this.readDirectory(this.root).then((inputs) => {
      const assigned = assignManifests(this.root, inputs, this.targets);
      this.latest = assigned;
      return assigned;
    });
    this.inFlight = reading;
    void reading
      .catch(() => undefined)
      .finally(() => {
        if (this.inFlight === reading) this.inFlight = undefined;
      });
    return reading;
  }

  /** Names only are needed here, and they do not depend on the partition. */
  private compileFor(): CompileOptions {
    return { ...this.compile, partition: "aws" };
  }

  private memo(target: string): ManifestFileMemo {
    let memo = this.memos.get(target);
    if (memo === undefined) this.memos.set(target, (memo = new ManifestFileMemo()));
    return memo;
  }
}
