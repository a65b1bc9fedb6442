import { Command } from "commander";
import { engineOptions, options, type RunConfig } from "../config/options.js";

export function runCommand(): Command {
  const command = new Command("run").description(
    "Run the controller: watch the manifests directory, resync on an interval, converge AWS, and serve " +
      "/healthz, /readyz, /status and /metrics. Every option can also be set with an environment variable.",
  );
  const own = [
    options.host(),
    options.port(),
    options.resync(),
    options.statusToken(),
    options.cloud(),
    options.simDriftEvery(),
    options.debounce(),
    options.leaseTable(),
    options.leaseName(),
    options.leaseDuration(),
    options.leaseRenew(),
    options.notifyUrl(),
    options.instanceEventsQueue(),
    options.instancePoll(),
  ];
  for (const option of [...own, ...engineOptions("info")]) command.addOption(option);
  return command.action(async (config: RunConfig) => {
    // Loaded on use, like plan and apply: the daemon's modules are the heaviest of all.
    const { runDaemon } = await import("../main/run-daemon.js");
    await runDaemon(config);
  });
}
