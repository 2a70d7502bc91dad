// node's socket.io 4.8 doing the benchmark's work: `node server.mjs S`.
// The `bench` event has S listeners; each bumps a counter and reads the payload; the
// last one calls the ack. Listens on a free loopback port, prints `listening on
// http://ADDR`, and serves until its standard input closes.
import { createServer } from "node:http";
import { Server } from "socket.io";

const subscribers = Number(process.argv[2] ?? 1);
let runs = 0;
const http = createServer();
const io = new Server(http, { transports: ["websocket", "polling"] });
io.on("connection", (socket) => {
  for (let i = 0; i < subscribers; i++) {
    const last = i === subscribers - 1;
    socket.on("bench", (payload, ack) => {
      runs += 1 + (payload.seq & 0);
      if (last) ack({ ok: true });
    });
  }
});
http.listen(0, "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${http.address().port}`);
});
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
