// A Socket.IO client driven over stdin/stdout, one JSON object per line, so Rust tests
// can use node's socket.io-client as a real client.
//
// Commands (each with an "id"; the answer carries the same "id"):
//   {"op":"connect","url":..,"auth":{..},"transports":["websocket"],"parser":"msgpack"?} -> {"sock":"s1"} | {"error":"..."}
//   {"op":"emit","sock":"s1","event":"e","args":[..],"ack":true,"timeout":ms} -> {"ack":[..]} | {"error":"..."}
//   {"op":"burst","sock":"s1","event":"e","count":n,"payload":p} -> {"acks":[..]} (n emits at
//     once, each asking for an ack; payload i, or p with every "$i" replaced by i)
//   {"op":"disconnect","sock":"s1"} -> {"ok":true}
//   {"op":"answer","sock":"s1","event":"e","args":[..]} -> {"ok":true} (from then on, the
//     server's requests for "e" are answered with args; without one they go unanswered)
// Pushed without an id: {"sock":"s1","event":"e","args":[..]} for every server emit,
// and {"sock":"s1","event":"disconnect","args":[reason]} when the server drops it.
import { io } from "socket.io-client";
import msgpackParser from "socket.io-msgpack-parser";
import { createInterface } from "node:readline";

const sockets = new Map();
// `${sock}/${event}` -> the arguments that answer the server's requests for it.
const answers = new Map();
let next = 1;
const send = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

// Binary payloads cross the JSON pipe as {"$bin": [bytes]}.
const encode = (v) => {
  if (v instanceof ArrayBuffer) return { $bin: Array.from(new Uint8Array(v)) };
  if (ArrayBuffer.isView(v)) return { $bin: Array.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) };
  if (Array.isArray(v)) return v.map(encode);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encode(x)]));
  return v;
};
const decode = (v) => {
  if (Array.isArray(v)) return v.map(decode);
  if (v && typeof v === "object") {
    if (Array.isArray(v.$bin)) return Buffer.from(v.$bin);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decode(x)]));
  }
  return v;
};

const ops = {
  connect(cmd) {
    return new Promise((resolve) => {
      const socket = io(cmd.url, {
        auth: cmd.auth ?? {},
        transports: cmd.transports ?? ["websocket"],
        reconnection: false,
        forceNew: true,
        timeout: cmd.timeout ?? 5000,
        ...(cmd.parser === "msgpack" ? { parser: msgpackParser } : {}),
      });
      const name = `s${next++}`;
      socket.onAny((event, ...args) => {
        const callback = typeof args.at(-1) === "function" ? args.pop() : null;
        send({ sock: name, event, args: encode(args), asked: callback !== null });
        const answer = answers.get(`${name}/${event}`);
        if (callback && answer) callback(...decode(answer));
      });
      socket.once("connect", () => {
        sockets.set(name, socket);
        socket.on("disconnect", (reason) => send({ sock: name, event: "disconnect", args: [reason] }));
        resolve({ sock: name, sid: socket.id });
      });
      socket.once("connect_error", (err) => {
        socket.close();
        resolve({ error: err.message, data: err.data ?? null });
      });
    });
  },
  emit(cmd) {
    const socket = sockets.get(cmd.sock);
    if (!socket) return { error: `no socket ${cmd.sock}` };
    const args = decode(cmd.args ?? []);
    if (!cmd.ack) {
      socket.emit(cmd.event, ...args);
      return { ok: true };
    }
    return new Promise((resolve) => {
      socket.timeout(cmd.timeout ?? 5000).emit(cmd.event, ...args, (err, ...reply) => {
        resolve(err ? { error: "ack timeout" } : { ack: encode(reply) });
      });
    });
  },
  // Emits `count` events at once, each asking for an ack; answers with every ack.
  burst(cmd) {
    const socket = sockets.get(cmd.sock);
    if (!socket) return { error: `no socket ${cmd.sock}` };
    const one = (i) =>
      new Promise((resolve) => {
        const payload = cmd.payload === undefined ? i : JSON.parse(JSON.stringify(cmd.payload).replaceAll("$i", String(i)));
        socket.timeout(cmd.timeout ?? 5000).emit(cmd.event, payload, (err, ...reply) => {
          resolve(err ? { error: "ack timeout" } : reply);
        });
      });
    return Promise.all(Array.from({ length: cmd.count }, (_, i) => one(i))).then((acks) => ({ acks }));
  },
  answer(cmd) {
    answers.set(`${cmd.sock}/${cmd.event}`, cmd.args ?? []);
    return { ok: true };
  },
  disconnect(cmd) {
    sockets.get(cmd.sock)?.disconnect();
    sockets.delete(cmd.sock);
    return { ok: true };
  },
};

// Commands run one after the other, in the order they arrive.
let queue = Promise.resolve();
createInterface({ input: process.stdin })
  .on("line", (line) => {
    queue = queue.then(async () => {
      const cmd = JSON.parse(line);
      try {
        send({ id: cmd.id, ...(await ops[cmd.op](cmd)) });
      } catch (e) {
        send({ id: cmd.id, error: String(e) });
      }
    });
  })
  .on("close", () => {
    queue.then(() => {
      for (const s of sockets.values()) s.disconnect();
      process.exit(0);
    });
  });
