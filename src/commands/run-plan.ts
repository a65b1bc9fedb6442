import type { PassConfig } from "../config/options.js";
import { exitCodes } from "./exit-codes.js";
import { manifestsOf, prepareRun } from "./prepare-run.js";
import { callSummary, passJson, renderPlanText } from "./render.js";

export async function runPlan(options: PassConfig): Promise<void> {
  if (options.targets !== undefined) {
    const { runTargets } = await import("./run-targets.js");
    return runTargets({ ...options, targets: options.targets }, false);
  }
  const started = Date.now();
  const { set, calls, engine, source } = await prepareRun(options);
  const pass = await engine.run({ manifests: manifestsOf(set), execute: false });
  const seconds = (Date.now() - started) / 1000;
  if (options.output === "json")
    process.stdout.write(
      JSON.stringify(passJson(pass, set.errors, calls, false, seconds, source), null, 2) + "\n",
    );
  else {
    const compiled = set.manifests.map((manifest) => manifest.desired);
    process.stdout.write(`${renderPlanText(pass, set.errors, compiled)}\n${callSummary(calls, source)}\n`);
  }
  const units = [...pass.results, ...pass.composites];
  const failed = set.errors.length > 0 || units.some((result) => result.status === "failed");
  const pending = units.some((result) => result.status === "pending");
  process.exitCode = failed ? exitCodes.failure : pending ? exitCodes.changesPending : exitCodes.ok;
}
