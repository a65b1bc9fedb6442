import { Command } from "commander";
import { engineOptions, options, type PassConfig } from "../config/options.js";

export function planCommand(): Command {
  const command = new Command("plan")
    .description(
      "Show the ordered actions a pass would take, with the resource, field and reason for each. Changes nothing. " +
        "Exit 0 when nothing would change, 2 when changes are pending, 1 on errors.",
    )
    .addOption(options.output());
  for (const option of engineOptions("warn")) command.addOption(option);
  return command.action(async (config: PassConfig) => {
    // Loaded on use: validate and --help need neither the AWS SDK nor the engine.
    const { runPlan } = await import("./run-plan.js");
    await runPlan(config);
  });
}
