import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root; CLI runs use it as their working directory so the paths they print are repo-relative. */
export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
export const cliPath = path.join(repoRoot, "dist", "cli.js");
const batchScript = fileURLToPath(new URL("./cli-batch.mjs", import.meta.url));

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function requireBuild(): void {
  if (!existsSync(cliPath))
    throw new Error(`${cliPath} is missing: run \`npm run build\` before these tests`);
}

function runNode(args: readonly string[], cwd: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      args,
      { cwd, maxBuffer: 256 * 1024 * 1024, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error === null) resolve({ code: 0, stdout, stderr });
        else if (typeof error.code === "number") resolve({ code: error.code, stdout, stderr });
        else reject(new Error(`could not run node: ${error.message}`));
      },
    );
  });
}

/** Runs the built CLI (`npm run build` first; `npm test` does) as its own process. */
export function runCli(args: readonly string[], cwd: string = repoRoot): Promise<CliResult> {
  requireBuild();
  return runNode([cliPath, ...args], cwd);
}

/**
 * Runs the built CLI once per argument list, every run in one child process (see cli-batch.mjs): each run goes
 * through dist/cli.js with its own argv, output and exit code, without one Node start-up per run.
 */
export async function runCliBatch(
  runs: readonly (readonly string[])[],
  cwd: string = repoRoot,
): Promise<CliResult[]> {
  requireBuild();
  const result = await runNode([batchScript, cliPath, JSON.stringify(runs)], cwd);
  if (result.code !== 0) throw new Error(`cli-batch failed (${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout) as CliResult[];
}
