import { Readable } from "node:stream";
import type { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { SaxesParser } from "saxes";
import { ownCopy } from "../util/own-copy.js";

/** What a pass keeps of one instance in a DescribeInstances page: nothing else is read from it. */
export interface InstanceEntry {
  readonly id: string;
  readonly state: string;
  readonly tags: Record<string, string>;
}

/** One DescribeInstances page, folded down to what the snapshot needs. */
export interface InstancesPageEntries {
  readonly instances: InstanceEntry[];
  /** The owner of the first reservation (the account ID), undefined when the page has none. */
  readonly accountId: string | undefined;
  readonly nextToken: string | undefined;
}

// Element paths in EC2's DescribeInstances response. An instance holds other `item`s (network interfaces, block
// devices, groups) and other `name`s, so fields are matched by their whole path, never by their name alone.
const reservation = "DescribeInstancesResponse/reservationSet/item";
const instance = `${reservation}/instancesSet/item`;
const paths = {
  ownerId: `${reservation}/ownerId`,
  instance,
  instanceId: `${instance}/instanceId`,
  stateName: `${instance}/instanceState/name`,
  tagKey: `${instance}/tagSet/item/key`,
  tagValue: `${instance}/tagSet/item/value`,
  tag: `${instance}/tagSet/item`,
  nextToken: "DescribeInstancesResponse/nextToken",
} as const;

/**
 * A streaming fold of a DescribeInstances response body into its entries. The SDK would first buffer the body,
 * turn it into one string, parse that into a tree of every field of every instance and then map the tree into
 * its output shapes: at 1,000 instances a page of about 7 MB of XML costs tens of MB at once. Here each chunk is
 * parsed as it arrives and only ID, state and tags are kept.
 */
export class InstancesPageFold {
  private readonly parser = new SaxesParser();
  private readonly path: string[] = [];
  private text = "";
  private readonly instances: InstanceEntry[] = [];
  private accountId: string | undefined;
  private nextToken: string | undefined;
  private current: { id: string; state: string; tags: Record<string, string> } | undefined;
  private tagKey = "";
  private root: string | undefined;
  private unnamed = 0;

  constructor() {
    this.parser.on("opentag", (tag) => {
      this.root ??= tag.name;
      this.path.push(tag.name);
      this.text = "";
      if (this.path.join("/") === paths.instance) this.current = { id: "", state: "unknown", tags: {} };
    });
    this.parser.on("text", (text) => {
      this.text += text;
    });
    this.parser.on("closetag", () => {
      this.closeElement(this.path.join("/"));
      this.path.pop();
      this.text = "";
    });
  }

  write(chunk: string): void {
    this.parser.write(chunk);
  }

  /**
   * The page, or an error when the body was not one: a body of another shape read as an empty page would hide
   * every instance from the pass, so it fails the read as a malformed response does.
   */
  close(): InstancesPageEntries {
    this.parser.close();
    if (this.root !== "DescribeInstancesResponse")
      throw new Error(`DescribeInstances answered with a <${this.root ?? "nothing"}> document, not a page`);
    if (this.unnamed > 0)
      throw new Error(`DescribeInstances listed ${this.unnamed} instance(s) without an ID`);
    return { instances: this.instances, accountId: this.accountId, nextToken: this.nextToken };
  }

  // Every string kept is an own copy: the parser's text is cut from the chunk, which it would keep alive.
  private closeElement(path: string): void {
    const current = this.current;
    if (path === paths.ownerId) this.accountId ??= ownCopy(this.text);
    else if (path === paths.nextToken) this.nextToken = this.text === "" ? undefined : ownCopy(this.text);
    else if (current === undefined) return;
    else if (path === paths.instanceId) current.id = ownCopy(this.text);
    else if (path === paths.stateName) current.state = ownCopy(this.text);
    else if (path === paths.tagKey) {
      // A tag without a value element is a tag with an empty value, as the SDK reads it.
      this.tagKey = ownCopy(this.text);
      current.tags[this.tagKey] = "";
    } else if (path === paths.tagValue) current.tags[this.tagKey] = ownCopy(this.text);
    else if (path === paths.tag) this.tagKey = "";
    else if (path === paths.instance) {
      if (current.id !== "") this.instances.push(current);
      else this.unnamed += 1;
      this.current = undefined;
    }
  }
}

/** What the SDK's own deserializer is left with once the body has been folded: an empty, valid page. */
const foldedBody =
  '<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><reservationSet/></DescribeInstancesResponse>';

interface RawResponse {
  readonly statusCode?: number;
  body?: unknown;
}

/**
 * Folds this command's successful response as it streams in, and leaves the SDK an empty page to deserialize;
 * errors go to the SDK untouched, so their codes are classified as for every other call. `entries()` is undefined
 * when no response was folded: a test double or the simulator answered without HTTP, with the SDK's shapes.
 */
export function foldInstancesResponse(command: DescribeInstancesCommand): {
  entries(): InstancesPageEntries | undefined;
} {
  let folded: InstancesPageEntries | undefined;
  command.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const response = result.response as RawResponse;
      const status = response.statusCode ?? 0;
      if (status < 200 || status >= 300 || !(response.body instanceof Readable)) return result;
      folded = await foldBody(response.body);
      response.body = Readable.from([Buffer.from(foldedBody)]);
      return result;
    },
    // "low" within the deserialize step: between the HTTP handler and the SDK's deserializer.
    { step: "deserialize", priority: "low", name: "rolecallFoldInstances" },
  );
  return { entries: () => folded };
}

async function foldBody(body: Readable): Promise<InstancesPageEntries> {
  const fold = new InstancesPageFold();
  const decoder = new TextDecoder();
  for await (const chunk of body as AsyncIterable<Uint8Array>)
    fold.write(decoder.decode(chunk, { stream: true }));
  fold.write(decoder.decode());
  return fold.close();
}
