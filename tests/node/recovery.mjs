// A receiver with Specter's recovery module behind the test's proxy, and a sender
// connected directly: the sender says COUNT messages, one every 10 ms, and the receiver
// reports each connect (recovered or not, its id) and, at the end, what it heard.
//
//   node recovery.mjs PROXY_URL DIRECT_URL TRANSPORT COUNT [chat]
// (`chat`: the chat example's events: ann (`ann-TRANSPORT`, so that runs over each
// transport may share a server) and bob join, bob sends `message`s; once ann is in, her
// auth names nobody, so that she gets back in only as the member her session carries.)
// Prints JSON lines: {"connect": {"recovered": .., "id": ..}}, {"sending": true},
// then {"done": {"heard": [..], "connects": [..]}}.

import { io } from "socket.io-client";
import { recover } from "../../client/specter-recovery.mjs";

const [proxyUrl, directUrl, transport, countArg, app] = process.argv.slice(2);
const chat = app === "chat";
const names = chat ? [`ann-${transport}`, "bob"] : ["rx", "tx"];
const count = Number(countArg);
const say = (line) => process.stdout.write(JSON.stringify(line) + "\n");
const options = {
  transports: [transport],
  reconnectionDelay: 100,
  reconnectionDelayMax: 300,
  randomizationFactor: 0,
  timeout: 2000,
};

const heard = [];
const connects = [];
const receiver = recover(io(proxyUrl, { ...options, auth: { name: names[0] } }));
if (chat) {
  receiver.on("message", (m, ...rest) => m.user === "bob" && heard.push(rest.length ? [m, ...rest] : Number(m.text)));
} else {
  receiver.on("said", (message, ...rest) => heard.push(rest.length ? [message, ...rest] : message.seq));
}
receiver.on("connect", () => {
  const connect = { recovered: receiver.recovered, id: receiver.id };
  connects.push(connect);
  if (chat && !receiver.recovered) receiver.emit("join", null, () => {});
  if (chat) receiver.auth = { name: "" };
  say({ connect });
});
receiver.on("connect_error", (e) => say({ connect_error: e.message }));

await new Promise((resolve) => receiver.once("connect", resolve));
const sender = io(directUrl, { ...options, transports: ["websocket"], auth: { name: names[1] } });
await new Promise((resolve) => sender.once("connect", resolve));
if (chat) await new Promise((resolve) => sender.emit("join", null, resolve));
say({ sending: true });
for (let seq = 0; seq < count; seq++) {
  if (chat) sender.emit("message", { text: String(seq) });
  else sender.emit("say", { seq });
  await new Promise((resolve) => setTimeout(resolve, 10));
}
// Everything said reaches the receiver, or 15 s pass.
const deadline = Date.now() + 15000;
while (heard.length < count && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 50));
}
await new Promise((resolve) => setTimeout(resolve, 300));
say({ done: { heard, connects } });
receiver.close();
sender.close();
process.exit(0);
