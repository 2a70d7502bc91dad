//! Subscriber arguments: which socketioxide extractors a subscriber may take, and for
//! which events each one is available.

use std::any::{Any, TypeId, type_name};
use std::fmt;
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use socketioxide::extract::{Data, Event, State, TryData};
use socketioxide::handler::{FromConnectParts, FromDisconnectParts, FromMessageParts, Value};
use socketioxide::socket::DisconnectReason;
use socketioxide::{ProtocolVersion, TransportType};

use crate::adapter::{Socket, SocketIo, SocketRef};
use crate::subscriber::ack_error::FieldError;
use crate::subscriber::delivery::{Deliver, Delivery};
use crate::subscriber::error_kind::ErrorKind;
use crate::subscriber::payload_error;

/// What an event hands to one subscriber: the socket, the event name, its payload, and
/// the values decoded once for every subscriber of this dispatch.
pub struct EventCtx<'a> {
    pub(crate) socket: &'a Arc<Socket>,
    pub(crate) event: &'a str,
    pub(crate) payload: Payload<'a>,
    pub(crate) decoded: &'a Decoded,
    pub(crate) delivery: &'a Arc<Delivery>,
}

/// The payloads decoded by [`SharedData`] during one dispatch, by type. Empty (and
/// allocation-free) when no subscriber asks for one.
#[derive(Default)]
pub(crate) struct Decoded(Mutex<Vec<(TypeId, Arc<dyn Any + Send + Sync>)>>);

impl Decoded {
    fn get<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        let cache = self.0.lock().unwrap();
        let (_, v) = cache.iter().find(|(id, _)| *id == TypeId::of::<T>())?;
        v.clone().downcast().ok()
    }

    fn put<T: Send + Sync + 'static>(&self, value: Arc<T>) {
        self.0.lock().unwrap().push((TypeId::of::<T>(), value));
    }
}

#[derive(Clone, Copy)]
pub(crate) enum Payload<'a> {
    /// The event's payload, shared by its subscribers: an extractor that reads it
    /// decodes from its own (cheap, reference-counted) copy.
    Message(&'a Value),
    Connect(&'a Option<Value>),
    Disconnect(DisconnectReason),
}

impl EventCtx<'_> {
    /// The name of the event being dispatched (`connect` and `disconnect` included).
    pub fn event(&self) -> &str {
        self.event
    }

    /// Whether the socket's packets are JSON text, as the event it sent was; unknown
    /// (false) for a `connect` without auth and for `disconnect`.
    pub(crate) fn text_packets(&self) -> bool {
        matches!(
            self.payload,
            Payload::Message(Value::Str(..)) | Payload::Connect(Some(Value::Str(..)))
        )
    }

    /// The kind of event being dispatched.
    pub fn kind(&self) -> EventKind {
        match self.payload {
            Payload::Message(_) => EventKind::Message,
            Payload::Connect(_) => EventKind::Connect,
            Payload::Disconnect(_) => EventKind::Disconnect,
        }
    }
}

/// The three kinds of socket events, which differ in what can be extracted from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// `connect` (before the client is told it is in) and `connected` (after): the
    /// socket and its auth payload.
    Connect,
    /// Any event a client emits.
    Message,
    /// `disconnect`: the socket and the [`DisconnectReason`].
    Disconnect,
}

impl EventKind {
    /// The kind of the event called `name`.
    pub fn of(name: &str) -> Self {
        match name {
            "connect" | crate::subscriber::event_name::CONNECTED => Self::Connect,
            "disconnect" => Self::Disconnect,
            _ => Self::Message,
        }
    }

    const fn bit(self) -> u8 {
        match self {
            Self::Connect => 1,
            Self::Message => 2,
            Self::Disconnect => 4,
        }
    }
}

/// A set of [`EventKind`]s: where an extractor, and so a subscriber, can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventKinds(u8);

impl EventKinds {
    /// Every kind of event.
    pub const ALL: Self = Self(7);
    /// Emitted events and `connect` (both carry a payload).
    pub const WITH_PAYLOAD: Self = Self(1 | 2);
    /// `disconnect` only.
    pub const DISCONNECT: Self = Self(4);

