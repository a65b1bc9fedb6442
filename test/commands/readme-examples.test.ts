// The README's examples say what the code does: the seed's compiled policy, and the shape of diff's JSON.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readManifestFile } from "../../src/fs/read-manifest-files.js";
import { loadManifestSet } from "../../src/manifest-set/load-manifest-set.js";
import { repoRoot, runCli } from "../support/cli.js";

/** The JSON code blocks of a README section (from its heading to the next heading of the same level). */
async function jsonBlocks(heading: string): Promise<unknown[]> {
  const readme = await readFile(path.join(repoRoot, "README.md"), "utf8");
  const start = readme.indexOf(`\n${heading}\n`);
  expect(start, heading).toBeGreaterThan(-1);
  const level = /^#+/.exec(heading)?.[0] ?? "##";
  const rest = readme.slice(start + heading.length + 2);
  const end = rest.search(new RegExp(`\\n${level} `));
  const section = end === -1 ? rest : rest.slice(0, end);
  return [...section.matchAll(/```json\n([\s\S]*?)```/g)].map(
    (match) => JSON.parse(match[1] ?? "") as unknown,
  );
}

describe("README examples", () => {
  it("Access levels: the seed manifest compiles to exactly the document shown", async () => {
    const [shown] = await jsonBlocks("## Access levels: the exact actions");
    const set = loadManifestSet([await readManifestFile(path.join(repoRoot, "manifests/dev-s3-read.yaml"))], {
      iamPath: "/rolecall/",
      partition: "aws",
      defaultMode: "enforce",
    });
    expect(shown).toEqual(set.manifests[0]?.desired.policy.document);
  });

  it("rolecall diff: the JSON shown has the members and entry shapes diff prints", async () => {
    const [shown] = (await jsonBlocks("### `rolecall diff`")) as Record<string, unknown>[];
    const printed = JSON.parse(
      (await runCli(["diff", "test/fixtures/diff/base", "test/fixtures/diff/head", "-o", "json"])).stdout,
    ) as Record<string, unknown>;
    const keysOf = (value: unknown) => Object.keys(value as object).sort();
    expect(keysOf(shown)).toEqual(keysOf(printed));
    const entry = (report: Record<string, unknown>) => (report.changes as Record<string, unknown>[])[0];
    expect(keysOf(entry(shown!))).toEqual(keysOf(entry(printed)));
    const access = (report: Record<string, unknown>) =>
      ((entry(report)?.access as Record<string, unknown[]>).added ?? [])[0];
    expect(keysOf(access(shown!))).toEqual(keysOf(access(printed)));
    expect(keysOf(shown!.summary)).toEqual(keysOf(printed.summary));
  });
});
