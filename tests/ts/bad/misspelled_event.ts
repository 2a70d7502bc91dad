// Must FAIL to type-check (see expected.json): node_modules/.bin/tsc --strict --noEmit --target ES2022
//   --module NodeNext --moduleResolution NodeNext --skipLibCheck --types node bad/FILE.ts
// The one mistake: the event "mesage" does not exist (it is "message").
import { io, type Socket } from "socket.io-client";
import type { AckError, ClientToServerEvents, Sent, ServerToClientEvents } from "../../../examples/chat/contract/socket-events.js";

const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io("http://127.0.0.1:3000", {
  auth: { name: "ts" },
  transports: ["websocket"],
});

socket.emit("mesage", { text: "hi" }, (answer: Sent | AckError) => {
  if ("error" in answer) return;
  console.log(answer.ok);
});
