// The events of the Specter app `chat`, generated from its Rust code by its
// `contract` command. Do not edit: regenerate.
// Use: `io(url) as Socket<ServerToClientEvents, ClientToServerEvents>` (socket.io-client).

/** The envelope an [`AckError`] travels in: `{"error": {..}}`. */
export interface AckError {
  /** The error. */
  error: AckErrorBody;
}

/** An ack answered with an error. Clients receive it as one argument `{"error": {"handler": .., "kind": .., "message": ..}}`; `handler` names the handler, controller or subscriber owner that caused it, and is absent when none did (an unknown event). */
export interface AckErrorBody {
  /** Kind `invalid_payload` from a validating extractor: each invalid field. */
  fields?: FieldError[];
  /** Who answered with the error. */
  handler?: string | null;
  /** An `internal error`: the id of the server's log line that says what went wrong. */
  id?: string | null;
  /** Why. */
  kind: ErrorKind;
  /** A sentence for the client. */
  message: string;
  /** Kind `rate_limited`: milliseconds until the event is allowed again. */
  retry_after_ms?: number | null;
}

/** A message as clients see it: the server's `message` event, and the history. */
export interface ChatMessage {
  at: number;
  text: string;
  user: string;
}

/** Why an ack is answered with an error. Serialized in `snake_case` (`"invalid_payload"`); every kind, and when it is answered, is in the guide's dispatch page. */
export type ErrorKind = "returned" | "invalid_payload" | "missing_state" | "panicked" | "missing_session" | "unserializable" | "rejected" | "forbidden" | "unknown_event" | "overloaded" | "timeout" | "rate_limited";

/** One invalid field of a payload: its path (`"text"`, `"items[2].name"`, empty for the payload itself) and what is wrong with it. */
export interface FieldError {
  /** What is wrong with it. */
  message: string;
  /** Where the field is in the payload. */
  path: string;
}

/** What a client sends with `message`: `Valid<Incoming>` checks these rules before the chat's subscriber runs, and the ack lists each broken one. */
export interface Incoming {
  text: string;
}

/** The connection's auth payload: who is joining. */
export interface JoinAuth {
  name: string;
}

/** Who is present: the server's `presence` event. */
export type Presence = string[];

/** The answer to a message that was sent. */
export interface Sent {
  ok: boolean;
}

/** Someone is typing: the server's `typing` event. */
export interface Typing {
  user: string;
}

/** The auth payload of `connect` on `/`. */
export type Auth = JoinAuth;

/** Events the server emits on `/`. */
export interface ServerToClientEvents {
  message: (payload: ChatMessage) => void;
  presence: (payload: Presence) => void;
  typing: (payload: Typing) => void;
}

/** Events clients may emit on `/`, with their acks. */
export interface ClientToServerEvents {
  join: (ack?: (answer: ChatMessage[] | AckError) => void) => void;
  message: (payload: Incoming, ack?: (answer: Sent | AckError) => void) => void;
  typing: (ack?: (answer: AckError | undefined) => void) => void;
}
