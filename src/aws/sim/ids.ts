/**
 * Deterministic identifiers: a counter run through a 64-bit bijection (the SplitMix64 finaliser), so IDs look
 * like AWS's random ones, never repeat, and are the same on every run of the same sequence of calls.
 */
const mask64 = (1n << 64n) - 1n;

function scramble(counter: number): bigint {
  let x = BigInt(counter) & mask64;
  x = ((x ^ (x >> 30n)) * 0xbf58476d1ce4e5b9n) & mask64;
  x = ((x ^ (x >> 27n)) * 0x94d049bb133111ebn) & mask64;
  return x ^ (x >> 31n);
}

export type IamIdPrefix = "ANPA" | "AROA" | "AIPA";

export class IdFactory {
  private counter = 0;

  /** "i-" + 17 lowercase hex digits (a leading 0 then 16, like current EC2 IDs), "r-…", "iip-assoc-…". */
  hex17(prefix: string): string {
    this.counter += 1;
    return `${prefix}0${scramble(this.counter).toString(16).padStart(16, "0")}`;
  }

  /** IAM unique IDs: a four-letter type prefix and 17 upper-case alphanumerics. */
  iam(prefix: IamIdPrefix): string {
    this.counter += 1;
    const unique = scramble(this.counter).toString(36).toUpperCase().padStart(13, "0");
    const filler = scramble(this.counter + 0x5eed)
      .toString(36)
      .toUpperCase()
      .padStart(4, "0")
      .slice(-4);
    return `${prefix}${filler}${unique}`;
  }
}
