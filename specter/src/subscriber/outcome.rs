//! What a subscriber's return value means for the dispatch: an ack value, nothing, or a
//! failure.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use std::any::TypeId;

use crate::adapter::AckSender;
use crate::subscriber::error_kind::ErrorKind;
use serde::Serialize;
use serde_json::Value as Json;
use socketioxide::SendError;

/// The result of running one subscriber.
#[derive(Debug)]
pub enum Outcome {
    /// The subscriber returned no value (`()`, `None`, `Ok(())`, `Value::Null`).
    Nothing,
    /// The subscriber returned a value: a candidate for the ack.
    Reply(Reply),
    /// The subscriber failed.
    Failed(Failure),
    /// The subscriber rejected the event: later subscribers do not run.
    Rejected(String),
}

/// A subscriber's failure: its kind and a human sentence.
///
/// The sentence is for the server's log. What the client is told ([`told`](Self::told))
/// names nothing of the server's inside: a returned error's text only when the app
/// returned it as [`Public`], a panic's never; those get `internal error` and the id of
/// the log line that has the rest.
#[derive(Debug, Clone)]
pub struct Failure {
    /// What went wrong: `returned`, `invalid_payload`, `missing_state`, `panicked` or
    /// `unserializable`.
    pub kind: ErrorKind,
    /// The error's text (for a panic, the panic message).
    pub message: String,
    /// Kind `invalid_payload` from a validating extractor: each invalid field, which
    /// the ack lists.
    pub fields: Vec<crate::subscriber::FieldError>,
    /// What the client may be told; `None`: only that something failed.
    pub(crate) public: Option<String>,
    /// The id of the log line of this failure, which the client is told instead.
    pub(crate) id: Option<ErrorId>,
}

impl Failure {
    /// A failure of `kind`. Its text reaches the client for kinds that describe the
    /// client's own request (`invalid_payload`, `timeout`, ...), never for `returned`,
    /// `panicked`, `missing_state`, `missing_session` or `unserializable`.
    pub fn new(kind: ErrorKind, message: impl fmt::Display) -> Self {
        let message = message.to_string();
        let public = (!kind.is_internal()).then(|| message.clone());
        Self {
            kind,
            message,
            fields: Vec::new(),
            public,
            id: None,
        }
    }

    /// A failure whose text the client may read, whatever its kind.
    pub fn public(kind: ErrorKind, message: impl fmt::Display) -> Self {
        let mut failure = Self::new(kind, message);
        failure.public = Some(failure.message.clone());
        failure
    }

    /// What the client is told: the public text, or `internal error` with the id of the
    /// log line.
    pub fn told(&self) -> String {
        match (&self.public, self.id) {
            (Some(text), _) => text.clone(),
            (None, Some(id)) => format!("internal error (id {id})"),
            (None, None) => "internal error".to_owned(),
        }
    }

    /// What a refused connection is told (`connect_error`): [`told`](Self::told), after
    /// the kind when the text is not the app's own (`timeout: did not finish within 5s`).
    pub(crate) fn refusal(&self) -> String {
        match (self.kind, &self.public) {
            (ErrorKind::Returned, _) | (_, None) => self.told(),
            (_, Some(_)) => format!("{}: {}", self.kind.label(), self.told()),
        }
    }

    /// Gives a failure whose text the client is not told an id, for the log line and
    /// the client's answer alike.
    pub(crate) fn identify(&mut self) -> Option<ErrorId> {
        if self.public.is_none() && self.id.is_none() {
            self.id = Some(ErrorId::next());
        }
        self.id
    }

    pub(crate) fn from_panic(payload: Box<dyn std::any::Any + Send>) -> Self {
        let message = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "panic with a non-string payload".to_owned()
        };
        Self::new(ErrorKind::Panicked, message)
    }
}

/// The id of a failure's log line, which the client is told in its place: 12 hex
/// digits, unique within the process and unlikely to repeat across restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ErrorId(u64);

impl ErrorId {
    fn next() -> Self {
        use std::sync::atomic::{AtomicU64, Ordering};
        use std::time::{SystemTime, UNIX_EPOCH};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        let seed = *SEED.get_or_init(|| {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            nanos ^ u64::from(std::process::id()).rotate_left(32)
        });
        // Consecutive ids differ in many digits (a multiplicative step), yet never repeat.
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        Self(seed.wrapping_add(n.wrapping_mul(0x9E37_79B9_7F4A_7C15)) & 0xFFFF_FFFF_FFFF)
    }
}

impl fmt::Display for ErrorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:012x}", self.0)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.label(), self.message)
    }
}

/// A value that may answer an ack, kept as returned (not converted to JSON) until the
/// ack is sent, so binary values (`bytes::Bytes`) travel as binary attachments. It is
/// one argument of the client's callback, whatever its shape, unless it was made with
/// [`spread`](Self::spread).
pub struct Reply {
    value: Box<dyn ErasedReply>,
    spread: bool,
}

