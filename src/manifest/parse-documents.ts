import {
  Composer,
  LineCounter,
  Parser,
  isAlias,
  isMap,
  isNode,
  isScalar,
  isSeq,
  type CST,
  type Document,
  type Node,
  type Pair,
  type YAMLMap,
} from "yaml";
import type { ManifestError } from "./manifest-error.js";

/** Deeper than any manifest needs; a guard against nesting bombs that would exhaust the stack or take seconds to compose. */
export const maxNestingDepth = 64;
/** More documents than any directory layout needs in one file; a guard against `---` floods. */
export const maxDocumentsPerFile = 500;
/** Aliases expanded per document; YAML alias bombs grow exponentially, manifests need none. */
export const maxAliasCount = 100;

export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** One YAML document of a file, as plain data, with a way back to source positions. */
export interface SourceDocument {
  readonly file: string;
  /** 0-based index of the document within its file. */
  readonly index: number;
  readonly value: unknown;
  /** The document had YAML problems (reported already) but could still be read, so it is checked for more. */
  readonly damaged: boolean;
  readonly start: SourcePosition;
  /** Source position of the node a JSON pointer names; `key` prefers the mapping key over its value. */
  readonly locate: (pointer: readonly string[], prefer?: "key" | "value") => SourcePosition;
}

export interface ParsedFile {
  readonly documents: SourceDocument[];
  readonly errors: ManifestError[];
}

/** Parses every YAML (or JSON) document in a file; a broken document does not hide the valid ones beside it. */
export function parseDocuments(file: string, text: string): ParsedFile {
  const lineCounter = new LineCounter();
  const source = fileSource(file, lineCounter);
  const tokens = Array.from(new Parser(lineCounter.addNewLine).parse(text));
  const refusal = tokenLimitError(tokens, source);
  if (refusal !== undefined) return { documents: [], errors: [refusal] };

  const documents: SourceDocument[] = [];
  const errors: ManifestError[] = [];
  // The library's own duplicate-key check compares each key with every earlier one: quadratic, so a 1 MiB mapping
  // of distinct keys takes minutes. duplicateKeyOffsets() does the same check in linear time.
  const composer = new Composer({ prettyErrors: false, uniqueKeys: false, version: "1.2" });
  let index = -1;
  for (const doc of composer.compose(tokens, true, text.length)) {
    index += 1;
    const reading = readDocument(doc, index, source);
    errors.push(...reading.errors);
    if (reading.document !== undefined) documents.push(reading.document);
  }
  if (documents.length === 0 && errors.length === 0) {
    errors.push(source.errorAt(0, "EmptyFile", "file holds no document; a manifest file holds at least one"));
  }
  return { documents, errors };
}

/** One file's text as the parser's offsets see it. */
interface FileSource {
  readonly file: string;
  readonly position: (offset: number) => SourcePosition;
  readonly errorAt: (offset: number, code: ManifestError["code"], message: string) => ManifestError;
}

function fileSource(file: string, lineCounter: LineCounter): FileSource {
  const position = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  return {
    file,
    position,
    errorAt: (offset, code, message) => ({ file, ...position(offset), message, pointer: "", code }),
  };
}

/** Checked on the parser's tokens: composing a `---` flood or a nesting bomb would itself take too long. */
function tokenLimitError(tokens: readonly CST.Token[], source: FileSource): ManifestError | undefined {
  const documentTokens = tokens.filter((token) => token.type === "document");
  if (documentTokens.length > maxDocumentsPerFile) {
    return source.errorAt(
      0,
      "TooManyDocuments",
      `file holds ${documentTokens.length} documents; at most ${maxDocumentsPerFile} are accepted per file`,
    );
  }
  for (const token of documentTokens) {
    const tooDeep = findTooDeep(token);
    if (tooDeep !== undefined) {
      return source.errorAt(
        tooDeep,
        "NestingTooDeep",
        `document is nested more than ${maxNestingDepth} levels deep`,
      );
    }
  }
  return undefined;
}

interface DocumentReading {
  readonly errors: ManifestError[];
  /** Absent when the document's problems leave nothing to check further. */
  readonly document?: SourceDocument;
}

function readDocument(doc: Document.Parsed, index: number, source: FileSource): DocumentReading {
  const problems = [...doc.errors, ...doc.warnings];
  const errors = problems.map((problem) =>
    source.errorAt(problem.pos[0], "YamlSyntax", yamlMessage(problem.message)),
  );
  const duplicates = duplicateKeyOffsets(doc.contents);
  for (const offset of duplicates) {
    errors.push(
      source.errorAt(offset, "DuplicateKey", "duplicate key: a key may appear only once in a mapping"),
    );
  }
  // Duplicate keys leave a readable document: check it further so the author sees every problem at once.
  if (problems.length > 0 || doc.contents === null) return { errors };
  const startOffset = doc.contents.range[0];
  const plain = plainValue(doc, startOffset, source);
  if ("error" in plain) return { errors: [...errors, plain.error] };
  return {
    errors,
    document: {
      file: source.file,
      index,
      value: plain.value,
      damaged: duplicates.length > 0,
      start: source.position(startOffset),
      locate: locator(doc, source.position),
    },
  };
}

