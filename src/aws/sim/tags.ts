import type { Tag } from "@aws-sdk/client-iam";
import { iamError } from "./errors.js";

/** IAM allows 50 tags per resource. */
export const maxTagsPerResource = 50;

const keyPattern = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const valuePattern = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;

/**
 * An IAM resource's tags: keys are case-insensitive (a key that differs only in case replaces the old one, as IAM
 * does for roles and users), insertion order is kept.
 */
export class TagSet {
  private readonly entries = new Map<string, { key: string; value: string }>();

  constructor(initial?: readonly Tag[]) {
    if (initial !== undefined) this.apply(initial);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Adds or overwrites tags, all or none: validates the request and the resulting count first. */
  apply(tags: readonly Tag[] | undefined): void {
    const valid = validTags(tags);
    const added = valid.filter((tag) => !this.entries.has(tag.key.toLowerCase())).length;
    if (this.entries.size + added > maxTagsPerResource) {
      throw iamError(
        "LimitExceeded",
        `The number of tags has reached the maximum limit of ${maxTagsPerResource}.`,
      );
    }
    for (const tag of valid) {
      this.entries.delete(tag.key.toLowerCase());
      this.entries.set(tag.key.toLowerCase(), tag);
    }
  }

  /** Removes keys, case-insensitively; absent keys are ignored, as IAM does. */
  remove(keys: readonly string[] | undefined): void {
    if (keys === undefined)
      throw iamError(
        "ValidationError",
        "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null",
      );
    for (const key of keys) this.entries.delete(key.toLowerCase());
  }

  list(): Tag[] {
    return [...this.entries.values()].map(({ key, value }) => ({ Key: key, Value: value }));
  }
}

function validTags(tags: readonly Tag[] | undefined): { key: string; value: string }[] {
  if (tags === undefined) return [];
  const seen = new Set<string>();
  const result: { key: string; value: string }[] = [];
  for (const tag of tags) {
    const key = tag.Key;
    const value = tag.Value;
    if (key === undefined || value === undefined || !keyPattern.test(key) || !valuePattern.test(value)) {
      throw iamError(
        "ValidationError",
        `1 validation error detected: Value '${String(key)}' at 'tags' failed to satisfy constraint: Member must satisfy the tag pattern`,
      );
    }
    if (key.toLowerCase().startsWith("aws:")) {
      throw iamError("InvalidInput", "Tag keys starting with 'aws:' are reserved for internal AWS use.");
    }
    if (seen.has(key.toLowerCase())) {
      throw iamError(
        "InvalidInput",
        "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
      );
    }
    seen.add(key.toLowerCase());
    result.push({ key, value });
  }
  if (result.length > maxTagsPerResource) {
    throw iamError(
      "LimitExceeded",
      `The number of tags has reached the maximum limit of ${maxTagsPerResource}.`,
    );
  }
  return result;
}
