import type { DiffOutputFormat } from "../config/options.js";
import type { Mode } from "../manifest/instance-access.js";
import { readManifestDirectory } from "../fs/read-manifest-files.js";
import { loadManifestSet } from "../manifest-set/load-manifest-set.js";
import { buildDiffReport, reportsChange, type DiffReport } from "./diff-report.js";
import { diffJson } from "./diff-json.js";
import { renderDiffMarkdown } from "./diff-markdown.js";
import { renderDiffText, type DiffRoots } from "./diff-text.js";
import { exitCodes } from "./exit-codes.js";
import { textStyle, wantsColour } from "./text-style.js";

export interface DiffConfig {
  readonly output: DiffOutputFormat;
  readonly iamPath: string;
  readonly mode: Mode;
}

/**
 * `rolecall diff BASE HEAD`: reads and validates both directories as `validate` does, compares their compiled
 * manifests, prints the report. Offline by construction: nothing here loads the AWS SDK or opens a socket.
 * Exit 0: no change of access; 2: changes; 1: HEAD has an invalid manifest (or a directory cannot be read).
 */
export async function runDiff(base: string, head: string, config: DiffConfig): Promise<void> {
  const report = await diffDirectories({ base, head }, config);
  process.stdout.write(renderReport(report, { base, head }, config.output));
  process.exitCode =
    report.errors.head.length > 0
      ? exitCodes.failure
      : reportsChange(report)
        ? exitCodes.changesPending
        : exitCodes.ok;
}

/** Both directories read and compiled with the same options (the partition does not change what is compared). */
export async function diffDirectories(
  roots: DiffRoots,
  config: Omit<DiffConfig, "output">,
): Promise<DiffReport> {
  const options = { iamPath: config.iamPath, partition: "aws", defaultMode: config.mode };
  const [base, head] = await Promise.all([
    readManifestDirectory(roots.base),
    readManifestDirectory(roots.head),
  ]);
  return buildDiffReport(loadManifestSet(base, options), loadManifestSet(head, options));
}

function renderReport(report: DiffReport, roots: DiffRoots, output: DiffOutputFormat): string {
  switch (output) {
    case "json":
      return JSON.stringify(diffJson(report), null, 2) + "\n";
    case "markdown":
      return renderDiffMarkdown(report, roots);
    case "text":
      return renderDiffText(report, roots, textStyle(wantsColour(process.stdout, process.env))) + "\n";
  }
}