/** The document as plain data, unless its aliases are broken or would expand without bound. */
function plainValue(
  doc: Document.Parsed,
  startOffset: number,
  source: FileSource,
): { readonly value: unknown } | { readonly error: ManifestError } {
  const aliasBomb = (): ManifestError =>
    source.errorAt(
      startOffset,
      "AliasLimit",
      `document expands more than ${maxAliasCount} aliases (a YAML alias bomb?); manifests need no aliases`,
    );
  // Counted before toJS: it resolves each alias by scanning the whole document, so thousands of aliases (each
  // within the library's expansion limit) would take quadratic time.
  const aliases = aliasesOf(doc.contents);
  if (aliases.count > maxAliasCount) return { error: aliasBomb() };
  if (aliases.unresolved !== undefined) {
    const { source: name, offset } = aliases.unresolved;
    return {
      error: source.errorAt(
        offset,
        "YamlSyntax",
        `alias *${name} refers to no anchor &${name} defined before it`,
      ),
    };
  }
  try {
    return { value: doc.toJS({ maxAliasCount }) as unknown };
  } catch {
    return { error: aliasBomb() }; // few aliases, but expanding to too many nodes: the billion laughs
  }
}

function yamlMessage(message: string): string {
  // The library appends its own " at line L, column C" even without pretty errors; ours is in front already.
  return message.replace(/ at line \d+, column \d+:?[\s\S]*$/, "").trim();
}

/**
 * Offsets of keys that repeat an earlier key of the same mapping. Keys compare as the property names they become
 * (so `1` and `"1"` clash, as they would in the parsed object); a Set per mapping keeps this linear.
 */
function duplicateKeyOffsets(root: unknown): number[] {
  const offsets: number[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (isScalar(pair.key)) {
          const key = String(pair.key.value);
          if (seen.has(key)) offsets.push(pair.key.range?.[0] ?? 0);
          seen.add(key);
        }
        stack.push(pair.key, pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(item);
    }
  }
  return offsets.sort((a, b) => a - b);
}

/** How many aliases a document holds, and the first (in source order) with no anchor of its name before it. */
function aliasesOf(root: unknown): {
  count: number;
  unresolved: { source: string; offset: number } | undefined;
} {
  const firstAnchor = new Map<string, number>();
  const aliases: { source: string; offset: number }[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isAlias(node)) {
      aliases.push({ source: node.source, offset: node.range?.[0] ?? 0 });
    } else if (isNode(node) && node.anchor !== undefined) {
      const offset = node.range?.[0] ?? 0;
      firstAnchor.set(node.anchor, Math.min(offset, firstAnchor.get(node.anchor) ?? offset));
    }
    if (isMap(node)) {
      for (const pair of node.items) stack.push(pair.key, pair.value);
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(item);
    }
  }
  const unresolved = aliases
    .sort((a, b) => a.offset - b.offset)
    .find((alias) => !((firstAnchor.get(alias.source) ?? Infinity) < alias.offset));
  return { count: aliases.length, unresolved };
}

/** Offset of the first collection nested deeper than allowed, found without recursion so a bomb cannot overflow the stack. */
function findTooDeep(root: CST.Token): number | undefined {
  const stack: { token: CST.Token | undefined; depth: number }[] = [{ token: root, depth: 0 }];
  while (stack.length > 0) {
    const { token, depth } = stack.pop() ?? { token: undefined, depth: 0 };
    if (token === undefined) continue;
    if (depth > maxNestingDepth) return token.offset;
    if (token.type === "document") {
      stack.push({ token: token.value, depth });
    } else if (token.type === "block-map" || token.type === "block-seq" || token.type === "flow-collection") {
      for (const item of token.items) {
        if ("key" in item) stack.push({ token: item.key ?? undefined, depth: depth + 1 });
        stack.push({ token: item.value, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

function locator(
  doc: Document.Parsed,
  position: (offset: number) => SourcePosition,
): SourceDocument["locate"] {
  // Keys of each mapping, indexed on first use: a document with thousands of errors must not rescan its mappings
  // for each one. The last pair of a key wins, as it does in the parsed value the errors are about.
  const indexes = new WeakMap<object, Map<string, Pair>>();
  const pairsOf = (map: YAMLMap): Map<string, Pair> => {
    let index = indexes.get(map);
    if (index === undefined) {
      index = new Map();
      for (const item of map.items) if (isScalar(item.key)) index.set(String(item.key.value), item);
      indexes.set(map, index);
    }
    return index;
  };
  return (pointer, prefer = "value") => {
    let node: unknown = doc.contents;
    let best: Node | null = doc.contents;
    let keyOfLast: Node | null = null;
    for (const segment of pointer) {
      keyOfLast = null;
      if (isMap(node)) {
        const pair = pairsOf(node).get(segment);
        if (pair === undefined) break;
        keyOfLast = isScalar(pair.key) ? pair.key : null;
        node = pair.value;
        best = (pair.value as Node | null) ?? keyOfLast ?? best;
      } else if (isSeq(node)) {
        const item: unknown = node.items[Number(segment)];
        if (item === undefined || item === null) break;
        node = item;
        best = item as Node;
      } else {
        break;
      }
    }
    const chosen = prefer === "key" && keyOfLast !== null ? keyOfLast : best;
    return position(chosen?.range?.[0] ?? 0);
  };
}
