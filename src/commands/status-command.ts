import { Command, Option } from "commander";
import { options, type StatusConfig } from "../config/options.js";

export function statusCommand(): Command {
  return new Command("status")
    .description(
      "Show the manifests of a running daemon (rolecall run) as a table: name, mode, ready, drift, instances, " +
        "last reconcile. --watch follows its /events and prints again at each. Exit 0 when every manifest is " +
        "ready, 3 when some is not (or a file is invalid), 1 when the daemon cannot be read, 2 on usage errors.",
    )
    .addOption(
      new Option("--url <url>", "the daemon's address")
        .env("ROLECALL_STATUS_URL")
        .default("http://127.0.0.1:8080"),
    )
    .addOption(
      new Option(
        "-w, --watch",
        "keep following the daemon's events, printing the table again at each",
      ).default(false),
    )
    .addOption(options.output())
    .addOption(options.statusToken())
    .action(async (config: StatusConfig) => {
      const { runStatus } = await import("./run-status.js");
      await runStatus(config);
    });
}
