import { styleText } from "node:util";

/** Colours of the text report; each is the identity when colour is off. */
export interface TextStyle {
  readonly added: (text: string) => string;
  readonly removed: (text: string) => string;
  readonly changed: (text: string) => string;
  readonly heading: (text: string) => string;
  readonly quiet: (text: string) => string;
}

const none = (text: string) => text;
export const noStyle: TextStyle = { added: none, removed: none, changed: none, heading: none, quiet: none };

/**
 * Colour only for a terminal: never in a pipe, a file or a CI log captured to a file, and never when NO_COLOR is
 * set to anything non-empty (no-color.org) or TERM is "dumb". FORCE_COLOR is not honoured: output meant to be
 * kept (a PR comment) has --output markdown.
 */
export function wantsColour(stream: { readonly isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (stream.isTTY !== true) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return env.TERM !== "dumb";
}

export function textStyle(colour: boolean): TextStyle {
  if (!colour) return noStyle;
  // Node's own styleText (no dependency). Colour is decided above, for the stream the report goes to, so its own
  // check of process.stdout is not asked for.
  const paint = (format: Parameters<typeof styleText>[0]) => (text: string) =>
    styleText(format, text, { validateStream: false });
  return {
    added: paint("green"),
    removed: paint("red"),
    changed: paint("yellow"),
    heading: paint("bold"),
    quiet: paint("dim"),
  };
}
