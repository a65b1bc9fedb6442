import { Command } from "commander";
import { options } from "../config/options.js";
import type { DiffConfig } from "./run-diff.js";

export function diffCommand(): Command {
  return new Command("diff")
    .description(
      "Compare two manifest directories (a pull request's base and head) in access terms: the actions gained and " +
        "lost per resource, selector and setting changes, new overlaps of selectors. Offline: no AWS credentials, " +
        "no network. Exit 0 when nothing changes, 2 when access changes, 1 on errors (an invalid manifest in HEAD).",
    )
    .argument("<base>", "the directory of manifests before the change (e.g. a checkout of the base branch)")
    .argument("<head>", "the directory of manifests after the change (e.g. the pull request's checkout)")
    .addOption(options.diffOutput())
    .addOption(options.iamPath())
    .addOption(options.mode())
    .action(async (base: string, head: string, config: DiffConfig) => {
      // Loaded on use, as plan's modules are: --help needs none of it.
      const { runDiff } = await import("./run-diff.js");
      await runDiff(base, head, config);
    });
}
