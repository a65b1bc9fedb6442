// Bundles each module of dist/aws/sdk (tsc's output of src/aws/sdk) over itself with only the names it exports.
// A package's own entry point loads every operation's schemas and classes: importing @aws-sdk/client-ec2 alone
// raised a process from 41 to 124 MiB resident, where these five commands take 73. The bundles share one copy of
// the SDK's core (code splitting), so the clients do not each carry their own.
// Usage: node scripts/bundle-sdk.mjs   (npm run build runs it after tsc)
import { readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
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
  legalComments: "inline",
  logLevel: "warning",
});
// tsc's source maps describe the re-export modules these bundles replaced.
for (const name of entries) rmSync(path.join(sdk, `${name}.map`), { force: true });
