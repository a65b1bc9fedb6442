import ts from "typescript";
import { describe, expect, it } from "vitest";
import { readSource, sourceFiles } from "./source-files.js";

/** Functions (declarations, methods, arrows) of a file with their length in lines, over `limit`. */
function longFunctions(file: string, limit: number): string[] {
  const source = ts.createSourceFile(file, readSource(file), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && "body" in node && node.body !== undefined) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = last - first + 1;
      if (lines > limit)
        found.push(`${file}:${first + 1} ${node.name?.getText(source) ?? "(anonymous)"} ${lines} lines`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The action executor: the handler table and its combinators. */
const executorFiles = (file: string) =>
  file === "aws/aws-action-executor.ts" || file.startsWith("aws/actions/");

describe("functions short enough to read at once", () => {
  it("no function in src/ is over 120 lines", () => {
    expect(sourceFiles().flatMap((file) => longFunctions(file, 120))).toEqual([]);
  });

  it("no function of the action executor is over 80 lines", () => {
    const files = sourceFiles().filter(executorFiles);
    expect(files.length).toBeGreaterThan(3);
    expect(files.flatMap((file) => longFunctions(file, 80))).toEqual([]);
  });
});
