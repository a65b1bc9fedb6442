// The corpus of invalid manifests: each file in test/fixtures/invalid/ must produce exactly the errors that
// expectations.json lists for it (position, code, message), both through the library and through the built CLI.
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readManifestDirectory, readManifestPaths } from "../../src/fs/read-manifest-files.js";
import { maxManifestFileBytes } from "../../src/manifest/decode-text.js";
import { loadManifestSet, type ManifestSet } from "../../src/manifest-set/load-manifest-set.js";
import type { ManifestError } from "../../src/manifest/manifest-error.js";
import { repoRoot, runCliBatch, type CliResult } from "../support/cli.js";
import { tempDirs } from "../support/temp-dir.js";

interface ExpectedError {
  readonly line: number;
  readonly column: number;
  readonly code: ManifestError["code"];
  /** A substring of the message. */
  readonly message: string;
  readonly pointer?: string;
}

const options = { iamPath: "/rolecall/", partition: "aws", defaultMode: "enforce" } as const;
const invalidDir = path.join(repoRoot, "test", "fixtures", "invalid");
const setsDir = path.join(repoRoot, "test", "fixtures", "invalid-sets");
const expectationsFile = "expectations.json";

const readJson = (file: string): unknown => JSON.parse(readFileSync(file, "utf8"));
const expectations = readJson(path.join(invalidDir, expectationsFile)) as Record<string, ExpectedError[]>;
const setExpectations = readJson(path.join(setsDir, expectationsFile)) as Record<
  string,
  Record<string, ExpectedError[]>
>;
const fixtures = readdirSync(invalidDir)
  .filter((name) => name !== expectationsFile)
  .sort();

/** Repo-relative path, as the CLI prints it when run from the repository root. */
const relative = (file: string) => path.relative(repoRoot, file);

/** The errors, in order, must be exactly the expected ones. */
function expectErrors(actual: readonly ManifestError[], expected: readonly ExpectedError[]): void {
  const shown = actual.map((error) => `${error.line}:${error.column} ${error.code} ${error.message}`);
  expect(shown, "number of errors").toHaveLength(expected.length);
  expected.forEach((want, index) => {
    const got = actual[index]!;
    expect({ line: got.line, column: got.column, code: got.code }, shown[index]).toEqual({
      line: want.line,
      column: want.column,
      code: want.code,
    });
    expect(got.message).toContain(want.message);
    if (want.pointer !== undefined) expect(got.pointer).toBe(want.pointer);
  });
}

/** stdout holds a `FILE:LINE:COL: message` line for every expected error. */
function expectCliLines(stdout: string, file: string, expected: readonly ExpectedError[]): void {
  const lines = stdout.split("\n");
  for (const want of expected) {
    const head = `${file}:${want.line}:${want.column}: `;
    expect(
      lines.some((line) => line.startsWith(head) && line.includes(want.message)),
      `stdout has a line "${head}…${want.message}…"; got:\n${stdout}`,
    ).toBe(true);
  }
}

async function load(paths: readonly string[]): Promise<ManifestSet> {
  return loadManifestSet(await readManifestPaths(paths), options);
}

const sets = readdirSync(setsDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

/** A valid manifest, for the generated inputs whose only problem is how they are stored. */
const manifest = (name: string) =>
  [
    "apiVersion: rolecall.dev/v1alpha1",
    "kind: InstanceAccess",
    "metadata:",
    `  name: ${name}`,
    "spec:",
    "  instanceSelector: {instanceIds: [i-070823c5d33601d4f]}",
    "  grants: [{bucket: my-dev-bucket, access: read}]",
    "",
  ].join("\n");

const temp = tempDirs("invalid");
afterAll(temp.cleanup);
/** Inputs built in a temp dir: a file over 1 MiB, and a directory holding a symlink that leaves it. */
const generated = { huge: "", hugeText: "", root: "", link: "" };
/** Output of `rolecall validate …` for each fixture, set and generated input (all in one child process). */
const cli = new Map<string, CliResult>();
const cliResult = (key: string): CliResult => {
  const result = cli.get(key);
  if (result === undefined) throw new Error(`no CLI run for ${key}`);
  return result;
};

beforeAll(async () => {
  const hugeDir = await temp.make();
  generated.huge = path.join(hugeDir, "huge.yaml");
  // A valid manifest padded with a comment: only the size is wrong.
  generated.hugeText = manifest("huge") + "#" + "x".repeat(maxManifestFileBytes) + "\n";
  await writeFile(generated.huge, generated.hugeText);

  const outside = await temp.make();
  generated.root = await temp.make();
  await writeFile(path.join(outside, "secret.yaml"), manifest("outside"));
  await mkdir(path.join(generated.root, "team"));
  await writeFile(path.join(generated.root, "team", "inside.yaml"), manifest("inside"));
  generated.link = path.join(generated.root, "team", "escape.yaml");
  await symlink(path.join(outside, "secret.yaml"), generated.link);

  // Each run is its own `rolecall validate PATH` through dist/cli.js; they share one process only because the
  // CLI's start-up (it loads the AWS SDK) would otherwise dominate the suite.
  const runs: [string, string[]][] = [
    ...fixtures.map((name): [string, string[]] => [
      name,
      ["validate", relative(path.join(invalidDir, name))],
    ]),
    ...sets.map((set): [string, string[]] => [`set:${set}`, ["validate", relative(path.join(setsDir, set))]]),
    ["huge", ["validate", generated.huge]],
    ["symlink", ["validate", generated.root]],
  ];
  const results = await runCliBatch(runs.map(([, args]) => args));
  runs.forEach(([key], index) => cli.set(key, results[index]!));
});

describe("the invalid-manifest corpus", () => {
  it("has an expectation for every fixture and a fixture for every expectation", () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(30);
    expect(Object.keys(expectations).sort()).toEqual(fixtures);
    for (const name of fixtures) expect(expectations[name]?.length, name).toBeGreaterThan(0);
  });

  it.each(fixtures)("%s: the loader reports exactly the expected errors", async (name) => {
    const file = path.join(invalidDir, name);
    const set = await load([file]);
    expect(set.errors.every((error) => error.file === file)).toBe(true);
    expectErrors(set.errors, expectations[name] ?? []);
  });

  it.each(fixtures)("%s: rolecall validate FILE exits 1 and prints FILE:LINE:COL: message", (name) => {
    const result = cliResult(name);
    const expected = expectations[name] ?? [];
    expect(result.code).toBe(1);
    expectCliLines(result.stdout, relative(path.join(invalidDir, name)), expected);
    expect(result.stderr).toContain(`${expected.length} error(s)`);
  });
});

