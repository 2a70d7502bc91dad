// A real client of the chat example, typed with its generated contract.
// Build: node_modules/.bin/tsc -p tsconfig.run.json   Run: node dist/client.js URL
// Prints one JSON line {"history": n | AckError, "ack": Sent | AckError, "echo": ChatMessage}
// and exits 0; exits 1 with a message on stderr on connect_error or after 5 s.
import { io, type Socket } from "socket.io-client";
import type {
  AckError,
  ChatMessage,
  ClientToServerEvents,
  Sent,
  ServerToClientEvents,
} from "../../examples/chat/contract/socket-events.js";

const url = process.argv[2];
if (!url) {
  console.error("usage: node dist/client.js URL");
  process.exit(2);
}

const TEXT = "hello from typescript";

const fail = (why: string): never => {
  console.error(why);
  process.exit(1);
};

const timer = setTimeout(() => fail("timed out after 5 s"), 5000);

const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(url, {
  auth: { name: "ts" },
  transports: ["websocket"],
  reconnection: false,
  forceNew: true,
});

socket.on("connect_error", (err) => fail(`connect_error: ${err.message}`));

// Resolves with the first server `message` whose text is ours (it comes back to the sender too).
const echo = new Promise<ChatMessage>((resolve) => {
  socket.on("message", (msg: ChatMessage) => {
    if (msg.text === TEXT) resolve(msg);
  });
});

socket.once("connect", () => {
  socket.emit("join", (answer: ChatMessage[] | AckError) => {
    const history: number | AckError = Array.isArray(answer) ? answer.length : answer;
    socket.emit("message", { text: TEXT }, async (ack: Sent | AckError) => {
      const msg = await echo;
      clearTimeout(timer);
      process.stdout.write(JSON.stringify({ history, ack, echo: msg }) + "\n");
      socket.close();
      process.exit(0);
    });
  });
});