    /// The kinds in both sets: a subscriber works where all of its arguments do.
    pub const fn and(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// Whether `kind` is in the set.
    pub const fn contains(self, kind: EventKind) -> bool {
        self.0 & kind.bit() != 0
    }
}

/// An argument that could not be extracted from an event.
#[derive(Debug, Clone)]
pub struct ExtractError {
    extractor: &'static str,
    kind: ErrorKind,
    pub(crate) message: String,
    pub(crate) fields: Vec<FieldError>,
    /// What the client is told, when it differs from `message` (which the log has).
    pub(crate) told: Option<String>,
}

impl ExtractError {
    /// An error of the extractor `T`: the payload does not fit it (kind
    /// `invalid_payload`).
    pub fn new<T>(message: impl fmt::Display) -> Self {
        Self::of_kind::<T>(ErrorKind::InvalidPayload, message)
    }

    /// An error of the extractor `T` of a given kind.
    pub fn of_kind<T>(kind: ErrorKind, message: impl fmt::Display) -> Self {
        Self {
            extractor: type_name::<T>(),
            kind,
            message: message.to_string(),
            fields: Vec::new(),
            told: None,
        }
    }

    /// The payload did not deserialize into `T` (the extractor `X`): the log has serde's
    /// `error`, the client the path of the field and a short reason, found by decoding
    /// `args` again.
    pub(crate) fn payload<X, T: DeserializeOwned>(
        error: impl fmt::Display,
        args: &[serde_json::Value],
    ) -> Self {
        let mut e = Self::new::<X>(error);
        match payload_error::describe::<T>(args) {
            Some(field) => {
                e.told = Some(match field.path.as_str() {
                    "" => field.message.clone(),
                    path => format!("{path}: {}", field.message),
                });
                e.fields = vec![field];
            }
            None => e.told = Some("the payload does not have the expected form".to_owned()),
        }
        e
    }

    /// The same error, as the error of extractor `X` (one that wraps the one that failed).
    pub(crate) fn for_extractor<X>(mut self) -> Self {
        self.extractor = type_name::<X>();
        self
    }

    /// What the client is told of it: for a payload that does not deserialize, the
    /// field and a short reason; else the message.
    pub fn told(&self) -> &str {
        self.told.as_deref().unwrap_or(&self.message)
    }

    /// The same error, listing the invalid fields of the payload (the ack carries them).
    pub fn with_fields(mut self, fields: Vec<FieldError>) -> Self {
        self.fields = fields;
        self
    }

    /// The invalid fields, when the extractor validates.
    pub fn fields(&self) -> &[FieldError] {
        &self.fields
    }

    /// The kind of failure the subscriber reports.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The type of the extractor that failed, with its full path.
    pub fn extractor(&self) -> &'static str {
        self.extractor
    }
}

/// `a::b::Data<c::Beat>` as `Data<Beat>`: what a reader of a log or an ack needs.
pub(crate) fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut word = String::new();
    for c in full.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            word.push(c);
        } else {
            out.push_str(word.rsplit("::").next().unwrap_or(&word));
            word.clear();
            out.push(c);
        }
    }
    out.push_str(word.rsplit("::").next().unwrap_or(&word));
    out
}

impl fmt::Display for ExtractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", short_type_name(self.extractor), self.message)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn type_names_lose_their_paths() {
        assert_eq!(
            super::short_type_name("socketioxide::extract::data::Data<my::Beat>"),
            "Data<Beat>"
        );
        assert_eq!(
            super::short_type_name("State<alloc::sync::Arc<u8>>"),
            "State<Arc<u8>>"
        );
    }
}

impl std::error::Error for ExtractError {}

/// A subscriber argument. Implemented for socketioxide's extractors; implement it for an
/// extractor of your own to use it in `#[on]` methods and [`SocketIngress`] callbacks.
///
/// Acks are answered with the value a subscriber returns, so `AckSender` is not an
/// extractor here.
///
/// [`SocketIngress`]: crate::SocketIngress
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an extractor Specter can hand to a subscriber",
    label = "this argument cannot be extracted from a socket event",
    note = "subscriber arguments must implement `specter::FromEvent`: SocketRef, Data<T>, SharedData<T>, TryData<T>, Args, Session<T>, Deliver, NsParams, Event, State<T>, SocketIo, DisconnectReason, ProtocolVersion, TransportType",
    note = "to answer an ack, return the value from the subscriber instead of taking an AckSender"
)]
pub trait FromEvent: Sized {
    /// The kinds of event this extractor works for.
    const KINDS: EventKinds = EventKinds::ALL;

