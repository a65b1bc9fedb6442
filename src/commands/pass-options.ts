import { Option, type Command } from "commander";
import { logLevels, type LogLevel } from "../observability/log-levels.js";
import { engineOptions, type EngineCliOptions } from "./engine-setup.js";
import {
  iamPathOption,
  manifestsOption,
  modeOption,
  outputOption,
  type OutputFormat,
} from "./shared-options.js";

/** Options of `plan` and `apply` (and, without --output, of `run`). */
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
