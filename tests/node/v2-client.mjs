// socket.io-client 2.x, which speaks Engine.IO 3 and Socket.IO 4: connects to URL over
// TRANSPORT, emits "echo" with four arguments (the last binary, unless BINARY is "text")
// asking for an ack, waits for the server's "pushed", and prints one JSON line
// {id, ack, pushed} (binary as {"$bin"}). Exits 1 with {error} on connect_error or
// after WAIT ms (default 8000).
import io from "socket.io-client-v2";

const [url, transport = "websocket", binary = "binary", wait = "8000"] = process.argv.slice(2);
const socket = io(url, { transports: [transport], reconnection: false, forceNew: true, timeout: 5000 });
const result = {};
const encode = (a) => (Buffer.isBuffer(a) ? { $bin: [...a] } : a);
const finish = (code) => {
  console.log(JSON.stringify(result));
  socket.close();
  process.exit(code);
};
setTimeout(() => {
  result.error = "timeout";
  finish(1);
}, Number(wait));
socket.on("connect_error", (e) => {
  result.error = String(e);
  finish(1);
});
socket.on("pushed", (...args) => {
  result.pushed = args.map(encode);
  if (result.ack) finish(0);
});
socket.on("connect", () => {
  result.id = socket.id;
  const last = binary === "text" ? "four" : Buffer.from([1, 2, 3]);
  socket.emit("echo", 1, "two", { three: [true] }, last, (...args) => {
    result.ack = args.map(encode);
    if (result.pushed) finish(0);
  });
});
