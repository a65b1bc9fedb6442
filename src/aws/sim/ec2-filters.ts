import type { Filter } from "@aws-sdk/client-ec2";
import { ec2Error } from "./errors.js";

/**
 * EC2 describe filters: filters are ANDed, the values of one filter ORed; values match case-sensitively with
 * the wildcards * and ? (\ escapes them). A filter with no values, as the SDK sends for `Values: []`, matches
 * every item that has the field at all — on EC2 an empty instance-id filter therefore matches every instance.
 */

/** The values an item has for a filter name, or undefined when the name is not a filter of this operation. */
export type FieldReader<T> = (name: string) => ((item: T) => readonly string[]) | undefined;

/** EC2 accepts at most 200 filter values per call. */
export const maxFilterValues = 200;

export function compileFilters<T>(
  filters: readonly Filter[] | undefined,
  fields: FieldReader<T>,
): (item: T) => boolean {
  const tests: ((item: T) => boolean)[] = [];
  let valueCount = 0;
  for (const filter of filters ?? []) {
    const name = filter.Name;
    const read = name === undefined ? undefined : fields(name);
    if (name === undefined || read === undefined)
      throw ec2Error("InvalidParameterValue", `The filter '${String(name ?? null)}' is invalid`);
    const values = filter.Values ?? [];
    valueCount += values.length;
    if (values.length === 0) {
      tests.push((item) => read(item).length > 0);
      continue;
    }
    const patterns = values.map(wildcard);
    tests.push((item) => read(item).some((actual) => patterns.some((pattern) => pattern.test(actual))));
  }
  if (valueCount > maxFilterValues) {
    throw ec2Error(
      "FilterLimitExceeded",
      `The maximum number of filter values specified on a single call is ${maxFilterValues}`,
    );
  }
  return (item) => tests.every((test) => test(item));
}

function wildcard(value: string): RegExp {
  let source = "";
  for (let index = 0; index < value.length; index += 1) {
    const char = value.charAt(index);
    if (char === "\\" && index + 1 < value.length) {
      index += 1;
      source += escapeRegExp(value.charAt(index));
    } else if (char === "*") source += "[\\s\\S]*";
    else if (char === "?") source += "[\\s\\S]";
    else source += escapeRegExp(char);
  }
  return new RegExp(`^${source}$`);
}

function escapeRegExp(char: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(char) ? `\\${char}` : char;
}
