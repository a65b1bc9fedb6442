import type { PassResult } from "../engine/engine.js";
import { formatManifestError } from "../manifest/manifest-error.js";
import { exitCodes } from "./exit-codes.js";
import type { PassConfig } from "../config/options.js";
import { callSummary, passJson, renderOutcomeLine } from "./render.js";
import { manifestsOf, prepareRun } from "./prepare-run.js";

/** Passes after the first, for manifests whose failures were transient (throttling, propagation, races). */
const maxPasses = 3;

export async function runApply(options: PassConfig): Promise<void> {
  const started = Date.now();
  const { set, calls, engine, logger, source } = await prepareRun(options);
  const text = options.output === "text";
  if (text) for (const error of set.errors) process.stdout.write(`invalid: ${formatManifestError(error)}\n`);
  let pass: PassResult | undefined;
  for (let attempt = 1; attempt <= maxPasses; attempt += 1) {
    pass = await engine.run({
      manifests: manifestsOf(set),
      execute: true,
      hooks: {
        onAction: (manifest, outcome) => {
          logger.info(
            {
              manifest,
              action: outcome.action.kind,
              resource: outcome.action.reason.resource,
              status: outcome.status,
            },
            outcome.description,
          );
          if (text) process.stdout.write(renderOutcomeLine(manifest, outcome) + "\n");
        },
      },
    });
    if (
      ![...pass.results, ...pass.composites].some((result) => result.status === "failed" && result.retryable)
    )
      break;
    if (text && attempt < maxPasses)
      process.stdout.write(
        `retrying: some changes failed transiently (pass ${attempt + 1} of ${maxPasses})\n`,
      );
  }
  if (pass === undefined) return;
  const seconds = (Date.now() - started) / 1000;
  if (text) {
    for (const result of pass.results) {
      for (const error of result.errors) process.stdout.write(`! ${result.manifest}: ${error}\n`);
      for (const warning of result.warnings) process.stdout.write(`? ${result.manifest}: ${warning}\n`);
      if (result.status === "drifted")
        process.stdout.write(`~ ${result.manifest}: drifted (observe mode: nothing changed)\n`);
    }
    if (pass.plan.pruneSuspended !== undefined)
      process.stdout.write(`removal held back: ${pass.plan.pruneSuspended.message}\n`);
    const converged = pass.results.filter((result) => result.status === "converged").length;
    process.stdout.write(
      `${converged} of ${pass.results.length} manifest(s) converged in ${seconds.toFixed(1)} s; ${callSummary(calls, source)}\n`,
    );
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