describe("invalid manifest sets (problems between files)", () => {
  it("has an expectation for every set and a set for every expectation", () => {
    expect(Object.keys(setExpectations).sort()).toEqual(sets);
  });

  it.each(sets)("%s: every file involved is reported", async (set) => {
    const dir = path.join(setsDir, set);
    const result = loadManifestSet(await readManifestDirectory(dir), options);
    const expected = setExpectations[set] ?? {};
    expect(result.manifests).toEqual([]);
    expect([...new Set(result.errors.map((error) => path.relative(dir, error.file)))].sort()).toEqual(
      Object.keys(expected).sort(),
    );
    for (const [file, errors] of Object.entries(expected)) {
      expectErrors(
        result.errors.filter((error) => error.file === path.join(dir, file)),
        errors,
      );
    }
  });

  it.each(sets)("%s: rolecall validate DIR exits 1 and reports each file", (set) => {
    const result = cliResult(`set:${set}`);
    expect(result.code).toBe(1);
    for (const [file, errors] of Object.entries(setExpectations[set] ?? {})) {
      expectCliLines(result.stdout, path.join(relative(path.join(setsDir, set)), file), errors);
    }
  });
});

describe("hostile inputs too large or too odd to commit", () => {
  it("a file over 1 MiB is refused before parsing, by the reader and by the loader", async () => {
    const { huge, hugeText } = generated;
    const fromDisk = await load([huge]);
    expect(fromDisk.errors).toEqual([
      {
        file: huge,
        line: 1,
        column: 1,
        code: "FileTooLarge",
        pointer: "",
        message: `file is ${Buffer.byteLength(hugeText)} bytes; manifests are limited to ${maxManifestFileBytes} bytes (1 MiB)`,
      },
    ]);
    expect(fromDisk.unnamedInvalid).toBe(true);

    // Bytes that reach the loader by another way are held to the same limit.
    const fromBytes = loadManifestSet([{ file: huge, bytes: Buffer.from(hugeText) }], options);
    expect(fromBytes.errors.map((error) => error.code)).toEqual(["FileTooLarge"]);

    const result = cliResult("huge");
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`${huge}:1:1: file is `);
  });

  it("a file of exactly 1 MiB is still read", async () => {
    const dir = await temp.make();
    const file = path.join(dir, "limit.yaml");
    const head = manifest("at-the-limit") + "#";
    await writeFile(file, head + "x".repeat(maxManifestFileBytes - Buffer.byteLength(head)));
    const set = await load([file]);
    expect(set.errors).toEqual([]);
    expect(set.manifests.map((valid) => valid.name)).toEqual(["at-the-limit"]);
  });

  it("a symlink that leaves the manifests directory is reported at the link, and not followed", async () => {
    const { root, link } = generated;
    const set = await load([root]);
    expect(set.manifests.map((valid) => valid.name)).toEqual(["inside"]);
    expect(set.errors).toHaveLength(1);
    expect(set.errors[0]).toMatchObject({ file: link, line: 1, column: 1, code: "SymlinkOutsideRoot" });
    expect(set.errors[0]?.message).toContain("outside the manifests directory");

    const result = cliResult("symlink");
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`${link}:1:1: symlink points outside the manifests directory`);
  });
});
