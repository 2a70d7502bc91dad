// Must FAIL to type-check (see expected.json): node_modules/.bin/tsc --strict --noEmit --target ES2022
//   --module NodeNext --moduleResolution NodeNext --skipLibCheck --types node bad/FILE.ts
// The one mistake: Sent has `ok`, not `okay`.
import { io, type Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "../../../examples/chat/contract/socket-events.js";

const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io("http://127.0.0.1:3000", {
  auth: { name: "ts" },
  transports: ["websocket"],
});

socket.emit("message", { text: "hi" }, (answer) => {
  if ("error" in answer) return;
  console.log(answer.okay);
});
