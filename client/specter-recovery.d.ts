import type { Socket } from "socket.io-client";

/**
 * Makes `socket` recover its connection's state from a Specter server that turns
 * recovery on: after a reconnect within the server's bounds, `socket.recovered` is
 * true, `socket.id` is the session's id, and every event the server emitted meanwhile
 * arrives, in order, before anything new. Returns the socket.
 */
export function recover<S extends Socket>(socket: S): S;
