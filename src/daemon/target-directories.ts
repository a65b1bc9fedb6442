import type { CompileOptions } from "../desired/desired-access.js";
import { readManifestDirectory } from "../fs/read-manifest-files.js";
import { ManifestFileMemo, type ManifestFileInput } from "../manifest/examine-file.js";
import type { ManifestError } from "../manifest/manifest-error.js";
import { loadManifestSet, type ManifestSet } from "../manifest-set/load-manifest-set.js";
import { assignManifests, type ManifestAssignment } from "../targets/assign-manifests.js";
import type { TargetSpec } from "../targets/target-spec.js";

/** What removals in one target must respect of the others (see TargetDirectories.holdsFor). */
export interface OutsideHolds {
  /** Manifests of targets that cannot be reached now: their resources stay wherever they are. */
  readonly protectedNames: ReadonlySet<string>;
  /** Nothing is removed: a file is in no target's directory, or an unreachable target's file revealed no name. */
  readonly holdRemovals: boolean;
}

/** What holdsFor needs of one target's files: the names they claim, and whether some file revealed none. */
interface ClaimedNames {
  readonly names: readonly string[];
  readonly unnamedInvalid: boolean;
}

type LoadSet = (
  inputs: readonly ManifestFileInput[],
  options: CompileOptions,
  memo: ManifestFileMemo,
) => Pick<ManifestSet, "manifests" | "invalidNames" | "unnamedInvalid">;

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
  /**
   * Names claimed by each target's files in `latest`, filled on demand: holdsFor runs on every pass, single-key
   * reconciles included, and compiling 300 manifests each time would cost more than the reconcile. A new read
   * empties it; which targets are unreachable only picks entries, so a change of reachability needs no reset.
   */
  private claimed = new Map<string, ClaimedNames>();

  constructor(
    private readonly root: string,
    private readonly targets: readonly TargetSpec[],
    private readonly compile: Omit<CompileOptions, "partition">,
    private readonly readDirectory: (
      directory: string,
    ) => Promise<ManifestFileInput[]> = readManifestDirectory,
    private readonly loadSet: LoadSet = loadManifestSet,
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
      const claimed = this.claimedBy(other);
      for (const name of claimed.names) names.add(name);
      holdRemovals ||= claimed.unnamedInvalid;
    }
    // Before the first read nothing is known of the other targets' files: nothing may be removed yet.
    return { protectedNames: names, holdRemovals: holdRemovals || this.latest === undefined };
  }

  private claimedBy(target: string): ClaimedNames {
    const cached = this.claimed.get(target);
    if (cached !== undefined) return cached;
    const set = this.loadSet(this.latest?.byTarget.get(target) ?? [], this.compileFor(), this.memo(target));
    const claimed = {
      names: [...set.manifests.map((manifest) => manifest.name), ...set.invalidNames],
      unnamedInvalid: set.unnamedInvalid,
    };
    // Before the first read there is nothing to remember: the next read's files are the first known.
    if (this.latest !== undefined) this.claimed.set(target, claimed);
    return claimed;
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
      this.claimed = new Map();
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
