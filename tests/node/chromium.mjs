// What the browser scripts share: their report, one JSON line per step
// (`{"step": name, ..}`), and a headless Chromium that ends the run on its own.
import { chromium } from "playwright-core";

export const step = (name, detail = {}) => console.log(JSON.stringify({ step: name, ...detail }));

// Debian's Chromium (or $CHROMIUM). It ends the run at 60 s, well before the test's own
// limit (90 s), closing itself: a test that kills node on its limit would leave
// Chromium running.
export async function launch() {
  const browser = await chromium.launch({
    timeout: 30_000,
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const deadline = setTimeout(async () => {
    step("failed", { error: "deadline: the run took over 60 s" });
    await browser.close().catch(() => {});
    process.exit(1);
  }, 60_000);
  browser.on("disconnected", () => clearTimeout(deadline));
  return browser;
}
