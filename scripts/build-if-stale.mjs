// Builds dist/ only when the sources changed since the last build: `npm ci` already built it (prepare), and a
// second full tsc run was most of the time `npm ci && npm run demo` took to a ready demo.
// Usage: node scripts/build-if-stale.mjs   (npm run demo runs it)
import { spawnSync } from "node:child_process";
import { readdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** What the build reads (tsc, then the SDK bundles); dist/cli.js is written by every build (tsc rewrites all its outputs). */
const inputs = ["src", "tsconfig.json", "tsconfig.build.json", path.join("scripts", "bundle-sdk.mjs")];
const output = path.join("dist", "cli.js");

function newestModification(entry) {
  const stats = statSync(entry);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs; // a deleted or renamed file changes its directory's time
  for (const name of readdirSync(entry))
    newest = Math.max(newest, newestModification(path.join(entry, name)));
  return newest;
}

/** Why dist/ must be built again, or undefined when it is up to date with the sources. */
export function staleReason(root) {
  let built;
  try {
    built = statSync(path.join(root, output)).mtimeMs;
  } catch {
    return `${output} does not exist`;
  }
  for (const input of inputs) {
    const changed = newestModification(path.join(root, input));
    if (changed > built) return `${input} changed after the last build`;
  }
  return undefined;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const reason = staleReason(root);
  if (reason === undefined) {
    console.error("dist/ is up to date with src/; not building");
  } else {
    console.error(`building: ${reason}`);
    const build = spawnSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" });
    if (build.status !== 0) {
      // tsc writes its output even when the types are wrong: without this, the next run would take it as fresh.
      rmSync(path.join(root, output), { force: true });
      process.exit(build.status ?? 1);
    }
  }
}
