import { InvalidArgumentError, Option } from "commander";
import { checkIamPath, defaultIamPath } from "../desired/iam-names.js";

export type OutputFormat = "text" | "json";

export function outputOption(): Option {
  return new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text");
}

export function iamPathOption(): Option {
  return new Option(
    "--iam-path <path>",
    "IAM path of the policies, roles and instance profiles rolecall creates",
  )
    .env("ROLECALL_IAM_PATH")
    .default(defaultIamPath)
    .argParser((value) => {
      const problem = checkIamPath(value);
      if (problem !== undefined) throw new InvalidArgumentError(problem);
      return value;
    });
}

export function manifestsOption(): Option {
  return new Option("-m, --manifests <dir>", "directory of InstanceAccess manifests")
    .env("ROLECALL_MANIFESTS")
    .default("./manifests");
}

export function modeOption(): Option {
  return new Option("--mode <mode>", "default mode for manifests that do not set spec.mode")
    .choices(["enforce", "observe"])
    .env("ROLECALL_MODE")
    .default("enforce");
}
