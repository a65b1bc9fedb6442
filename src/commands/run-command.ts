import { Command, InvalidArgumentError, Option } from "commander";
import { parseDuration } from "../config/duration.js";
import { engineOptions } from "./engine-setup.js";
import { logLevelOption, type CommonRunOptions } from "./pass-options.js";
import { iamPathOption, manifestsOption, modeOption } from "./shared-options.js";

export interface RunOptions extends Omit<CommonRunOptions, "output"> {
  host: string;
  port: number;
  resync: number;
  statusToken?: string;
  cloud: "aws" | "sim";
  debounce: number;
  simDriftEvery: number;
}

export function runCommand(): Command {
  const command = new Command("run")
    .description(
      "Run the controller: watch the manifests directory, resync on an interval, converge AWS, and serve " +
        "/healthz, /readyz, /status and /metrics. Every option can also be set with an environment variable.",
    )
    .addOption(manifestsOption())
    .addOption(
      new Option("--host <address>", "address the HTTP server listens on")
        .env("ROLECALL_HOST")
        .default("127.0.0.1"),
    )
    .addOption(new Option("--port <port>", "HTTP port").env("ROLECALL_PORT").default(8080).argParser(port))
    .addOption(
      new Option("--resync <duration>", "interval of full passes that detect drift and new instances")
        .env("ROLECALL_RESYNC")
        .default(60_000, "60s")
        .argParser(parseDuration),
    )
    .addOption(modeOption())
    .addOption(iamPathOption())
    .addOption(logLevelOption("info"))
    .addOption(
      new Option("--status-token <token>", "bearer token required by /status (default: none)")
        .env("ROLECALL_STATUS_TOKEN")
        .argParser(statusToken),
    )
    .addOption(
      new Option("--cloud <cloud>", "aws, or sim: an in-process simulated AWS for trying rolecall")
        .choices(["aws", "sim"])
        .env("ROLECALL_CLOUD")
        .default("aws"),
    )
    .addOption(
      new Option(
        "--sim-drift-every <duration>",
        "with --cloud sim: detach a policy by hand this often, to show drift repair",
      )
        .env("ROLECALL_SIM_DRIFT_EVERY")
        .default(0, "off")
        .argParser(parseDuration),
    )
    .addOption(
      new Option("--debounce <duration>", "quiet time after file changes before the directory is read again")
        .env("ROLECALL_DEBOUNCE")
        .default(200, "200ms")
        .argParser(parseDuration),
    );
  for (const option of engineOptions()) command.addOption(option);
  return command.action(async (options: RunOptions) => {
    // Loaded on use, like plan and apply: the daemon's modules are the heaviest of all.
    const { runDaemon } = await import("../main/run-daemon.js");
    await runDaemon(options);
  });
}

/** An empty token (an unset secret in ROLECALL_STATUS_TOKEN=) would lock /status for good: refuse to start. */
function statusToken(value: string): string {
  if (value.trim() === "") throw new InvalidArgumentError("the status token is empty");
  return value;
}

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535)
    throw new InvalidArgumentError(`"${value}" is not a port number`);
  return parsed;
}
