import { describe, expect, it } from "vitest";
import type { ManifestError } from "../../src/manifest/manifest-error.js";
import {
  maxAliasCount,
  maxDocumentsPerFile,
  maxNestingDepth,
  parseDocuments,
  type ParsedFile,
} from "../../src/manifest/parse-documents.js";

const brief = (errors: readonly ManifestError[]) =>
  errors.map((error) => `${error.line}:${error.column} ${error.code}`);

function only(parsed: ParsedFile) {
  expect(parsed.documents).toHaveLength(1);
  return parsed.documents[0]!;
}

describe("parseDocuments: multi-document files", () => {
  const text = [
    "# leading comment", // 1
    "---", // 2
    "apiVersion: a", // 3
    "kind: one", // 4
    "---", // 5
    "# a comment inside the second document", // 6
    "kind: two", // 7
    "...", // 8
    "---", // 9
    "- listed", // 10
    "",
  ].join("\n");

  it("returns every document in order, with its index, value and start position", () => {
    const parsed = parseDocuments("multi.yaml", text);
    expect(parsed.errors).toEqual([]);
    expect(parsed.documents.map((document) => [document.index, document.value, document.start])).toEqual([
      [0, { apiVersion: "a", kind: "one" }, { line: 3, column: 1 }],
      [1, { kind: "two" }, { line: 7, column: 1 }],
      [2, ["listed"], { line: 10, column: 1 }],
    ]);
    expect(parsed.documents.every((document) => document.file === "multi.yaml" && !document.damaged)).toBe(
      true,
    );
  });

  it("keeps the valid documents beside a broken one, and reports the broken one where it breaks", () => {
    const parsed = parseDocuments("mixed.yaml", "a: 1\n---\nb: [1, 2\n---\nc: 3\n");
    expect(parsed.documents.map((document) => [document.index, document.value])).toEqual([
      [0, { a: 1 }],
      [2, { c: 3 }],
    ]);
    expect(parsed.errors).toHaveLength(1);
    expect(parsed.errors[0]).toMatchObject({ file: "mixed.yaml", line: 4, column: 1, code: "YamlSyntax" });
    // The library's own " at line L, column C" suffix is dropped: the position is in front already.
    expect(parsed.errors[0]?.message).not.toMatch(/at line \d+/);
  });

  it("reads a document with only `---` as null, which the loader then rejects as not a mapping", () => {
    const document = only(parseDocuments("null.yaml", "---\n"));
    expect(document.value).toBeNull();
  });

  it(`accepts ${maxDocumentsPerFile} documents and refuses one more before composing any`, () => {
    const documents = (count: number) => Array.from({ length: count }, (_, i) => `---\nn: ${i}\n`).join("");
    expect(parseDocuments("max.yaml", documents(maxDocumentsPerFile)).documents).toHaveLength(
      maxDocumentsPerFile,
    );
    const flood = parseDocuments("flood.yaml", documents(maxDocumentsPerFile + 1));
    expect(flood.documents).toEqual([]);
    expect(flood.errors).toEqual([
      {
        file: "flood.yaml",
        line: 1,
        column: 1,
        code: "TooManyDocuments",
        pointer: "",
        message: `file holds ${maxDocumentsPerFile + 1} documents; at most ${maxDocumentsPerFile} are accepted per file`,
      },
    ]);
  });
});

