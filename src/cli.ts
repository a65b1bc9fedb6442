#!/usr/bin/env node
// First: it sets the AWS SDK's warning switch before any SDK module can be loaded.
import { nodeSupportNotice } from "./commands/node-support.js";
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { exitCodes } from "./commands/exit-codes.js";
import { applyCommand } from "./commands/apply-command.js";
import { diffCommand } from "./commands/diff-command.js";
import { planCommand } from "./commands/plan-command.js";
import { explainCommand } from "./commands/explain-command.js";
import { runCommand } from "./commands/run-command.js";
import { statusCommand } from "./commands/status-command.js";
import { validateCommand } from "./commands/validate-command.js";

const packageJson = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  version: string;
};

export function buildProgram(): Command {
  return new Command("rolecall")
    .description(
      "Grants EC2 instances access to S3 buckets through IAM instance profiles, declared as YAML manifests.",
    )
    .version(packageJson.version)
    .showHelpAfterError()
    .exitOverride()
    .addCommand(validateCommand())
    .addCommand(diffCommand())
    .addCommand(planCommand())
    .addCommand(applyCommand())
    .addCommand(explainCommand())
    .addCommand(runCommand())
    .addCommand(statusCommand())
    .hook("preAction", (_program, command) => {
      // Only the commands that build AWS SDK clients are affected by the SDK's support policy.
      const simulated = command.opts<{ cloud?: string }>().cloud === "sim";
      const notice = usesAwsSdk.has(command.name()) && !simulated ? nodeSupportNotice() : undefined;
      if (notice !== undefined) process.stderr.write(`${notice}\n`);
    });
}

const usesAwsSdk = new Set(["plan", "apply", "explain", "run"]);
/** Commands whose exit code 2 means "changes": for them, a wrong command line is an error like any other. */
const twoMeansChanges = new Set(["plan", "diff"]);

async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  for (const command of program.commands) command.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      const benign = ["commander.helpDisplayed", "commander.version", "commander.help"].includes(error.code);
      const usage = twoMeansChanges.has(argv[2] ?? "") ? exitCodes.failure : exitCodes.usage;
      process.exitCode = benign ? exitCodes.ok : usage;
      return;
    }
    // Expected failures (unreadable directory, no AWS region, AWS refusing a read) are one clear line.
    process.stderr.write(`rolecall: error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = exitCodes.failure;
  }
}

await main(process.argv);