trait ErasedReply: Send {
    fn send(&self, ack: AckSender, spread: bool) -> Result<(), SendError>;
    fn json(&self) -> serde_json::Result<Json>;
}

impl<T: Serialize + Send> ErasedReply for T {
    fn send(&self, ack: AckSender, spread: bool) -> Result<(), SendError> {
        // socketioxide writes a tuple-like value (a tuple, an array, a tuple struct) as
        // several arguments: a 1-tuple makes anything one argument.
        if spread {
            ack.send(self)
        } else {
            ack.send(&(self,))
        }
    }
    fn json(&self) -> serde_json::Result<Json> {
        serde_json::to_value(self)
    }
}

impl Reply {
    /// Wraps a value: one argument of the client's callback.
    pub fn new<T: Serialize + Send + 'static>(value: T) -> Self {
        Self {
            value: Box::new(value),
            spread: false,
        }
    }

    /// Wraps a tuple whose elements are each an argument of the client's callback
    /// ([`Spread`](crate::Spread), [`Args`](crate::Args)).
    pub fn spread<T: Serialize + Send + 'static>(value: T) -> Self {
        Self {
            value: Box::new(value),
            spread: true,
        }
    }

    /// The value as JSON (binary data becomes arrays of numbers).
    pub fn to_json(&self) -> serde_json::Result<Json> {
        self.value.json()
    }

    pub(crate) fn send(&self, ack: AckSender) -> Result<(), SendError> {
        self.value.send(ack, self.spread)
    }
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_json() {
            Ok(v) => write!(f, "Reply({v})"),
            Err(e) => write!(f, "Reply(<unserializable: {e}>)"),
        }
    }
}

/// Returned by a subscriber to reject the event: the subscribers after it do not run,
/// and the ack is answered with `{"error": {"handler", "kind": "rejected", "message"}}`.
/// On `connect` it refuses the connection with the message. A rejection is a decision,
/// not a failure: it is logged at `info` and not handed to the error subscribers.
///
/// A subscriber returns `Reject`, `Option<Reject>` (`None` lets the event through) or
/// `Result<T, Reject>`.
///
/// ```
/// use specter::{Reject, IntoOutcome, Outcome};
///
/// fn moderate(text: &str) -> Option<Reject> {
///     text.contains("spam").then(|| Reject::new("spam is not welcome"))
/// }
/// assert!(matches!(moderate("hello").into_outcome(), Outcome::Nothing));
/// assert!(matches!(moderate("spam!").into_outcome(), Outcome::Rejected(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject(pub String);

impl Reject {
    /// A rejection with a reason for the client.
    pub fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
}

impl IntoOutcome for Reject {
    fn into_outcome(self) -> Outcome {
        Outcome::Rejected(self.0)
    }
}

impl IntoOutcome for Option<Reject> {
    fn into_outcome(self) -> Outcome {
        self.map_or(Outcome::Nothing, IntoOutcome::into_outcome)
    }
}

impl<T: Serialize + Send + 'static> IntoOutcome for Result<T, Reject> {
    fn into_outcome(self) -> Outcome {
        match self {
            Ok(v) => serialized(v),
            Err(r) => r.into_outcome(),
        }
    }
}

/// An error whose text the client may read: return `Err(Public(e))` (or
/// `Result<T, Public<E>>`) for errors written for the client. Any other `Err(e)` reaches
/// the client as `internal error` with an id that its log line repeats, so that an error
/// from a database or a library never tells a client what the server runs.
///
/// ```
/// use specter::{IntoOutcome, Outcome, Public};
///
/// fn join(room: &str) -> Result<(), Public<String>> {
///     Err(Public(format!("no room called {room}")))
/// }
/// match join("lobby").into_outcome() {
///     Outcome::Failed(f) => assert_eq!(f.told(), "no room called lobby"),
///     _ => unreachable!(),
/// }
/// match Err::<(), _>("connection refused (os error 111)").into_outcome() {
///     Outcome::Failed(f) => assert!(f.told().starts_with("internal error")),
///     _ => unreachable!(),
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Public<E>(pub E);

impl<T: Serialize + Send + 'static, E: fmt::Display> IntoOutcome for Result<T, Public<E>> {
    fn into_outcome(self) -> Outcome {
        match self {
            Ok(v) => serialized(v),
            Err(Public(e)) => Outcome::Failed(Failure::public(ErrorKind::Returned, e)),
        }
    }
}

/// Wraps any `Serialize` value to return it as an ack: `Ack(pong)`.
///
/// Common types (`serde_json::Value`, `String`, numbers, `bool`, `Vec<T>`, maps,
/// `Option<T>`, `Result<T, E>`) need no wrapper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Ack<T>(pub T);