describe("parseDocuments: source positions", () => {
  const text = [
    "apiVersion: rolecall.dev/v1alpha1", // 1
    "metadata:", // 2
    "  name: demo", // 3
    "  labels:", // 4
    "    example.com/team: dev", // 5
    "    7: seven", // 6
    "spec:", // 7
    "  grants:", // 8
    "    - bucket: my-bucket", // 9
    "      access: read", // 10
    "    - {bucket: other, access: write}", // 11
    "",
  ].join("\n");
  const document = only(parseDocuments("positions.yaml", text));

  it("points at the value a pointer names, or at its key when asked", () => {
    expect(document.locate(["metadata", "name"])).toEqual({ line: 3, column: 9 });
    expect(document.locate(["metadata", "name"], "key")).toEqual({ line: 3, column: 3 });
    expect(document.locate(["spec", "grants", "0", "access"])).toEqual({ line: 10, column: 15 });
    expect(document.locate(["spec", "grants", "1", "access"])).toEqual({ line: 11, column: 31 });
    expect(document.locate(["spec", "grants", "1"])).toEqual({ line: 11, column: 7 });
    expect(document.locate(["spec", "grants"])).toEqual({ line: 9, column: 5 });
  });

  it("matches keys literally, including '/' and numeric keys (pointer segments arrive unescaped)", () => {
    expect(document.locate(["metadata", "labels", "example.com/team"])).toEqual({ line: 5, column: 23 });
    expect(document.locate(["metadata", "labels", "7"], "key")).toEqual({ line: 6, column: 5 });
  });

  it("falls back to the deepest node that exists for a missing field", () => {
    expect(document.locate(["spec", "grants", "0", "prefixes"])).toEqual({ line: 9, column: 7 });
    expect(document.locate(["spec", "grants", "5", "bucket"])).toEqual({ line: 9, column: 5 });
    expect(document.locate(["nothing", "here"])).toEqual({ line: 1, column: 1 });
    expect(document.locate([])).toEqual({ line: 1, column: 1 });
  });

  it("counts lines the same with CRLF line endings", () => {
    const crlf = only(parseDocuments("crlf.yaml", text.replace(/\n/g, "\r\n")));
    expect(crlf.value).toEqual(document.value);
    expect(crlf.locate(["spec", "grants", "0", "access"])).toEqual({ line: 10, column: 15 });
  });

  it("locates the value that counts when a key is repeated: the last one", () => {
    const repeated = parseDocuments("repeat.yaml", "a: 1\nb: first\nb: second\n");
    const repeatedDocument = only(repeated);
    expect(repeatedDocument.value).toEqual({ a: 1, b: "second" });
    expect(repeatedDocument.locate(["b"])).toEqual({ line: 3, column: 4 });
  });
});

describe("parseDocuments: JSON", () => {
  const json = [
    "{", // 1
    '  "apiVersion": "rolecall.dev/v1alpha1",', // 2
    '  "spec": {', // 3
    '    "grants": [{ "bucket": "b1", "access": "read" }],', // 4
    '    "listAllBuckets": true', // 5
    "  }", // 6
    "}", // 7
  ].join("\n");

  it("reads JSON as YAML, with the same values JSON.parse gives", () => {
    const document = only(parseDocuments("m.json", json));
    expect(document.value).toEqual(JSON.parse(json));
  });

  it("locates JSON nodes by line and column", () => {
    const document = only(parseDocuments("m.json", json));
    expect(document.start).toEqual({ line: 1, column: 1 });
    expect(document.locate(["spec", "grants", "0", "access"])).toEqual({ line: 4, column: 44 });
    expect(document.locate(["spec", "grants", "0", "access"], "key")).toEqual({ line: 4, column: 34 });
    expect(document.locate(["spec", "listAllBuckets"])).toEqual({ line: 5, column: 23 });
  });

  it("reports broken JSON as a syntax error near where it breaks", () => {
    const parsed = parseDocuments("broken.json", '{\n  "a": 1,\n  "b": [1, 2\n}\n');
    expect(parsed.documents).toEqual([]);
    expect(parsed.errors.length).toBeGreaterThan(0);
    expect(parsed.errors.every((error) => error.code === "YamlSyntax" && error.line >= 3)).toBe(true);
  });

  it("reads YAML 1.2, so yes/no/on/off stay strings rather than becoming booleans", () => {
    const document = only(parseDocuments("bools.yaml", "a: yes\nb: no\nc: on\nd: off\ne: true\n"));
    expect(document.value).toEqual({ a: "yes", b: "no", c: "on", d: "off", e: true });
  });
});

