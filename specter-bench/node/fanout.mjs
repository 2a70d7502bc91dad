// node's socket.io 4.8 doing the broadcast benchmark's work: `node fanout.mjs`.
// Each `say` goes to every other socket as `said`. Listens on a free loopback port,
// prints `listening on http://ADDR`, and serves until its standard input closes.
import { createServer } from "node:http";
import { Server } from "socket.io";

const http = createServer();
const io = new Server(http, { transports: ["websocket", "polling"] });
io.on("connection", (socket) => {
  socket.on("say", (message) => socket.broadcast.emit("said", message));
});
http.listen(0, "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${http.address().port}`);
});
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
