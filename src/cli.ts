#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { exitCodes } from "./commands/exit-codes.js";
import { applyCommand } from "./commands/apply-command.js";
import { planCommand } from "./commands/plan-command.js";
import { runCommand } from "./commands/run-command.js";
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
    .addCommand(planCommand())
    .addCommand(applyCommand())
    .addCommand(runCommand());
}

async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  for (const command of program.commands) command.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      const benign = ["commander.helpDisplayed", "commander.version", "commander.help"].includes(error.code);
      // For plan, 2 means "changes pending"; a wrong command line is an error like any other there.
      const usage = argv[2] === "plan" ? exitCodes.failure : exitCodes.usage;
      process.exitCode = benign ? exitCodes.ok : usage;
      return;
    }
    // Expected failures (unreadable directory, no AWS region, AWS refusing a read) are one clear line.
    process.stderr.write(`rolecall: error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = exitCodes.failure;
  }
}

await main(process.argv);