describe("parseDocuments: duplicate keys", () => {
  it("reports the repeated key, not the first, and keeps the document for further checks", () => {
    const parsed = parseDocuments("dup.yaml", "spec:\n  mode: enforce\n  other: 1\n  mode: observe\n");
    expect(parsed.errors).toEqual([
      {
        file: "dup.yaml",
        line: 4,
        column: 3,
        code: "DuplicateKey",
        pointer: "",
        message: "duplicate key: a key may appear only once in a mapping",
      },
    ]);
    const document = only(parsed);
    expect(document.damaged).toBe(true);
    expect(document.value).toEqual({ spec: { mode: "observe", other: 1 } });
  });

  it("finds duplicates in flow mappings, nested mappings and later documents", () => {
    const parsed = parseDocuments(
      "dups.yaml",
      ["a: {x: 1, y: 2, x: 3}", "b:", "  - c:", "      d: 1", "      d: 2", "---", "e: 1", "e: 2", ""].join(
        "\n",
      ),
    );
    expect(brief(parsed.errors)).toEqual(["1:17 DuplicateKey", "5:7 DuplicateKey", "8:1 DuplicateKey"]);
    expect(parsed.documents.map((document) => document.damaged)).toEqual([true, true]);
  });

  it("treats keys that become the same property name as duplicates (1 and '1')", () => {
    const parsed = parseDocuments("numeric.yaml", "matchTags:\n  1: a\n  '1': b\n");
    expect(brief(parsed.errors)).toEqual(["3:3 DuplicateKey"]);
  });

  it("does not confuse equal values, or equal keys in different mappings, with duplicates", () => {
    const parsed = parseDocuments("fine.yaml", "a: {k: 1}\nb: {k: 1}\nc: [k, k]\nd: k\n");
    expect(parsed.errors).toEqual([]);
    expect(only(parsed).damaged).toBe(false);
  });

  it("finds the one duplicate among thousands of distinct keys", () => {
    // yaml's own check compared every key with all earlier ones; this size made that take seconds.
    const keys = Array.from({ length: 5_000 }, (_, i) => `key${i}: ${i}`);
    keys.push("key123: again");
    const parsed = parseDocuments("many.yaml", keys.join("\n"));
    expect(brief(parsed.errors)).toEqual([`${keys.length}:1 DuplicateKey`]);
  });
});