    /// Takes the argument out of the event.
    fn from_event(ctx: &mut EventCtx<'_>) -> Result<Self, ExtractError>;
}

/// What extractors that do not read the payload are handed instead of it.
fn no_payload() -> Value {
    Value::Bytes(bytes::Bytes::new())
}

fn unavailable<T>(ctx: &EventCtx<'_>) -> ExtractError {
    ExtractError::new::<T>(format_args!("not available in a `{}` event", ctx.event))
}

/// Extractors that socketioxide offers for all three kinds of events.
macro_rules! everywhere {
    ($([$($bound:tt)*] $ty:ty),* $(,)?) => {$(
        impl<$($bound)*> FromEvent for $ty {
            fn from_event(ctx: &mut EventCtx<'_>) -> Result<Self, ExtractError> {
                let s = ctx.socket;
                match &mut ctx.payload {
                    // These extractors do not read the payload.
                    Payload::Message(_) => FromMessageParts::from_message_parts(s, &mut no_payload(), &None)
                        .map_err(ExtractError::new::<Self>),
                    Payload::Connect(auth) => FromConnectParts::from_connect_parts(s, auth)
                        .map_err(ExtractError::new::<Self>),
                    Payload::Disconnect(reason) => {
                        FromDisconnectParts::from_disconnect_parts(s, *reason)
                            .map_err(ExtractError::new::<Self>)
                    }
                }
            }
        }
    )*};
}

everywhere!(
    [] SocketRef,
    [] SocketIo,
    [] ProtocolVersion,
    [] TransportType,
);

/// `State<T>`: a value registered with the app (services are `State<Arc<S>>`). Missing
/// state fails the subscriber with kind `missing_state`.
impl<T: Clone + Send + Sync + 'static> FromEvent for State<T> {
    fn from_event(ctx: &mut EventCtx<'_>) -> Result<Self, ExtractError> {
        let s = ctx.socket;
        match &mut ctx.payload {
            Payload::Message(_) => State::from_message_parts(s, &mut no_payload(), &None),
            Payload::Connect(auth) => State::from_connect_parts(s, auth),
            Payload::Disconnect(reason) => State::from_disconnect_parts(s, *reason),
        }
        .map_err(|_| {
            ExtractError::of_kind::<Self>(
                ErrorKind::MissingState,
                format_args!(
                    "no state of type `{}` is registered: add it with \
                     `ServiceManager::builder().service(..)` or `configure_io(|io| io.with_state(..))`",
                    short_type_name(type_name::<T>())
                ),
            )
        })
    }
}

/// The payload decoded once per dispatch and shared by every subscriber that asks for
/// the same `T`: each gets an `Arc<T>` of one decode. Prefer it to [`Data<T>`] when
/// several subscribers of an event read the same payload type (each `Data<T>` decodes
/// the payload again); `Data<T>` stays the choice for one subscriber, or when the
/// subscriber wants to own and change the value. A payload that does not deserialize
/// fails each subscriber that asks with kind `invalid_payload`, as `Data<T>` does.
///
/// ```
/// use specter::prelude::*;
/// use specter::SocketIngress;
/// use specter::SharedData;
///
/// #[derive(serde::Deserialize)]
/// struct Message { text: String }
///
/// # let (_layer, io) = specter::SocketIo::new_layer();
/// # let ingress = SocketIngress::new(io);
/// // both subscribers read one decode of the payload
/// ingress.on("message", |SharedData(m): SharedData<Message>| println!("{}", m.text)).owner("audit").priority(10).subscribe()?;
/// ingress.on("message", |SharedData(m): SharedData<Message>| m.text.len()).owner("length").priority(20).subscribe()?;
/// # Ok::<(), specter::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct SharedData<T>(pub Arc<T>);

