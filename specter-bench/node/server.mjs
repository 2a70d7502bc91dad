// node's socket.io 4.8 doing the benchmark's work: `node server.mjs S`.
// The `bench` event has S listeners; each bumps a counter and reads the payload; the
// last one calls the ack. Listens on a free loopback port, prints `listening on
// http://ADDR`, and serves until its standard input closes. With BENCH_EMIT=1 the last
// listener also emits the payload back (`echo`) before it answers; with
// BENCH_RECOVERY=1 connection state recovery is on (`bench --recovery`).
import { createServer } from "node:http";
import { Server } from "socket.io";

const subscribers = Number(process.argv[2] ?? 1);
let runs = 0;
const http = createServer();
const emit = process.env.BENCH_EMIT === "1";
const options = { transports: ["websocket", "polling"] };
if (process.env.BENCH_RECOVERY === "1") options.connectionStateRecovery = {};
const io = new Server(http, options);
io.on("connection", (socket) => {
  for (let i = 0; i < subscribers; i++) {
    const last = i === subscribers - 1;
    socket.on("bench", (payload, ack) => {
      runs += 1 + (payload.seq & 0);
      if (last && emit) socket.emit("echo", payload);
      if (last) ack({ ok: true });
    });
  }
});
http.listen(0, "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${http.address().port}`);
});
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
