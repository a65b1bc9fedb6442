// Bundles each module of dist/aws/sdk (tsc's output of src/aws/sdk) over itself with only the names it exports.
// A package's own entry point loads every operation's schemas and classes: importing @aws-sdk/client-ec2 alone
// raised a process from 41 to 124 MiB resident, where these five commands take 53. The bundles share one copy of
// the SDK's core (code splitting), so the clients do not each carry their own.
// Usage: node scripts/bundle-sdk.mjs   (npm run build runs it after tsc)
import { readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

/** A client's schema modules (`dist-es/schemas/*.js`): one shape per top-level statement. */
const schemaModule = /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/][^\\/]+\.js$/;

/**
 * The schema module's source with each computed member key naming one of its string constants (`{ [_xN]: v }`)
 * written as that string (`{ "xmlName": v }`). esbuild cannot know that such a key is a string, so it keeps every
 * shape with a trait as if building it had side effects: 2,235 of EC2's shapes where rolecall's five commands
 * reach 94. The object each key builds is the same; `__proto__` is left computed, as a literal one would set the
 * prototype instead.
 */
export function literalSchemaKeys(source) {
  const strings = new Map();
  for (const match of source.matchAll(/^const (_\w+) = ("(?:[^"\\\n]|\\.)*");$/gm))
    strings.set(match[1], match[2]);
  return source.replace(/([{,]\s*)\[(_\w+)\]:/g, (key, before, name) => {
    const value = strings.get(name);
    return value === undefined || value === '"__proto__"' ? key : `${before}${value}:`;
  });
}

export const literalSchemaKeysPlugin = {
  name: "literal-schema-keys",
  setup(bundle) {
    bundle.onLoad({ filter: schemaModule }, (file) => ({
      contents: literalSchemaKeys(readFileSync(file.path, "utf8")),
      loader: "js",
    }));
  },
};

async function bundleSdk(root) {
  const sdk = path.join(root, "dist", "aws", "sdk");
  const entries = readdirSync(sdk).filter((name) => name.endsWith(".js"));
  // A fresh chunks directory: chunk names carry a content hash, and old ones would pile up.
  rmSync(path.join(sdk, "chunks"), { recursive: true, force: true });
  await build({
    entryPoints: entries.map((name) => path.join(sdk, name)),
    outdir: sdk,
    allowOverwrite: true,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    // The SDK's packages ship ES modules beside CommonJS; only ES modules can be tree-shaken to the names used.
    mainFields: ["module", "main"],
    chunkNames: "chunks/[name]-[hash]",
    // The few CommonJS dependencies left call require() for Node's modules, which an ES module lacks.
    banner: {
      js: 'import { createRequire as rolecallRequire } from "node:module"; const require = rolecallRequire(import.meta.url);',
    },
    plugins: [literalSchemaKeysPlugin],
    legalComments: "inline",
    logLevel: "warning",
  });
  // tsc's source maps describe the re-export modules these bundles replaced.
  for (const name of entries) rmSync(path.join(sdk, `${name}.map`), { force: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url))
  await bundleSdk(fileURLToPath(new URL("..", import.meta.url)));
