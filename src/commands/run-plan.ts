import { CallCounter } from "../aws/call-observer.js";
import { createLogger } from "../observability/logger.js";
import { createAwsEngine } from "../main/create-aws-engine.js";
import { exitCodes } from "./exit-codes.js";
import { loadDirectory, passRequest } from "./load-manifests.js";
import type { CommonRunOptions } from "./pass-options.js";
import { callSummary, passJson, renderPlanText } from "./render.js";

/** Logger, call counter, engine (connected to AWS), and the manifests compiled for its partition. */
export async function prepareRun(options: CommonRunOptions) {
  const logger = createLogger(options.logLevel, process.stderr);
  const calls = new CallCounter();
  const engine = await createAwsEngine(options, calls, logger);
  const set = await loadDirectory(options.manifests, {
    iamPath: options.iamPath,
    partition: engine.options.partition,
    defaultMode: options.mode,
  });
  return { logger, calls, engine, set };
}

export async function runPlan(options: CommonRunOptions): Promise<void> {
  const started = Date.now();
  const { set, calls, engine } = await prepareRun(options);
  const pass = await engine.runPass(passRequest(set), { dryRun: true });
  const seconds = (Date.now() - started) / 1000;
  if (options.output === "json")
    process.stdout.write(JSON.stringify(passJson(pass, set.errors, calls, false, seconds), null, 2) + "\n");
  else process.stdout.write(`${renderPlanText(pass, set.errors)}\n${callSummary(calls)}\n`);
  const failed = set.errors.length > 0 || pass.results.some((result) => result.status === "failed");
  const pending = pass.results.some((result) => result.status === "pending");
  process.exitCode = failed ? exitCodes.failure : pending ? exitCodes.changesPending : exitCodes.ok;
}
