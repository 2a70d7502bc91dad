// Connection state recovery for a socket.io-client (4.x) talking to a Specter server
// whose app turns it on (`DispatchSettings::recovery`).
//
//   import { io } from "socket.io-client";
//   import { recover } from "./specter-recovery.mjs";
//   const socket = recover(io("https://chat.example"));
//
// Why a module: a stock client recovers only when the server's CONNECT answer carries a
// private session id (`pid`), and socketioxide's carries only the socket id. So the
// server tells this module the session in an event right after the CONNECT answer
// (`specter:session`), and numbers each event it logs with a last argument
// ("\u001fspecter:<n>"). This module asks for the session back on every reconnect
// (`specterRecovery: {pid, offset}` in the CONNECT auth), takes that last argument off
// before the app's listeners see it, and holds the `connect` event until the session is
// known: then `socket.recovered` says whether the server restored the socket's rooms,
// session and missed events, and `socket.id` is the session's id.

const CONNECT = 0;
const EVENT = 2;
const BINARY_EVENT = 5;
const SESSION_EVENT = "specter:session";
const OFFSET_PREFIX = "\u001fspecter:";
const AUTH_KEY = "specterRecovery";
const HOLD_MS = 1000;

/**
 * Makes `socket` (not connected yet, or connected: the next connection counts)
 * recover its connection's state. Returns the socket.
 * @template {import("socket.io-client").Socket} S
 * @param {S} socket
 * @returns {S}
 */
export function recover(socket) {
  const state = { pid: null, offset: null, recovered: false, connect: null };
  Object.defineProperty(socket, "recovered", {
    configurable: true,
    get: () => state.recovered,
    set: () => {},
  });

  const sendConnect = socket._sendConnectPacket;
  socket._sendConnectPacket = function (data) {
    const ask = { [AUTH_KEY]: { pid: state.pid, offset: state.offset } };
    return sendConnect.call(this, Object.assign({}, data, ask));
  };

  const onpacket = socket.onpacket;
  socket.onpacket = function (packet) {
    if (packet.nsp !== this.nsp) {
      return onpacket.call(this, packet);
    }
    if (packet.type === CONNECT) {
      // Held until the session event that follows it (a server that does not recover
      // sends none: then for a second at most).
      state.connect = packet;
      setTimeout(() => {
        if (state.connect === packet) {
          state.connect = null;
          state.recovered = false;
          onpacket.call(this, packet);
        }
      }, HOLD_MS);
      return;
    }
    const isEvent = packet.type === EVENT || packet.type === BINARY_EVENT;
    const args = isEvent && Array.isArray(packet.data) ? packet.data : null;
    if (state.connect) {
      const connect = state.connect;
      state.connect = null;
      if (args && args[0] === SESSION_EVENT) {
        const session = args[1] || {};
        state.recovered = session.recovered === true;
        if (!state.recovered) {
          state.offset = null;
        }
        state.pid = session.pid ?? null;
        if (session.id) {
          connect.data = Object.assign({}, connect.data, { sid: session.id });
        }
        return onpacket.call(this, connect);
      }
      // A server that does not recover: connect as usual.
      state.recovered = false;
      onpacket.call(this, connect);
    }
    if (args && args.length > 1) {
      const last = args[args.length - 1];
      if (typeof last === "string" && last.startsWith(OFFSET_PREFIX)) {
        args.pop();
        state.offset = last.slice(OFFSET_PREFIX.length);
      }
    }
    return onpacket.call(this, packet);
  };
  // A socket made with `autoConnect` listens to its manager already, with the methods
  // it had then: listen again, with these.
  if (socket.subs) {
    socket.subs.forEach((unsubscribe) => unsubscribe());
    socket.subs = undefined;
    socket.subEvents();
  }
  return socket;
}
