import { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { SaxesParser } from "saxes";

/** The SDK's output shapes are read-only; a fold fills them in as their elements close. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** An XML boolean as the SDK reads it: anything but `true` or `false` is a malformed answer from `operation`. */
export function xmlBoolean(operation: string, text: string): boolean {
  if (text === "true") return true;
  if (text === "false") return false;
  throw new Error(`${operation} answered ${JSON.stringify(text)} for a boolean`);
}

/** One element path of interest, or a step towards one. */
interface PathNode {
  readonly children: Map<string, PathNode>;
  /** The path as the subclass declared it, when it did: only declared paths are reported. */
  path?: string;
}

function pathTree(paths: readonly string[]): PathNode {
  const root: PathNode = { children: new Map() };
  for (const path of paths) {
    let node = root;
    for (const name of path.split("/")) {
      let child = node.children.get(name);
      if (child === undefined) node.children.set(name, (child = { children: new Map() }));
      node = child;
    }
    node.path = path;
  }
  return root;
}

/**
 * A streaming fold of an AWS XML response body: each chunk is parsed as it arrives and a subclass keeps only
 * the fields it needs, matched by their whole element path (AWS reuses `member`, `item`, `Path` and `Arn` at
 * several depths, so a name alone says nothing). The SDK would first buffer the body, turn it into one string,
 * parse that into a tree of every field and then map the tree into its output shapes: for a page of a few MB
 * that costs tens of MB at once.
 *
 * Elements are matched by walking a tree of the declared paths, so an element outside them costs a counter and
 * no string: building each element's path string was most of what a fold allocated. The text a subclass is given
 * is cut from the chunk; one it keeps must go through `ownCopy`, or a kept slice would keep the chunk alive.
 */
export abstract class XmlPathFold<Result> {
  private readonly parser = new SaxesParser();
  private readonly open: PathNode[];
  /** Elements open inside one that no declared path goes through. */
  private unmatched = 0;
  private text = "";
  private root: string | undefined;

  protected constructor(
    private readonly operation: string,
    private readonly expectedRoot: string,
    paths: readonly string[],
  ) {
    this.open = [pathTree(paths)];
    this.parser.on("opentag", (tag) => {
      this.opening(tag.name);
    });
    this.parser.on("text", (text) => {
      if (this.unmatched === 0) this.text += text;
    });
    this.parser.on("closetag", () => {
      this.closing();
    });
  }

  private opening(name: string): void {
    this.root ??= name;
    this.text = "";
    const child = this.unmatched === 0 ? this.open.at(-1)?.children.get(name) : undefined;
    if (child === undefined) {
      this.unmatched += 1;
      return;
    }
    this.open.push(child);
    if (child.path !== undefined) this.opened(child.path);
  }

  private closing(): void {
    if (this.unmatched > 0) this.unmatched -= 1;
    else {
      const node = this.open.pop();
      if (node?.path !== undefined) this.closed(node.path, this.text);
    }
    this.text = "";
  }

  write(chunk: string): void {
    this.parser.write(chunk);
  }

  /**
   * The result, or an error when the body was not the document expected: a body of another shape read as an
   * empty page would hide every resource from the pass, so it fails the read as a malformed response does.
   */
  close(): Result {
    this.parser.close();
    if (this.root !== this.expectedRoot)
      throw new Error(
        `${this.operation} answered with a <${this.root ?? "nothing"}> document, not a <${this.expectedRoot}>`,
      );
    return this.result();
  }

  /** An element opened at one of the declared paths (names joined by `/`, from the root), as declared. */
  protected abstract opened(path: string): void;
  /** An element closed at one of the declared paths; `text` is its text when it holds no elements. */
  protected abstract closed(path: string, text: string): void;
  protected abstract result(): Result;
}

interface RawResponse {
  readonly statusCode?: number;
  body?: unknown;
}

type Middleware = (
  next: (args: unknown) => Promise<{ response: unknown }>,
) => (args: unknown) => Promise<unknown>;
type AddMiddleware = (
  middleware: Middleware,
  options: { step: "deserialize"; priority: "low"; name: string },
) => void;

/** Any SDK command: its stack's `add` is overloaded per step and typed per command, which this fold ignores. */
interface Command {
  readonly middlewareStack: { add(...args: never[]): void };
}

/**
 * Folds this command's successful response as it streams in, and leaves the SDK `emptyBody`, a valid empty
 * answer, to deserialize; errors go to the SDK untouched, so their codes are classified as for every other call.
 * `result()` is undefined when no response was folded: a test double or the simulator answered without HTTP,
 * with the SDK's shapes.
 */
export function foldResponse<Result>(
  command: Command,
  name: string,
  startFold: () => XmlPathFold<Result>,
  emptyBody: string,
): { result(): Result | undefined } {
  let folded: Result | undefined;
  const stack = command.middlewareStack as unknown as { add: AddMiddleware };
  stack.add(
    (next) => async (args) => {
      const result = await next(args);
      const response = result.response as RawResponse;
      const status = response.statusCode ?? 0;
      if (status < 200 || status >= 300 || !(response.body instanceof Readable)) return result;
      folded = await foldBody(response.body, startFold());
      response.body = Readable.from([Buffer.from(emptyBody)]);
      return result;
    },
    // "low" within the deserialize step: between the HTTP handler and the SDK's deserializer.
    { step: "deserialize", priority: "low", name },
  );
  return { result: () => folded };
}

async function foldBody<Result>(body: Readable, fold: XmlPathFold<Result>): Promise<Result> {
  // Not TextDecoder: decoding a stream, Node 20's goes through ICU with a UTF-16 copy of each 64 KiB chunk outside
  // the heap, allocations large enough to stay in malloc's heap after they are freed.
  const decoder = new StringDecoder("utf8");
  for await (const chunk of body as AsyncIterable<Uint8Array>) fold.write(decoder.write(chunk));
  fold.write(decoder.end());
  return fold.close();
}
