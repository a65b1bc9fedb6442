import { Command } from "commander";
import { addEngineOptions, type CommonRunOptions } from "./pass-options.js";

export { addEngineOptions, logLevelOption, type CommonRunOptions } from "./pass-options.js";

export function planCommand(): Command {
  return addEngineOptions(
    new Command("plan").description(
      "Show the ordered actions a pass would take, with the resource, field and reason for each. Changes nothing. " +
        "Exit 0 when nothing would change, 2 when changes are pending, 1 on errors.",
    ),
  ).action(async (options: CommonRunOptions) => {
    // Loaded on use: validate and --help need neither the AWS SDK nor the engine.
    const { runPlan } = await import("./run-plan.js");
    await runPlan(options);
  });
}
