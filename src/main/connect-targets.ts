import { readFile } from "node:fs/promises";
import { CallCounter, observeAll, type CallObserver } from "../aws/call-observer.js";
import { connectTarget, TargetUnavailableError, type TargetConnection } from "../aws/target-connection.js";
import type { EngineConfig } from "../config/options.js";
import type { Engine } from "../engine/engine.js";
import { readManifestDirectory } from "../fs/read-manifest-files.js";
import { loadManifestSet, type ManifestSet } from "../manifest-set/load-manifest-set.js";
import { formatManifestError, type ManifestError } from "../manifest/manifest-error.js";
import type { Logger } from "../observability/logger.js";
import { assignManifests } from "../targets/assign-manifests.js";
import type { TargetSpec } from "../targets/target-spec.js";
import { loadTargetsFile } from "../targets/targets-file.js";
import { awsSettingsFrom, createEngine } from "./connect.js";

/** One target ready for a pass: its manifests, its own call counts, and its engine, or why it cannot be reached. */
export interface TargetWorld {
  readonly spec: TargetSpec & { readonly account: string; readonly regions: readonly string[] };
  readonly set: ManifestSet;
  readonly calls: CallCounter;
  readonly reach:
    | { readonly ok: true; readonly engine: Engine; readonly connection: TargetConnection }
    | { readonly ok: false; readonly error: TargetUnavailableError };
}

export interface TargetWorlds {
  readonly targets: readonly TargetWorld[];
  /** Manifest files under no target's directory. */
  readonly outside: readonly ManifestError[];
}

/** A Targets file that is not valid: rolecall refuses to start, naming every problem at FILE:LINE:COL. */
export class TargetsFileError extends Error {
  constructor(readonly errors: readonly ManifestError[]) {
    super(`invalid targets file:\n${errors.map(formatManifestError).join("\n")}`);
    this.name = "TargetsFileError";
  }
}

export async function readTargets(file: string, iamPath: string): Promise<TargetWorld["spec"][]> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as { code?: string }).code ?? "error";
    throw new TargetsFileError([
      { file, line: 1, column: 1, message: `cannot read: ${code}`, pointer: "", code: "FileUnreadable" },
    ]);
  }
  const loaded = loadTargetsFile(file, bytes, iamPath);
  if (!loaded.ok) throw new TargetsFileError(loaded.errors);
  return loaded.targets.map((target) => ({
    ...target,
    account: target.account ?? "",
    regions: target.regions ?? [],
  }));
}

/**
 * Every target of the file, connected (one failing to connect does not stop the others) and given the manifests
 * of its directory. A file outside every directory suspends removal in every target: it may be a manifest that
 * was moved by mistake, and its resources must not be pruned from whichever account it came from.
 */
export async function prepareTargets(
  config: EngineConfig & { readonly targets: string },
  observer: CallObserver,
  logger: Logger,
): Promise<TargetWorlds> {
  const specs = await readTargets(config.targets, config.iamPath);
  const assigned = assignManifests(config.manifests, await readManifestDirectory(config.manifests), specs);
  const settings = awsSettingsFrom(config);
  const targets = await Promise.all(
    specs.map(async (spec): Promise<TargetWorld> => {
      const calls = new CallCounter();
      const aws = logger.child({ component: "aws", target: spec.name });
      const reach = await connectTarget(spec, settings, observeAll(observer, calls), aws).then(
        (connection) => ({ ok: true as const, connection, engine: createEngine(connection, config) }),
        (error: unknown) => {
          if (!(error instanceof TargetUnavailableError)) throw error;
          return { ok: false as const, error };
        },
      );
      const loaded = loadManifestSet(assigned.byTarget.get(spec.name) ?? [], {
        iamPath: config.iamPath,
        partition: reach.ok ? reach.connection.partition : "aws",
        defaultMode: config.mode,
        permissionsBoundary: config.permissionsBoundary,
      });
      const set = assigned.outside.length > 0 ? { ...loaded, unnamedInvalid: true } : loaded;
      return { spec, set, calls, reach };
    }),
  );
  return { targets, outside: assigned.outside };
}
