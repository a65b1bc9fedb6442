import type { CallCounter } from "../aws/call-observer.js";
import type { Engine, ManifestsInForce, PassResult } from "../engine/engine.js";
import type { Logger } from "../observability/logger.js";
import type { ManifestSource } from "../fs/git-revision.js";
import { callSummary, renderOutcomeLine } from "./render.js";

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

/** After apply's outcome lines: errors, warnings and drift per manifest, held-back removal, the count. */
export function applySummaryText(
  pass: PassResult,
  calls: CallCounter,
  seconds: number,
  source?: ManifestSource,
): string {
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
    `${converged} of ${pass.results.length} manifest(s) converged in ${seconds.toFixed(1)} s; ${callSummary(calls, source)}`,
  );
  return lines.map((line) => `${line}\n`).join("");
}
