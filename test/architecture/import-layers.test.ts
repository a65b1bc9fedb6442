import { readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../support/cli.js";
import { readSource, sourceFiles } from "./source-files.js";

/*
 * The layers of src/ are listed once, in the README's Development section (between the layer-order markers);
 * this test reads them from there. A file may import from its own layer or a lower one, never a higher one, and
 * no two files may import each other, directly or around a circle (type-only imports count: they are coupling).
 */

function layerOrder(): string[] {
  const readme = readFileSync(path.join(repoRoot, "README.md"), "utf8");
  const block = /<!-- layer-order -->([\s\S]*?)<!-- \/layer-order -->/.exec(readme)?.[1];
  if (block === undefined) throw new Error("README.md has no <!-- layer-order --> block");
  const line = /^\s*(\S.*→.*)$/m.exec(block)?.[1] ?? "";
  return line.split("→").map((layer) => layer.trim());
}

/** The layer a file belongs to: the longest listed folder (or file) containing it. */
function layerOf(file: string, layers: readonly string[]): string | undefined {
  return [...layers]
    .filter((layer) => file === layer || file.startsWith(`${layer}/`))
    .sort((a, b) => b.length - a.length)[0];
}

/** The src/ files a file imports (static, dynamic, type-only and re-exports), relative to src/. */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readSource(file), true, true);
  return info.importedFiles
    .map((imported) => imported.fileName)
    .filter((specifier) => specifier.startsWith("."))
    .map((specifier) => path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)))
    .map((target) => target.replace(/\.js$/, ".ts"));
}

function graph(): Map<string, string[]> {
  return new Map(sourceFiles().map((file) => [file, importsOf(file)]));
}

/** Strongly connected components of more than one file, or a file importing itself (Tarjan). */
function circles(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (node: string) => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const target of edges.get(node) ?? []) {
      if (!edges.has(target)) continue;
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) low.set(node, Math.min(low.get(node)!, index.get(target)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || (edges.get(node) ?? []).includes(node)) found.push(component.sort());
  };
  for (const node of edges.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe("the import graph of src/", () => {
  const layers = layerOrder();
  const edges = graph();

  it("the README lists the layers, and every source file belongs to one", () => {
    expect(layers.length).toBeGreaterThan(10);
    const unplaced = [...edges.keys()].filter((file) => layerOf(file, layers) === undefined);
    expect(unplaced).toEqual([]);
  });

  it("every import resolves to a file in src/", () => {
    const dangling = [...edges].flatMap(([file, targets]) =>
      targets.filter((target) => !edges.has(target)).map((target) => `${file} → ${target}`),
    );
    expect(dangling).toEqual([]);
  });

  it("no file imports from a higher layer", () => {
    const rank = (file: string) => layers.indexOf(layerOf(file, layers) ?? "");
    const upward = [...edges].flatMap(([file, targets]) =>
      targets
        .filter((target) => edges.has(target) && rank(target) > rank(file))
        .map((target) => `${file} (${layerOf(file, layers)}) → ${target} (${layerOf(target, layers)})`),
    );
    expect(upward).toEqual([]);
  });

  it("no import circle", () => {
    expect(circles(edges)).toEqual([]);
  });

  it("the checks see a circle and an upward import when there is one (not vacuous)", () => {
    const sample = new Map([
      ["plan/a.ts", ["plan/b.ts"]],
      ["plan/b.ts", ["plan/a.ts", "engine/c.ts"]],
      ["engine/c.ts", []],
    ]);
    expect(circles(sample)).toEqual([["plan/a.ts", "plan/b.ts"]]);
    expect(layers.indexOf(layerOf("engine/c.ts", layers)!)).toBeGreaterThan(
      layers.indexOf(layerOf("plan/b.ts", layers)!),
    );
  });
});
