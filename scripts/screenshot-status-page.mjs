// The README's picture of the status page: the demo (manifests/ on the simulated cloud) in Debian's Chromium,
// after a drift made "by hand" has been repaired, so that a history shows it.
// Usage: npm run screenshot:status-page  → docs/status-page.png
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { launchChromium } from "./chromium.mjs";
import { startSimDaemon, waitUntil } from "./sim-daemon.mjs";

const output = fileURLToPath(new URL("../docs/status-page.png", import.meta.url));
const daemon = await startSimDaemon({
  manifests: "manifests",
  args: ["--resync", "2s", "--sim-drift-every", "3s"],
});
const browser = await launchChromium();
try {
  await waitUntil(
    "a repair in some manifest's history",
    async () => {
      const status = await (await fetch(`${daemon.url}/status`)).json();
      return status.manifests.some((manifest) => manifest.mode === "enforce" && manifest.history.length > 1);
    },
    30_000,
  );
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  await page.goto(`${daemon.url}/status`);
  // Open one repaired manifest's history, as a reader would.
  const repaired = page.locator(".card:not(.bad) details.history", { hasText: "History (2" });
  if ((await repaired.count()) > 0) await repaired.first().locator("summary").click();
  mkdirSync(fileURLToPath(new URL("../docs/", import.meta.url)), { recursive: true });
  await page.screenshot({ path: output, fullPage: true });
  console.log(`wrote ${output}`);
} finally {
  await browser.close();
  await daemon.stop();
}
