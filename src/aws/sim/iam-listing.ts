import type { Tag } from "@aws-sdk/client-iam";
import { invalidMarker, maxItems } from "./iam-validation.js";
import { paginate, sequenceKey } from "./pagination.js";
import type { TagSet } from "./tags.js";

/** IAM list operations: MaxItems (default 100) and Marker in, IsTruncated and Marker out. */
export interface IamPage<T> {
  readonly items: T[];
  readonly IsTruncated: boolean;
  readonly Marker?: string;
}

export function iamPage<T>(
  sorted: readonly T[],
  keyOf: (item: T) => string,
  input: { MaxItems?: number | undefined; Marker?: string | undefined },
): IamPage<T> {
  const page = paginate(sorted, keyOf, maxItems(input.MaxItems), input.Marker, invalidMarker);
  return {
    items: page.items,
    IsTruncated: page.next !== undefined,
    ...(page.next === undefined ? {} : { Marker: page.next }),
  };
}

/** One page of a resource's tags, in the order they were added. */
export function tagPage(
  tags: TagSet,
  input: { MaxItems?: number | undefined; Marker?: string | undefined },
): { Tags: Tag[]; IsTruncated: boolean; Marker?: string } {
  const indexed = tags.list().map((tag, index) => ({ tag, key: sequenceKey(index) }));
  const { items, ...rest } = iamPage(indexed, (entry) => entry.key, input);
  return { Tags: items.map((entry) => entry.tag), ...rest };
}
