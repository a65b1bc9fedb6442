import { Command } from "commander";
import { engineOptions, options, type PassConfig } from "../config/options.js";

export function applyCommand(): Command {
  const command = new Command("apply")
    .description(
      "Converge AWS to the manifests in one pass, printing each action taken. Exit 0 when every manifest " +
        "converged (instances skipped for a foreign profile are warnings), 1 when any could not converge, 2 on usage errors.",
    )
    .addOption(options.output());
  for (const option of engineOptions("warn")) command.addOption(option);
  return command.action(async (config: PassConfig) => {
    const { runApply } = await import("./run-apply.js");
    await runApply(config);
  });
}
