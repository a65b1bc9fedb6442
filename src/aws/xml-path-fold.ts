import { Readable } from "node:stream";
import { SaxesParser } from "saxes";

/**
 * A streaming fold of an AWS XML response body: each chunk is parsed as it arrives and a subclass keeps only
 * the fields it needs, matched by their whole element path (AWS reuses `member`, `item`, `Path` and `Arn` at
 * several depths, so a name alone says nothing). The SDK would first buffer the body, turn it into one string,
 * parse that into a tree of every field and then map the tree into its output shapes: for a page of a few MB
 * that costs tens of MB at once.
 *
 * The text a subclass is given is cut from the chunk; one it keeps must go through `ownCopy`, or a kept slice
 * would keep the whole chunk alive.
 */
export abstract class XmlPathFold<Result> {
  private readonly parser = new SaxesParser();
  private readonly path: string[] = [];
  private text = "";
  private root: string | undefined;

  protected constructor(
    private readonly operation: string,
    private readonly expectedRoot: string,
  ) {
    this.parser.on("opentag", (tag) => {
      this.root ??= tag.name;
      this.path.push(tag.name);
      this.text = "";
      this.opened(this.path.join("/"));
    });
    this.parser.on("text", (text) => {
      this.text += text;
    });
    this.parser.on("closetag", () => {
      this.closed(this.path.join("/"), this.text);
      this.path.pop();
      this.text = "";
    });
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

  /** An element opened at this path (names joined by `/`, from the root). */
  protected abstract opened(path: string): void;
  /** An element closed at this path; `text` is its text when it holds no elements. */
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
  const add = command.middlewareStack.add as AddMiddleware;
  add.call(
    command.middlewareStack,
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
  const decoder = new TextDecoder();
  for await (const chunk of body as AsyncIterable<Uint8Array>)
    fold.write(decoder.decode(chunk, { stream: true }));
  fold.write(decoder.decode());
  return fold.close();
}
