import { CallCounter } from "../aws/call-observer.js";
import type { PassConfig } from "../config/options.js";
import type { ManifestsInForce } from "../engine/engine.js";
import { readManifestSource } from "../fs/git-revision.js";
import { readManifestDirectory } from "../fs/read-manifest-files.js";
import { connect, createEngine } from "../main/connect.js";
import { loadManifestSet, type ManifestSet } from "../manifest-set/load-manifest-set.js";
import { createLogger } from "../observability/logger.js";

/** Logger, call counter, engine (connected to AWS), and the manifests compiled for its partition. */
export async function prepareRun(config: PassConfig) {
  const logger = createLogger(config.logLevel, process.stderr);
  const calls = new CallCounter();
  const cloud = await connect(config, calls, logger);
  const engine = createEngine(cloud, config);
  // Read before the files: should a checkout land in between, the revision named is the older one, never a
  // revision whose files were not the ones planned.
  const source = await readManifestSource(config.manifests);
  const set = loadManifestSet(await readManifestDirectory(config.manifests), {
    iamPath: config.iamPath,
    partition: cloud.partition,
    defaultMode: config.mode,
    permissionsBoundary: config.permissionsBoundary,
  });
  return { logger, calls, engine, set, cloud, source };
}

/** What a directory read puts in force for one pass of plan or apply. */
export function manifestsOf(set: ManifestSet): ManifestsInForce {
  return {
    inForce: set.manifests.map((manifest) => manifest.desired),
    protectedNames: set.invalidNames,
    unnamedInvalid: set.unnamedInvalid,
  };
}
