import { Command } from "commander";
import { addEngineOptions, type CommonRunOptions } from "./pass-options.js";

export function applyCommand(): Command {
  return addEngineOptions(
    new Command("apply").description(
      "Converge AWS to the manifests in one pass, printing each action taken. Exit 0 when every manifest " +
        "converged (instances skipped for a foreign profile are warnings), 1 when any could not converge, 2 on usage errors.",
    ),
  ).action(async (options: CommonRunOptions) => {
    const { runApply } = await import("./run-apply.js");
    await runApply(options);
  });
}
