import { Command, Option } from "commander";
import { engineOptions, options, type ExplainConfig } from "../config/options.js";

export function explainCommand(): Command {
  const command = new Command("explain")
    .description(
      "Say who can reach what: for an instance, the manifests selecting it, the profile it holds and should hold, " +
        "and its access as declared and as in effect in AWS; for a bucket, every instance that reaches it. Changes " +
        "nothing. Exit 0, 1 on errors (an unknown instance), 2 on usage errors.",
    )
    .addOption(new Option("--instance <id>", "an EC2 instance ID").conflicts("bucket"))
    .addOption(new Option("--bucket <name>", "an S3 bucket name").conflicts("instance"))
    .addOption(options.output());
  for (const option of engineOptions("warn")) command.addOption(option);
  return command.action(async (config: ExplainConfig) => {
    if (config.instance === undefined && config.bucket === undefined)
      command.error("error: give --instance ID or --bucket NAME", { exitCode: 2, code: "rolecall.usage" });
    const { runExplain } = await import("./run-explain.js");
    await runExplain(config);
  });
}
