// Two people chat in headless Chromium: `node browser.mjs http://127.0.0.1:PORT`.
// Prints one JSON line per step; exits non-zero when a step fails.
import { launch, step } from "./chromium.mjs";

const base = process.argv[2];
const browser = await launch();
const timeout = 10_000;
try {
  const open = async (name) => {
    const page = await browser.newPage();
    page.setDefaultTimeout(timeout);
    page.on("pageerror", (e) => step("pageerror", { name, error: String(e) }));
    await page.goto(`${base}/chat`);
    await page.fill("#name", name);
    await page.click("#join button");
    await page.waitForSelector("#join", { state: "hidden" });
    return page;
  };
  const present = (page) => page.$$eval("#present li", (lis) => lis.map((li) => li.textContent));
  const waitPresent = (page, names) =>
    page.waitForFunction(
      (want) => JSON.stringify([...document.querySelectorAll("#present li")].map((li) => li.textContent)) === want,
      JSON.stringify(names),
    );

  const ann = await open("ann");
  const bob = await open("bob");
  // Each page shows the list once the broadcast reaches it: wait for both.
  await waitPresent(ann, ["ann", "bob"]);
  await waitPresent(bob, ["ann", "bob"]);
  step("present", { ann: await present(ann), bob: await present(bob) });

  await ann.fill("#text", "hello bob");
  await bob.waitForFunction(() => document.querySelector("#typing").textContent.includes("ann is typing"));
  step("typing", { bob: await bob.textContent("#typing") });
  await ann.press("#text", "Enter");
  await bob.waitForFunction(() => [...document.querySelectorAll("#messages li")].some((li) => li.textContent === "annhello bob"));
  const seen = await bob.$$eval("#messages li", (lis) => lis.map((li) => li.textContent));
  step("message", { bob: seen });

  await ann.fill("#text", "free spam");
  await ann.press("#text", "Enter");
  await ann.waitForFunction(() => [...document.querySelectorAll("#messages .notice")].length > 0);
  step("rejected", { ann: await ann.textContent("#messages .notice") });

  await bob.close();
  await waitPresent(ann, ["ann"]);
  step("left", { ann: await present(ann) });
  await ann.screenshot({ path: process.env.SCREENSHOT ?? "/dev/null" }).catch(() => {});
  step("done");
} catch (e) {
  step("failed", { error: String(e) });
  process.exitCode = 1;
} finally {
  await browser.close();
}
