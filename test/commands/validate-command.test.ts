// `rolecall validate` through the built CLI: exit codes, the text and JSON outputs, files and directories mixed.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { manifestErrorCodes } from "../../src/manifest/manifest-error.js";
import { runCli, runCliBatch, type CliResult } from "../support/cli.js";
import { tempDirs } from "../support/temp-dir.js";

const invalidFixture = "test/fixtures/invalid/17-bad-access-enum.yaml";
const duplicateSet = "test/fixtures/invalid-sets/duplicate-name";

const temp = tempDirs("validate");
afterAll(temp.cleanup);
let clash = "";

/**
 * Most runs share one child process (see test/support/cli-batch.mjs): the CLI loads the AWS SDK at start-up, and
 * a process per case would make this file slow. The first two tests below spawn `node dist/cli.js` on its own.
 */
const batch = {
  noPath: ["validate"],
  jsonValid: ["validate", "-o", "json", "manifests"],
  bogusOption: ["validate", "--bogus", "manifests"],
  badOutput: ["validate", "-o", "xml", "manifests"],
  badIamPath: ["validate", "--iam-path", "rolecall", "manifests"],
  missingPath: ["validate", "manifests", "no-such-dir"],
  help: ["validate", "--help"],
  text: ["validate", invalidFixture, duplicateSet],
  json: ["validate", "-o", "json", invalidFixture, duplicateSet],
  jsonLong: ["validate", "--output", "json", invalidFixture, duplicateSet],
  mixed: () => ["validate", "manifests", clash, invalidFixture, "-o", "json"],
  allValid: ["validate", "manifests/dev-s3-read.yaml", "manifests", "manifests/analytics-reports.yaml"],
} as const;
type BatchName = keyof typeof batch;
const results = new Map<BatchName, CliResult>();
const run = (name: BatchName): CliResult => {
  const result = results.get(name);
  if (result === undefined) throw new Error(`no batch result for ${name}`);
  return result;
};

beforeAll(async () => {
  const dir = await temp.make();
  clash = path.join(dir, "clash.yml");
  await writeFile(
    clash,
    [
      "apiVersion: rolecall.dev/v1alpha1",
      "kind: InstanceAccess",
      "metadata: {name: dev-s3-read}",
      "spec:",
      "  instanceSelector: {matchTags: {Env: dev}}",
      "  grants: [{bucket: another-bucket, access: write}]",
    ].join("\n"),
  );
  const names = Object.keys(batch) as BatchName[];
  const outputs = await runCliBatch(
    names.map((name) => {
      const args = batch[name];
      return typeof args === "function" ? args() : args;
    }),
  );
  names.forEach((name, index) => results.set(name, outputs[index]!));
});

interface JsonReport {
  valid: boolean;
  files: number;
  manifests: { name: string; file: string; line: number }[];
  errors: { file: string; line: number; column: number; message: string; pointer: string; code: string }[];
}

describe("rolecall validate: exit codes", () => {
  it("exits 0 for the example manifests, printing only a summary on stderr", async () => {
    const result = await runCli(["validate", "manifests"]);
    expect(result).toEqual({ code: 0, stdout: "", stderr: "3 file(s), 3 valid manifest(s), 0 error(s)\n" });
  });

  it("exits 1 for an invalid manifest, with one FILE:LINE:COL: message (at /pointer) line per error", async () => {
    const result = await runCli(["validate", invalidFixture]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(
      `${invalidFixture}:11:15: must be one of read, write, read-write; got "reed" (did you mean "read"?) (at /spec/grants/0/access)\n`,
    );
    expect(result.stderr).toBe("1 file(s), 0 valid manifest(s), 1 error(s)\n");
  });

  it("exits 2 when no path is given", () => {
    const result = run("noPath");
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("missing required argument 'paths'");
  });

  it.each([
    ["bogusOption", "unknown option '--bogus'"],
    ["badOutput", "Allowed choices are text, json"],
    ["badIamPath", 'an IAM path starts and ends with "/"'],
  ] as const)("exits 2 for a wrong command line (%s)", (name, message) => {
    const result = run(name);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(message);
  });

  it("exits 1, not 2, for a path that does not exist: the command line was fine, the input is not", () => {
    const result = run("missingPath");
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("no-such-dir:1:1: cannot read: ENOENT\n");
  });

  it("exits 0 for --help", () => {
    const result = run("help");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Usage: rolecall validate [options] <paths...>");
  });
});

describe("rolecall validate --output json", () => {
  it("reports valid manifests with where they start", () => {
    const result = run("jsonValid");
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({
      valid: true,
      files: 3,
      manifests: [
        { name: "analytics-reports", file: "manifests/analytics-reports.yaml", line: 5 },
        { name: "dev-s3-read", file: "manifests/dev-s3-read.yaml", line: 6 },
        { name: "staging-logs", file: "manifests/staging-logs-observe.yaml", line: 5 },
      ],
      errors: [],
    });
  });

  it("reports the same errors as the text output, as objects", () => {
    const [text, json, long] = [run("text"), run("json"), run("jsonLong")];
    expect(json.code).toBe(1);
    expect(long.stdout).toBe(json.stdout);
    const report = JSON.parse(json.stdout) as JsonReport;
    expect(report.valid).toBe(false);
    expect(report.files).toBe(3);
    expect(report.manifests).toEqual([]);
    expect(report.errors).toHaveLength(3);
    for (const error of report.errors) {
      expect(Object.keys(error).sort()).toEqual(["code", "column", "file", "line", "message", "pointer"]);
      expect(manifestErrorCodes).toContain(error.code);
    }
    expect(report.errors.map((error) => error.code)).toEqual([
      "DuplicateName",
      "DuplicateName",
      "SchemaViolation",
    ]);
    expect(report.errors[2]).toEqual({
      file: invalidFixture,
      line: 11,
      column: 15,
      message: 'must be one of read, write, read-write; got "reed" (did you mean "read"?)',
      pointer: "/spec/grants/0/access",
      code: "SchemaViolation",
    });
    const asText = report.errors.map(
      (error) => `${error.file}:${error.line}:${error.column}: ${error.message} (at ${error.pointer})`,
    );
    expect(text.stdout).toBe(asText.join("\n") + "\n");
  });
});

describe("rolecall validate with files and directories mixed", () => {
  it("validates them all together: names must be unique across every path given", () => {
    const result = run("mixed");
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as JsonReport;
    expect(report.files).toBe(5);
    expect(report.manifests.map((manifest) => manifest.name)).toEqual(["analytics-reports", "staging-logs"]);
    expect(report.errors.map((error) => [error.file, error.line, error.column, error.code])).toEqual([
      [clash, 3, 18, "DuplicateName"],
      ["manifests/dev-s3-read.yaml", 9, 9, "DuplicateName"],
      [invalidFixture, 11, 15, "SchemaViolation"],
    ]);
  });

  it("exits 0 when every path is valid, reading a file named twice once", () => {
    const result = run("allValid");
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("3 file(s), 3 valid manifest(s), 0 error(s)\n");
  });
});
