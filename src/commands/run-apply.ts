import { formatManifestError } from "../manifest/manifest-error.js";
import { exitCodes } from "./exit-codes.js";
import type { PassConfig } from "../config/options.js";
import { applySummaryText, applyWithRetries } from "./apply-pass.js";
import { passJson } from "./render.js";
import { manifestsOf, prepareRun } from "./prepare-run.js";

export async function runApply(options: PassConfig): Promise<void> {
  if (options.targets !== undefined) {
    const { runTargets } = await import("./run-targets.js");
    return runTargets({ ...options, targets: options.targets }, true);
  }
  const started = Date.now();
  const { set, calls, engine, logger, source } = await prepareRun(options);
  const text = options.output === "text";
  if (text) for (const error of set.errors) process.stdout.write(`invalid: ${formatManifestError(error)}\n`);
  const pass = await applyWithRetries(
    engine,
    manifestsOf(set),
    logger,
    text ? (line) => process.stdout.write(line) : undefined,
  );
  const seconds = (Date.now() - started) / 1000;
  if (text) {
    process.stdout.write(applySummaryText(pass, calls, seconds, source));
  } else {
    process.stdout.write(
      JSON.stringify(passJson(pass, set.errors, calls, true, seconds, source), null, 2) + "\n",
    );
  }
  const failed =
    set.errors.length > 0 ||
    [...pass.results, ...pass.composites].some((result) => result.status === "failed");
  process.exitCode = failed ? exitCodes.failure : exitCodes.ok;
}
