// node's socket.io 4.8 doing the broadcast benchmark's work: `node fanout.mjs`.
// Each `say` goes to every other socket as `said`. Listens on a free loopback port,
// prints `listening on http://ADDR`, and serves until its standard input closes.
// With REDIS_URL set, it is one node of several on `@socket.io/redis-adapter` (the
// cross-node benchmark).
import { createServer } from "node:http";
import { Server } from "socket.io";

const http = createServer();
const io = new Server(http, { transports: ["websocket", "polling"] });
if (process.env.REDIS_URL) {
  const { createClient } = await import("redis");
  const { createAdapter } = await import("@socket.io/redis-adapter");
  const pub = createClient({ url: process.env.REDIS_URL });
  const sub = pub.duplicate();
  // Errors while Redis is away are expected: the clients reconnect by themselves. The
  // adapter does not await its publishes: without this handler, their rejection
  // (ECONNRESET) when Redis goes away ends the process.
  pub.on("error", () => {});
  sub.on("error", () => {});
  process.on("unhandledRejection", () => {});
  await Promise.all([pub.connect(), sub.connect()]);
  io.adapter(createAdapter(pub, sub));
}
io.on("connection", (socket) => {
  socket.on("say", (message) => socket.broadcast.emit("said", message));
});
http.listen(0, "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${http.address().port}`);
});
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
