import type { Engine, ManifestsInForce, PassResult } from "../engine/engine.js";
import type { Logger } from "../observability/logger.js";
import { formatManifestError } from "../manifest/manifest-error.js";
import type { CallCounter } from "../aws/call-observer.js";
import { exitCodes } from "./exit-codes.js";
import type { PassConfig } from "../config/options.js";
import { callSummary, passJson, renderOutcomeLine } from "./render.js";
import { manifestsOf, prepareRun } from "./prepare-run.js";

/** Passes after the first, for manifests whose failures were transient (throttling, propagation, races). */
const maxPasses = 3;

/**
 * apply's passes: executed, and run again (up to maxPasses in all) while some failures were transient. `write`
 * gets the text lines (outcomes, retries) for text output.
 */
export async function applyWithRetries(
  engine: Engine,
  manifests: ManifestsInForce,
  logger: Logger,
  write?: (line: string) => void,
): Promise<PassResult> {
  let pass: PassResult | undefined;
  for (let attempt = 1; ; attempt += 1) {
    pass = await engine.run({
      manifests,
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
          write?.(renderOutcomeLine(manifest, outcome) + "\n");
        },
      },
    });
    const retryable = [...pass.results, ...pass.composites].some(
      (result) => result.status === "failed" && result.retryable,
    );
    if (!retryable || attempt >= maxPasses) return pass;
    write?.(`retrying: some changes failed transiently (pass ${attempt + 1} of ${maxPasses})\n`);
  }
}

export async function runApply(options: PassConfig): Promise<void> {
  if (options.targets !== undefined) {
    const { runTargets } = await import("./run-targets.js");
    return runTargets({ ...options, targets: options.targets }, true);
  }
  const started = Date.now();
  const { set, calls, engine, logger } = await prepareRun(options);
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
    process.stdout.write(applySummaryText(pass, calls, seconds));
  } else {
    process.stdout.write(JSON.stringify(passJson(pass, set.errors, calls, true, seconds), null, 2) + "\n");
  }
  const failed =
    set.errors.length > 0 ||
    [...pass.results, ...pass.composites].some((result) => result.status === "failed");
  process.exitCode = failed ? exitCodes.failure : exitCodes.ok;
}

/** After apply's outcome lines: errors, warnings and drift per manifest, held-back removal, the count. */
export function applySummaryText(pass: PassResult, calls: CallCounter, seconds: number): string {
  const lines: string[] = [];
  for (const result of pass.results) {
    for (const error of result.errors) lines.push(`! ${result.manifest}: ${error}`);
    for (const warning of result.warnings) lines.push(`? ${result.manifest}: ${warning}`);
    if (result.status === "drifted")
      lines.push(`~ ${result.manifest}: drifted (observe mode: nothing changed)`);
  }
  if (pass.plan.pruneSuspended !== undefined)
    lines.push(`removal held back: ${pass.plan.pruneSuspended.message}`);
  const converged = pass.results.filter((result) => result.status === "converged").length;
  lines.push(
    `${converged} of ${pass.results.length} manifest(s) converged in ${seconds.toFixed(1)} s; ${callSummary(calls)}`,
  );
  return lines.map((line) => `${line}\n`).join("");
}