describe("parseDocuments: hostile input gets an error, never a crash", () => {
  it("refuses a billion-laughs alias bomb without expanding it", () => {
    const levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
    const names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for (let level = 1; level < names.length; level += 1) {
      const [previous, name] = [names[level - 1]!, names[level]!];
      levels.push(`${name}: &${name} [${Array.from({ length: 10 }, () => `*${previous}`).join(", ")}]`);
    }
    const parsed = parseDocuments("bomb.yaml", levels.join("\n"));
    expect(parsed.documents).toEqual([]);
    expect(parsed.errors).toEqual([
      {
        file: "bomb.yaml",
        line: 1,
        column: 1,
        code: "AliasLimit",
        pointer: "",
        message: `document expands more than ${maxAliasCount} aliases (a YAML alias bomb?); manifests need no aliases`,
      },
    ]);
  });

  it(`refuses more than ${maxAliasCount} aliases even when each expands to little`, () => {
    const lines = Array.from({ length: maxAliasCount + 1 }, (_, i) => `k${i}: *x`);
    const parsed = parseDocuments("aliases.yaml", ["x: &x 1", ...lines].join("\n"));
    expect(brief(parsed.errors)).toEqual(["1:1 AliasLimit"]);
  });

  it("allows a few harmless aliases", () => {
    const document = only(parseDocuments("ok.yaml", "a: &tags {team: dev}\nb: *tags\nc: *tags\n"));
    expect(document.value).toEqual({ a: { team: "dev" }, b: { team: "dev" }, c: { team: "dev" } });
  });

  it("reports an alias to an undefined anchor at the alias, not as a bomb", () => {
    const parsed = parseDocuments("alias.yaml", "a: &x 1\nb: [*x, *y]\nc: &y 2\n");
    expect(parsed.documents).toEqual([]);
    expect(parsed.errors).toHaveLength(1);
    expect(parsed.errors[0]).toMatchObject({ line: 2, column: 9, code: "YamlSyntax" });
    expect(parsed.errors[0]?.message).toBe("alias *y refers to no anchor &y defined before it");
  });

  it.each([
    ["flow sequences", 200, "[".repeat(200) + "]".repeat(200)],
    ["flow mappings", 200, "{a: ".repeat(200) + "1" + "}".repeat(200)],
    [
      "block mappings",
      200,
      Array.from({ length: 200 }, (_, i) => `${"  ".repeat(i)}k${i}:`).join("\n") + " x",
    ],
    ["block sequences", 200, Array.from({ length: 200 }, (_, i) => `${"  ".repeat(i)}-`).join("\n") + " x"],
    ["20,000 unclosed brackets", 20_000, "[".repeat(20_000)],
  ])("refuses %s nested deeper than the limit", (_kind, _depth, text) => {
    const parsed = parseDocuments("deep.yaml", text);
    expect(parsed.documents).toEqual([]);
    expect(parsed.errors).toHaveLength(1);
    expect(parsed.errors[0]).toMatchObject({
      code: "NestingTooDeep",
      message: `document is nested more than ${maxNestingDepth} levels deep`,
    });
  });

  it(`accepts nesting up to the limit`, () => {
    const depth = maxNestingDepth - 1;
    const parsed = parseDocuments("ok.yaml", "[".repeat(depth) + "]".repeat(depth));
    expect(parsed.errors).toEqual([]);
    expect(parsed.documents).toHaveLength(1);
  });

  it("points a nesting error at the first node that is too deep", () => {
    const parsed = parseDocuments("deep.yaml", "a: " + "[".repeat(100) + "]".repeat(100));
    expect(brief(parsed.errors)).toEqual([`1:${4 + maxNestingDepth} NestingTooDeep`]);
  });

  it.each([
    ["an empty string", ""],
    ["only comments", "# nothing\n# here\n"],
    ["only white space", "  \n\n\t\n"],
  ])("reports %s as a file without documents", (_kind, text) => {
    const parsed = parseDocuments("empty.yaml", text);
    expect(parsed.documents).toEqual([]);
    expect(parsed.errors).toMatchObject([{ line: 1, column: 1, code: "EmptyFile" }]);
  });

  it.each([
    ["tabs as indentation", "a:\n\tb: 1\n", "2:1"],
    ["an unknown tag", "a: !custom x\n", "1:4"],
    ["an unterminated string (reported where the quote is missing: the end)", 'a: "open\nb: 1\n', "3:1"],
    ["a stray closing brace", "a: 1\n}\n", "2:1"],
    ["a mapping nested in a compact mapping", "a: b: c\n", "1:4"],
  ])("reports %s as a YAML syntax error", (_kind, text, at) => {
    const parsed = parseDocuments("bad.yaml", text);
    expect(parsed.documents).toEqual([]);
    expect(parsed.errors.length).toBeGreaterThan(0);
    expect(parsed.errors.every((error) => error.code === "YamlSyntax" && error.message !== "")).toBe(true);
    expect(brief(parsed.errors)[0]).toBe(`${at} YamlSyntax`);
  });

  it("survives a file of unbalanced quotes, reporting errors instead of throwing", () => {
    const parsed = parseDocuments("quotes.yaml", '"'.repeat(10_001));
    expect(parsed.documents).toEqual([]);
    expect(parsed.errors.length).toBeGreaterThan(0);
    expect(parsed.errors.every((error) => error.code === "YamlSyntax")).toBe(true);
  });
});
