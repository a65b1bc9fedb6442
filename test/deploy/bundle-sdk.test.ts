import { writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { literalSchemaKeys, literalSchemaKeysPlugin } from "../../scripts/bundle-sdk.mjs";
import { tempDirs } from "../support/temp-dir.js";

const dirs = tempDirs("bundle-sdk");
afterAll(async () => {
  await dirs.cleanup();
});

/** `entry` bundled as scripts/bundle-sdk.mjs bundles (with or without the plugin), and imported. */
async function bundled(
  entry: string,
  plugins: Plugin[],
): Promise<{ text: string; module: Record<string, unknown> }> {
  const result = await build({
    stdin: { contents: entry, resolveDir: process.cwd(), loader: "js" },
    bundle: true,
    write: false,
    format: "esm",
    platform: "node",
    mainFields: ["module", "main"],
    logLevel: "silent",
    plugins,
  });
  const text = result.outputFiles[0]?.text ?? "";
  const file = path.join(await dirs.make(), "bundle.mjs");
  await writeFile(file, text);
  return { text, module: (await import(pathToFileURL(file).href)) as Record<string, unknown> };
}

/** A schema graph as plain data: thunks called, and an object seen before written as its first-visit index. */
function plain(root: unknown): unknown {
  const seen = new Map<unknown, number>();
  const walk = (value: unknown): unknown => {
    if (typeof value === "function") return walk((value as () => unknown)());
    if (typeof value !== "object" || value === null) return value;
    const index = seen.get(value);
    if (index !== undefined) return { seen: index };
    seen.set(value, seen.size);
    if (Array.isArray(value)) return value.map(walk);
    return Object.fromEntries(Object.entries(value).map(([key, member]) => [key, walk(member)]));
  };
  return walk(root);
}

const shapeCount = (text: string): number => text.match(/^var \w+\$ = /gm)?.length ?? 0;

describe("scripts/bundle-sdk.mjs: the SDK's schema modules tree-shaken to the shapes rolecall's commands reach", () => {
  it("writes a computed key that names a string constant as that string, and leaves every other key computed", () => {
    const source = [
      'const _eQN = "ec2QueryName";',
      'const _p = "__proto__";',
      "export var Count$ = [3, n0, _C, 0, [_M], [[1, { [_eQN]: `Min`, [_xN]: _m }]]];",
      "var other = { [_p]: 1 };",
    ].join("\n");
    const rewritten = literalSchemaKeys(source);
    expect(rewritten).toContain('{ "ec2QueryName": `Min`, [_xN]: _m }');
    expect(rewritten).toContain("{ [_p]: 1 }");
    expect(rewritten.split("\n").slice(0, 2)).toEqual(source.split("\n").slice(0, 2));
  });

  for (const client of ["client-ec2", "client-iam"]) {
    it(`leaves every schema of @aws-sdk/${client} as the package builds it`, async () => {
      const entry = `export * from "@aws-sdk/${client}/dist-es/schemas/schemas_0.js";`;
      const [original, rewritten] = await Promise.all([
        bundled(entry, []),
        bundled(entry, [literalSchemaKeysPlugin]),
      ]);
      const names = Object.keys(original.module).filter((name) => name.endsWith("$"));
      expect(names.length).toBeGreaterThan(100);
      expect(Object.keys(rewritten.module).sort()).toEqual(Object.keys(original.module).sort());
      for (const name of names)
        expect(plain(rewritten.module[name]), name).toEqual(plain(original.module[name]));
    });
  }

  it("keeps only the shapes DescribeInstances reaches, where without it esbuild kept EC2's every structure", async () => {
    const entry = 'export { DescribeInstances$ } from "@aws-sdk/client-ec2/dist-es/schemas/schemas_0.js";';
    const [original, rewritten] = await Promise.all([
      bundled(entry, []),
      bundled(entry, [literalSchemaKeysPlugin]),
    ]);
    expect(shapeCount(rewritten.text)).toBeLessThan(200);
    expect(shapeCount(original.text)).toBeGreaterThan(10 * shapeCount(rewritten.text));
    expect(plain(rewritten.module.DescribeInstances$)).toEqual(plain(original.module.DescribeInstances$));
  });
});
