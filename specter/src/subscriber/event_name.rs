//! The one rule for event names, shared by the `#[on]` macro (as a compile-time
//! assertion) and [`SocketIngress::on`](crate::SocketIngress::on) (at run time).

use std::fmt;

/// Event names a client can never send: Socket.IO reserves them for its own use.
pub const RESERVED_EVENTS: [&str; 4] = [
    "connect_error",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// The socket's lifecycle events: the app subscribes to them, a client never sends them.
pub const LIFECYCLE_EVENTS: [&str; 2] = ["connect", "disconnect"];

/// The hook after `connect`: its subscribers run once the client has been told it is
/// connected (they can emit to it, join rooms, ask it), in priority order like any
/// event's, before the socket's first event is dispatched. `connect` subscribers run
/// before that, and may refuse the connection; `connected` ones cannot.
///
/// It is Specter's name, not Socket.IO's: a client may emit an event of that name (node
/// does not reserve it), and it reaches no subscriber, as an event nobody subscribes to.
///
/// ```
/// assert_eq!(specter::event_name::CONNECTED, "connected");
/// ```
pub const CONNECTED: &str = "connected";

/// Whether a client may emit an event called `name`: not one of the
/// [`LIFECYCLE_EVENTS`] nor the [`RESERVED_EVENTS`]. An event from a client with such a
/// name is a protocol violation (node's parser closes such a connection): it reaches no
/// subscriber, catch-all or interceptor, and the socket is disconnected.
///
/// ```
/// use specter::event_name::client_may_emit;
///
/// assert!(client_may_emit("message"));
/// assert!(!client_may_emit("connect"));
/// assert!(!client_may_emit("disconnect"));
/// assert!(!client_may_emit("newListener"));
/// ```
pub const fn client_may_emit(name: &str) -> bool {
    !is_one_of(name, &LIFECYCLE_EVENTS) && !is_one_of(name, &RESERVED_EVENTS)
}

/// Whether `name` is one of `names`.
const fn is_one_of(name: &str, names: &[&str]) -> bool {
    let mut i = 0;
    while i < names.len() {
        if bytes_eq(name.as_bytes(), names[i].as_bytes()) {
            return true;
        }
        i += 1;
    }
    false
}

/// Why an event name was rejected by [`check_event_name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventNameError {
    /// The name is the empty string.
    Empty,
    /// The name starts or ends with white space.
    Padded,
    /// The name is one of [`RESERVED_EVENTS`].
    Reserved,
}

impl EventNameError {
    /// The sentence shown to the user, at compile time and at run time alike.
    pub const fn message(self) -> &'static str {
        match self {
            Self::Empty => "event name must not be empty",
            Self::Padded => "event name must not start or end with white space",
            Self::Reserved => {
                "event name is reserved by Socket.IO (connect_error, disconnecting, \
                 newListener, removeListener): a client can never send it"
            }
        }
    }
}

impl fmt::Display for EventNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for EventNameError {}

/// Checks an event name against Specter's rule: not empty, no leading or trailing
/// white space, and not one of the [`RESERVED_EVENTS`].
///
/// `connect` and `disconnect` are accepted: they are the socket's lifecycle events.
///
/// ```
/// use specter::event_name::{check_event_name, EventNameError};
///
/// assert_eq!(check_event_name("heartbeat"), Ok(()));
/// assert_eq!(check_event_name(""), Err(EventNameError::Empty));
/// assert_eq!(check_event_name(" chat"), Err(EventNameError::Padded));
/// assert_eq!(check_event_name("newListener"), Err(EventNameError::Reserved));
/// // usable in constants, which is how `#[on("...")]` checks its literal
/// const _: () = assert!(check_event_name("message").is_ok());
/// ```
pub const fn check_event_name(name: &str) -> Result<(), EventNameError> {
    let bytes = name.as_bytes();
    if bytes.is_empty() {
        return Err(EventNameError::Empty);
    }
    if is_space(bytes[0]) || is_space(bytes[bytes.len() - 1]) || ends_with_unicode_space(bytes) {
        return Err(EventNameError::Padded);
    }
    if is_one_of(name, &RESERVED_EVENTS) {
        return Err(EventNameError::Reserved);
    }
    Ok(())
}

/// Panics with the rule's message when `name` breaks it: the form the macros call
/// inside a `const` item, so a bad literal is a compile error.
#[doc(hidden)]
pub const fn assert_event_name(name: &str) {
    if let Err(e) = check_event_name(name) {
        panic!("{}", e.message());
    }
}

const fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// U+00A0 (no-break space, C2 A0) and U+3000 (ideographic space, E3 80 80) at either end:
/// the non-ASCII spaces that show up in pasted names.
const fn ends_with_unicode_space(b: &[u8]) -> bool {
    let n = b.len();
    (n >= 2 && b[0] == 0xC2 && b[1] == 0xA0)
        || (n >= 2 && b[n - 2] == 0xC2 && b[n - 1] == 0xA0)
        || (n >= 3 && b[0] == 0xE3 && b[1] == 0x80 && b[2] == 0x80)
        || (n >= 3 && b[n - 3] == 0xE3 && b[n - 2] == 0x80 && b[n - 1] == 0x80)
}

const fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_lifecycle_and_ordinary_names() {
        for name in ["connect", "disconnect", "chat message", "a", "héllo"] {
            assert_eq!(check_event_name(name), Ok(()), "{name:?}");
        }
    }

    #[test]
    fn rejects_padding_of_every_kind() {
        for name in ["\tx", "x\n", " ", "\u{a0}x", "x\u{3000}"] {
            assert_eq!(
                check_event_name(name),
                Err(EventNameError::Padded),
                "{name:?}"
            );
        }
    }

    #[test]
    fn rejects_every_reserved_name() {
        for name in RESERVED_EVENTS {
            assert_eq!(check_event_name(name), Err(EventNameError::Reserved));
        }
    }
}
