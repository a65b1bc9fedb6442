import type { Browser } from "playwright-core";

export const chromiumPath: string;

/** Launches Debian's Chromium headless; throws, saying how to install it, when it is missing. */
export function launchChromium(): Promise<Browser>;
