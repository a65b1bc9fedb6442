import { Command } from "commander";
import { readManifestPaths } from "../fs/read-manifest-files.js";
import { loadManifestSet } from "../manifest-set/load-manifest-set.js";
import { formatManifestError } from "../manifest/manifest-error.js";
import { exitCodes } from "./exit-codes.js";
import { options, type OutputFormat } from "../config/options.js";

interface ValidateOptions {
  output: OutputFormat;
  iamPath: string;
}

export function validateCommand(): Command {
  return new Command("validate")
    .description(
      "Check manifest files and directories: schema, duplicate names, IAM name clashes, policy size. " +
        "Exit 0 when all are valid, 1 when any is invalid, 2 on usage errors.",
    )
    .argument("<paths...>", "manifest files or directories (searched recursively for *.yaml, *.yml, *.json)")
    .addOption(options.output())
    .addOption(options.iamPath())
    .action(async (paths: string[], config: ValidateOptions) => {
      const inputs = await readManifestPaths(paths);
      const set = loadManifestSet(inputs, {
        iamPath: config.iamPath,
        partition: "aws",
        defaultMode: "enforce",
      });
      const valid = set.errors.length === 0;
      if (config.output === "json") {
        const report = {
          valid,
          files: set.fileCount,
          manifests: set.manifests.map((manifest) => ({
            name: manifest.name,
            file: manifest.file,
            line: manifest.line,
          })),
          errors: set.errors,
        };
        process.stdout.write(JSON.stringify(report, null, 2) + "\n");
      } else {
        for (const error of set.errors) process.stdout.write(formatManifestError(error) + "\n");
        const summary = `${set.fileCount} file(s), ${set.manifests.length} valid manifest(s), ${set.errors.length} error(s)`;
        process.stderr.write(summary + "\n");
      }
      process.exitCode = valid ? exitCodes.ok : exitCodes.failure;
    });
}
