import { Command, Option } from "commander";
import { CallCounter } from "../aws/call-observer.js";
import { createLogger, logLevels, type LogLevel } from "../observability/logger.js";
import { createAwsEngine, engineOptions, type EngineCliOptions } from "./engine-setup.js";
import { exitCodes } from "./exit-codes.js";
import { loadDirectory, passRequest } from "./load-manifests.js";
import { renderPlanText, passJson, callSummary } from "./render.js";
import {
  iamPathOption,
  manifestsOption,
  modeOption,
  outputOption,
  type OutputFormat,
} from "./shared-options.js";

export interface CommonRunOptions extends EngineCliOptions {
  manifests: string;
  output: OutputFormat;
  logLevel: LogLevel;
}

export function logLevelOption(fallback: LogLevel): Option {
  return new Option("--log-level <level>", "log level")
    .choices([...logLevels])
    .env("ROLECALL_LOG_LEVEL")
    .default(fallback);
}

export function addEngineOptions(command: Command): Command {
  command
    .addOption(manifestsOption())
    .addOption(outputOption())
    .addOption(iamPathOption())
    .addOption(modeOption())
    .addOption(logLevelOption("warn"));
  for (const option of engineOptions()) command.addOption(option);
  return command;
}

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

export function planCommand(): Command {
  return addEngineOptions(
    new Command("plan").description(
      "Show the ordered actions a pass would take, with the resource, field and reason for each. Changes nothing. " +
        "Exit 0 when nothing would change, 2 when changes are pending, 1 on errors.",
    ),
  ).action(async (options: CommonRunOptions) => {
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
  });
}
