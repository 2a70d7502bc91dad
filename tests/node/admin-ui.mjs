// The official Socket.IO Admin UI (served by the chat example at /admin/) operates a
// Specter app in headless Chromium:
//   node admin-ui.mjs UI_URL PASSWORD CLIENT_URL [CLIENT_URL ...]
// Clients ann and bob connect (ann to the first client URL, bob to the last), the UI
// logs in at UI_URL as `admin`, lists the servers (one per client URL) and the
// sockets, cid connects while it watches (to the last URL), the UI makes ann join a
// room, ann sends a message that the event log shows, and the UI disconnects bob. It
// goes from page to page by the menu, as a person does. Prints one JSON line per step;
// exits non-zero when a step fails.
import { launch, step } from "./chromium.mjs";
import { io } from "socket.io-client";

const [ui, password, ...clientUrls] = process.argv.slice(2);
const timeout = 15_000;
// The first cells of a table's rows, but its "No data available" row.
const ROWS = "table tbody tr:not(.v-data-table__empty-wrapper) td:first-child";

const clients = [];
const connect = (url, name) =>
  new Promise((resolve, reject) => {
    const socket = io(url, { auth: { name }, transports: ["websocket"], reconnection: false, forceNew: true });
    clients.push(socket);
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (e) => reject(new Error(`${name}: ${e.message}`)));
  });
const disconnected = (socket) => new Promise((resolve) => socket.once("disconnect", resolve));

const browser = await launch();
try {
  const ann = await connect(clientUrls[0], "ann");
  const bob = await connect(clientUrls.at(-1), "bob");
  step("clients", { ann: ann.id, bob: bob.id });

  // Wide enough for the menu to stay open beside the page, as on a desktop.
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(timeout);
  page.on("pageerror", (e) => step("pageerror", { error: String(e) }));
  // The page asks for a web font and an icon font from CDNs: no internet here.
  await page.route(/fonts\.googleapis\.com|cdn\.jsdelivr\.net/, (route) => route.abort());
  await page.goto(`${ui}/admin/`);
  await page.getByLabel("Server URL").fill(ui);
  await page.getByLabel("Username").fill("admin");
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Connect" }).click();
  await page.getByRole("button", { name: "Connect" }).waitFor({ state: "hidden" });
  step("logged in");

  // A table's rows, by their first cell (a socket's id, a server's id), sorted.
  const listed = () => page.$$eval(ROWS, (cells) => cells.map((c) => c.textContent.trim()).sort());
  const waitListed = (want) =>
    page.waitForFunction(
      ({ rows, want }) => JSON.stringify([...document.querySelectorAll(rows)].map((c) => c.textContent.trim()).sort()) === want,
      { rows: ROWS, want: JSON.stringify([...want].sort()) },
    );

  // A page of the menu, opened as a person does.
  const menu = async (name, path) => {
    await page.locator("nav").getByText(name, { exact: true }).click();
    // The menu changes the page's hash: a navigation without a load event.
    await page.waitForFunction((path) => location.hash.startsWith(`#/${path}`), path);
  };
  step("menu", { entries: await page.locator("nav .v-list-item__title").allTextContents() });

  // The servers page: one row per node, from each node's `server_stats`.
  const nodes = new Set(clientUrls).size;
  await menu("Servers", "servers");
  await page.waitForFunction(({ rows, n }) => document.querySelectorAll(rows).length === n, { rows: ROWS, n: nodes });
  step("servers", { ids: await listed() });

  await menu("Sockets", "sockets");
  await waitListed([ann.id, bob.id]);
  step("listed", { ids: await listed() });

  const cid = await connect(clientUrls.at(-1), "cid");
  await waitListed([ann.id, bob.id, cid.id]);
  step("live", { cid: cid.id, ids: await listed() });

  // A socket's page, opened from the list as a user does.
  const details = async (id) => {
    await menu("Sockets", "sockets");
    // Pages left stay in the document, hidden: click the one shown.
    await page.getByText(id, { exact: true }).filter({ visible: true }).first().click();
    await page.waitForURL(`**/sockets/${id}`);
    await page.getByText(id, { exact: true }).first().waitFor();
  };

  // Ann's page: join her to a room from the UI; its rooms table shows it once the
  // server says she joined.
  await details(ann.id);
  await page.getByLabel("Join a room").fill("vip");
  await page.locator("button:has(.mdi-tag-plus-outline)").click();
  await page.locator("td", { hasText: "vip" }).first().waitFor();
  step("joined", { rooms: await page.$$eval("td", (cells) => cells.map((c) => c.textContent.trim()).filter((t) => t === "vip")) });

  // The rooms and the clients, each by the menu.
  await menu("Rooms", "rooms");
  await page.locator("td", { hasText: "vip" }).first().waitFor();
  step("rooms", { cells: await page.$$eval("td", (cells) => cells.map((c) => c.textContent.trim())) });
  await menu("Clients", "clients");
  await page.getByText(ann.id, { exact: true }).first().waitFor();
  step("clients page", { cells: await page.$$eval("td", (cells) => cells.map((c) => c.textContent.trim())) });

  // The event log: a message ann sends, as it arrives.
  ann.emit("message", { text: "hello from ann" });
  await menu("Events", "events");
  await page.locator("td", { hasText: "Event name: message" }).first().waitFor();
  step("events", { cells: await page.$$eval("td", (cells) => cells.map((c) => c.textContent.trim())) });

  // Bob's page: the socket's disconnect button (the second; the first is the client's).
  await details(bob.id);
  const reason = disconnected(bob);
  await page.locator("button:has(.mdi-logout)").nth(1).click();
  step("disconnected", { reason: await reason });
  await menu("Sockets", "sockets");
  await waitListed([ann.id, cid.id]);
  step("gone", { ids: await listed() });
  step("done");
} catch (e) {
  step("failed", { error: String(e) });
  process.exitCode = 1;
} finally {
  for (const c of clients) c.close();
  await browser.close();
}