/// A subscriber's return type.
///
/// | returned              | ack candidate                                  |
/// |-----------------------|------------------------------------------------|
/// | `()`                  | none                                           |
/// | `Option<T>`           | `Some(v)`: `v`; `None`: none                   |
/// | `Result<T, E>`        | `Ok(v)`: `v` (`Ok(())`: none); `Err(e)`: a failure; the client reads `internal error` and an id |
/// | `Result<T, Public<E>>` | the same; the client reads `e.to_string()`    |
/// | `serde_json::Value`, `String`, `&'static str`, numbers, `bool`, `Vec<T>`, maps, `bytes::Bytes`, `Ack<T>` | the value (`Value::Null`: none) |
/// | [`Reject`], `Option<Reject>`, `Result<T, Reject>` | stops the dispatch      |
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned by a Specter subscriber",
    label = "the return value becomes the ack, so it must be serializable",
    note = "return `()`, `Option<T>`, `Result<T, E: Display>`, `serde_json::Value`, a string, a number, `bool`, `Vec<T>`, a map, or wrap a `Serialize` type in `specter::Ack(..)`"
)]
pub trait IntoOutcome {
    /// Turns the return value into the dispatch's view of it.
    fn into_outcome(self) -> Outcome;
}

fn serialized<T: Serialize + Send + 'static>(value: T) -> Outcome {
    if TypeId::of::<T>() == TypeId::of::<()>() {
        Outcome::Nothing
    } else {
        Outcome::Reply(Reply::new(value))
    }
}

impl IntoOutcome for () {
    fn into_outcome(self) -> Outcome {
        Outcome::Nothing
    }
}

impl IntoOutcome for Json {
    fn into_outcome(self) -> Outcome {
        match self {
            Json::Null => Outcome::Nothing,
            v => Outcome::Reply(Reply::new(v)),
        }
    }
}

impl IntoOutcome for Outcome {
    fn into_outcome(self) -> Outcome {
        self
    }
}

impl<T: Serialize + Send + 'static> IntoOutcome for Option<T> {
    fn into_outcome(self) -> Outcome {
        match self {
            Some(v) => serialized(v),
            None => Outcome::Nothing,
        }
    }
}

impl<T: Serialize + Send + 'static, E: fmt::Display> IntoOutcome for Result<T, E> {
    fn into_outcome(self) -> Outcome {
        match self {
            Ok(v) => serialized(v),
            Err(e) => Outcome::Failed(Failure::new(ErrorKind::Returned, e)),
        }
    }
}

macro_rules! serialize_outcome {
    ($([$($bound:tt)*] $ty:ty),* $(,)?) => {$(
        impl<$($bound)*> IntoOutcome for $ty {
            fn into_outcome(self) -> Outcome {
                serialized(self)
            }
        }
    )*};
}

serialize_outcome!(
    [] String, [] &'static str, [] bool, [] char,
    [] i8, [] i16, [] i32, [] i64, [] i128, [] isize,
    [] u8, [] u16, [] u32, [] u64, [] u128, [] usize, [] f32, [] f64,
    [] bytes::Bytes,
    [T: Serialize + Send + 'static] Ack<T>,
    [T: Serialize + Send + 'static] Vec<T>,
    [K: Serialize + Send + 'static, V: Serialize + Send + 'static] HashMap<K, V>,
    [K: Serialize + Send + 'static, V: Serialize + Send + 'static] BTreeMap<K, V>,
);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reply(o: Outcome) -> Option<Json> {
        match o {
            Outcome::Reply(v) => Some(v.to_json().unwrap()),
            _ => None,
        }
    }

    #[test]
    fn values_become_ack_candidates_and_null_counts_as_none() {
        assert_eq!(
            reply(json!({"ok": true}).into_outcome()),
            Some(json!({"ok": true}))
        );
        assert_eq!(reply(Some(3).into_outcome()), Some(json!(3)));
        assert!(matches!(None::<u8>.into_outcome(), Outcome::Nothing));
        assert!(matches!(
            Ok::<(), String>(()).into_outcome(),
            Outcome::Nothing
        ));
        assert!(matches!(Json::Null.into_outcome(), Outcome::Nothing));
        assert!(matches!(Some(()).into_outcome(), Outcome::Nothing));
        assert_eq!(reply(Ack([1, 2]).into_outcome()), Some(json!([1, 2])));
    }

    #[test]
    fn err_is_a_failure_with_its_display_text() {
        match Err::<u8, _>("no such room").into_outcome() {
            Outcome::Failed(f) => {
                assert_eq!(f.kind, ErrorKind::Returned);
                assert_eq!(f.to_string(), "returned an error: no such room");
            }
            other => panic!("{other:?}"),
        }
    }
}
