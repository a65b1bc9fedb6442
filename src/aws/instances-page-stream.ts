import type { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { ownCopy } from "../util/own-copy.js";
import { foldResponse, XmlPathFold } from "./xml-path-fold.js";

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
 * A DescribeInstances page folded as it streams in: at 1,000 instances a page is about 7 MB of XML, of which
 * only ID, state and tags are kept.
 */
export class InstancesPageFold extends XmlPathFold<InstancesPageEntries> {
  private readonly instances: InstanceEntry[] = [];
  private accountId: string | undefined;
  private nextToken: string | undefined;
  private current: { id: string; state: string; tags: Record<string, string> } | undefined;
  private tagKey = "";
  private unnamed = 0;

  constructor() {
    super("DescribeInstances", "DescribeInstancesResponse", Object.values(paths));
  }

  protected opened(path: string): void {
    if (path === paths.instance) this.current = { id: "", state: "unknown", tags: {} };
  }

  protected closed(path: string, text: string): void {
    const current = this.current;
    if (path === paths.ownerId) this.accountId ??= ownCopy(text);
    else if (path === paths.nextToken) this.nextToken = text === "" ? undefined : ownCopy(text);
    else if (current === undefined) return;
    else if (path === paths.instanceId) current.id = ownCopy(text);
    else if (path === paths.stateName) current.state = ownCopy(text);
    else if (path === paths.tagKey) {
      // A tag without a value element is a tag with an empty value, as the SDK reads it.
      this.tagKey = ownCopy(text);
      current.tags[this.tagKey] = "";
    } else if (path === paths.tagValue) current.tags[this.tagKey] = ownCopy(text);
    else if (path === paths.tag) this.tagKey = "";
    else if (path === paths.instance) {
      if (current.id !== "") this.instances.push(current);
      else this.unnamed += 1;
      this.current = undefined;
    }
  }

  /** An instance without an ID fails the read: reading the page without it would hide it from the pass. */
  protected result(): InstancesPageEntries {
    if (this.unnamed > 0)
      throw new Error(`DescribeInstances listed ${this.unnamed} instance(s) without an ID`);
    return { instances: this.instances, accountId: this.accountId, nextToken: this.nextToken };
  }
}

/** What the SDK's own deserializer is left with once the body has been folded: an empty, valid page. */
const foldedBody =
  '<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><reservationSet/></DescribeInstancesResponse>';

/** Folds this command's successful response as it streams in (see `foldResponse`). */
export function foldInstancesResponse(command: DescribeInstancesCommand): {
  entries(): InstancesPageEntries | undefined;
} {
  const folded = foldResponse(command, "rolecallFoldInstances", () => new InstancesPageFold(), foldedBody);
  return { entries: () => folded.result() };
}
