import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "../support/cli.js";

export const srcRoot = path.join(repoRoot, "src");

/** Every TypeScript file under src/, as a path relative to src/ with forward slashes. */
export function sourceFiles(): string[] {
  const found: string[] = [];
  const walk = (directory: string) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const full = path.join(directory, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".ts")) found.push(path.relative(srcRoot, full).split(path.sep).join("/"));
    }
  };
  walk(srcRoot);
  return found.sort();
}

export function readSource(file: string): string {
  return readFileSync(path.join(srcRoot, file), "utf8");
}
