#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { exitCodes } from "./commands/exit-codes.js";
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
    .addCommand(validateCommand());
}

async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  for (const command of program.commands) command.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      const benign = ["commander.helpDisplayed", "commander.version", "commander.help"].includes(error.code);
      process.exitCode = benign ? exitCodes.ok : exitCodes.usage;
      return;
    }
    throw error;
  }
}

await main(process.argv);
