// Debian's Chromium, driven by playwright-core, for the browser tests, the page benchmark and the README's
// screenshot. Nothing is downloaded: playwright-core brings no browser, and this machine could not fetch one.
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";

export const chromiumPath = "/usr/bin/chromium";

/**
 * Flags for a headless Chromium on a machine with no network but loopback: without the background-networking
 * ones, it keeps trying to reach Google's hosts. Playwright gives every launch a new, empty profile directory.
 */
const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Launches Chromium, or fails saying how to install it (never skips: a missing browser is a broken setup). */
export async function launchChromium() {
  if (!existsSync(chromiumPath))
    throw new Error(
      `Chromium is not installed at ${chromiumPath}; the browser tests need it. Install it with: apt-get install -y chromium (.ci/run does this when it is missing)`,
    );
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
}