impl<T: DeserializeOwned + Send + Sync + 'static> FromEvent for SharedData<T> {
    const KINDS: EventKinds = EventKinds::WITH_PAYLOAD;

    fn from_event(ctx: &mut EventCtx<'_>) -> Result<Self, ExtractError> {
        if let Some(v) = ctx.decoded.get::<T>() {
            return Ok(SharedData(v));
        }
        let s = ctx.socket;
        let decoded = match &mut ctx.payload {
            Payload::Message(v) => Data::<T>::from_message_parts(s, &mut (*v).clone(), &None),
            Payload::Connect(auth) => Data::<T>::from_connect_parts(s, auth),
            Payload::Disconnect(_) => return Err(unavailable::<Self>(ctx)),
        };
        let Data(v) = decoded.map_err(|e| invalid::<Self, T>(ctx, e))?;
        let v = Arc::new(v);
        ctx.decoded.put(v.clone());
        Ok(SharedData(v))
    }
}

/// `Data<T>` is the payload of an emitted event, or the auth payload of `connect`.
impl<T: DeserializeOwned> FromEvent for Data<T> {
    const KINDS: EventKinds = EventKinds::WITH_PAYLOAD;

    fn from_event(ctx: &mut EventCtx<'_>) -> Result<Self, ExtractError> {
        let s = ctx.socket;
        match &mut ctx.payload {
            Payload::Message(v) => Data::from_message_parts(s, &mut (*v).clone(), &None),
            Payload::Connect(auth) => Data::from_connect_parts(s, auth),
            Payload::Disconnect(_) => return Err(unavailable::<Self>(ctx)),
        }
        .map_err(|e| invalid::<Self, T>(ctx, e))
    }
}

/// A payload of `ctx` that did not deserialize into `T` (extractor `X`).
#[cold]
fn invalid<X, T: DeserializeOwned>(ctx: &EventCtx<'_>, error: impl fmt::Display) -> ExtractError {
    let args = match &ctx.payload {
        Payload::Message(v) => payload_error::arguments(v, true),
        Payload::Connect(Some(auth)) => payload_error::arguments(auth, false),
        Payload::Connect(None) => vec![serde_json::json!({})],
        Payload::Disconnect(_) => Vec::new(),
    };
    ExtractError::payload::<X, T>(error, &args)
}

/// `TryData<T>` never fails: it hands the decoding result to the subscriber.
impl<T: DeserializeOwned> FromEvent for TryData<T> {
    const KINDS: EventKinds = EventKinds::WITH_PAYLOAD;

    fn from_event(ctx: &mut EventCtx<'_>) -> Result<Self, ExtractError> {
        let s = ctx.socket;
        match &mut ctx.payload {
            Payload::Message(v) => TryData::from_message_parts(s, &mut (*v).clone(), &None),
            Payload::Connect(auth) => TryData::from_connect_parts(s, auth),
            Payload::Disconnect(_) => return Err(unavailable::<Self>(ctx)),
        }
        .map_err(ExtractError::new::<Self>)
    }
}

/// `Event` is the name of the event, `connect` and `disconnect` included.
impl FromEvent for Event {
    fn from_event(ctx: &mut EventCtx<'_>) -> Result<Self, ExtractError> {
        Ok(Event(ctx.event.to_owned()))
    }
}

/// `Deliver`: emits of this event's subscriber that wait for room in a full buffer.
impl FromEvent for Deliver {
    fn from_event(ctx: &mut EventCtx<'_>) -> Result<Self, ExtractError> {
        let socket = SocketRef::from(ctx.socket.clone());
        Ok(Deliver::new(
            socket,
            ctx.delivery.clone(),
            ctx.text_packets(),
        ))
    }
}

/// `NsParams`: the parameters of the socket's dynamic namespace.
impl FromEvent for crate::subscriber::NsParams {
    fn from_event(ctx: &mut EventCtx<'_>) -> Result<Self, ExtractError> {
        Ok(Self::of(ctx.socket))
    }
}

/// `DisconnectReason` is why a socket left: `disconnect` events only.
impl FromEvent for DisconnectReason {
    const KINDS: EventKinds = EventKinds::DISCONNECT;

    fn from_event(ctx: &mut EventCtx<'_>) -> Result<Self, ExtractError> {
        match ctx.payload {
            Payload::Disconnect(reason) => Ok(reason),
            _ => Err(unavailable::<Self>(ctx)),
        }
    }
}
