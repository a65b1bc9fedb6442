import { execFile } from "node:child_process";
import { AwsActionExecutor } from "../../src/aws/aws-action-executor.js";
import type { AwsCaller } from "../../src/aws/aws-caller.js";
import { createCallers, defaultAwsSettings, type AwsSettings } from "../../src/aws/aws-clients.js";
import { CallCounter } from "../../src/aws/call-observer.js";
import { manifestsOf } from "../../src/commands/prepare-run.js";
import { Engine, type EngineOptions, type PassResult } from "../../src/engine/engine.js";
import { freshRead, type ReadStrategy } from "../../src/engine/state-source.js";
import { loadManifestSet, type ManifestSet } from "../../src/manifest-set/load-manifest-set.js";
import { readManifestDirectory } from "../../src/fs/read-manifest-files.js";
import { cliPath, repoRoot } from "./cli.js";
import { motoClients, motoEnv, type Moto } from "./moto.js";

export const fastTestSettings: AwsSettings = {
  ...defaultAwsSettings,
  rateLimits: { iam: { perSecond: 1000, burst: 1000 }, ec2: { perSecond: 1000, burst: 1000 } },
  retry: { ...defaultAwsSettings.retry, baseDelayMs: 10, maxDelayMs: 200 },
};

/** The engine's options, with what its full read needs to know. */
export interface TestEngineOptions extends EngineOptions {
  readonly partition: string;
  readonly readStrategy: ReadStrategy;
}

export const defaultEngineOptions: TestEngineOptions = {
  iamPath: "/rolecall/",
  partition: "aws",
  defaultMode: "enforce",
  allowMassPrune: false,
  concurrency: 4,
  readStrategy: "snapshot",
};

/** An engine over two callers, wired as the CLI wires it (main/connect.ts createEngine). */
export function engineOver(callers: { iam: AwsCaller; ec2: AwsCaller }, options: TestEngineOptions): Engine {
  return new Engine(
    new AwsActionExecutor(callers.iam, callers.ec2),
    freshRead(
      { ...callers, concurrency: options.concurrency },
      { iamPath: options.iamPath, partition: options.partition },
      options.readStrategy,
    ),
    options,
  );
}

/** The engine wired as the CLI wires it, against moto, counting calls. */
export function motoEngine(
  moto: Moto,
  options: Partial<TestEngineOptions> = {},
  settings: AwsSettings = fastTestSettings,
) {
  const calls = new CallCounter();
  const callers = createCallers(motoClients(moto), settings, calls);
  const engine = engineOver(callers, { ...defaultEngineOptions, ...options });
  return { engine, calls };
}

export async function loadDir(
  directory: string,
  options: Partial<TestEngineOptions> = {},
): Promise<ManifestSet> {
  const merged = { ...defaultEngineOptions, ...options };
  return loadManifestSet(await readManifestDirectory(directory), {
    iamPath: merged.iamPath,
    partition: merged.partition,
    defaultMode: merged.defaultMode,
  });
}

/** plan (dry run) or apply of a directory, in-process. */
export async function pass(engine: Engine, directory: string, dryRun: boolean): Promise<PassResult> {
  const set = await loadDir(directory, engine.options);
  return engine.run({ manifests: manifestsOf(set), execute: !dryRun });
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built CLI against moto. */
export function runCliOnMoto(
  moto: Moto,
  args: readonly string[],
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [cliPath, ...args],
      { cwd: repoRoot, env: { ...motoEnv(moto), ...extraEnv }, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error === null) resolve({ code: 0, stdout, stderr });
        else if (typeof error.code === "number") resolve({ code: error.code, stdout, stderr });
        else reject(new Error(error.message));
      },
    );
  });
}
