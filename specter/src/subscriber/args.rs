//! An event's arguments as a client sent them: [`Args`] takes them all, binary ones in
//! place ([`Arg::Binary`], at any depth); [`Spread`] answers or emits several
//! arguments by explicit choice. Everything else is one argument: a returned tuple,
//! array or tuple struct is one ack argument, as it is one emit argument through
//! [`Deliver`](crate::Deliver).
//!
//! Typed positional arguments need no wrapper: `Data<(String, u32)>` reads the first
//! two arguments (socketioxide's rule: a tuple is the argument list, anything else
//! the first argument).

use std::collections::BTreeMap;
use std::fmt;

use bytes::Bytes;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, SerializeTuple, Serializer};
use serde::{Deserialize, Serialize};

use crate::subscriber::extract::{EventCtx, EventKinds, ExtractError, FromEvent};
use crate::subscriber::outcome::{IntoOutcome, Outcome, Reply};

/// One argument, as JSON with binary data in place: what a socket.io client sends,
/// a `Buffer` or `ArrayBuffer` anywhere in it included.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(serde_json::Number),
    /// A string.
    Text(String),
    /// Binary data: an attachment on the wire.
    Binary(Bytes),
    /// An array.
    Array(Vec<Arg>),
    /// An object.
    Object(BTreeMap<String, Arg>),
}

impl Arg {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Arg::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The bytes, if this is binary data.
    pub fn as_bytes(&self) -> Option<&Bytes> {
        match self {
            Arg::Binary(b) => Some(b),
            _ => None,
        }
    }
}

impl From<serde_json::Value> for Arg {
    fn from(v: serde_json::Value) -> Self {
        use serde_json::Value as J;
        match v {
            J::Null => Arg::Null,
            J::Bool(b) => Arg::Bool(b),
            J::Number(n) => Arg::Number(n),
            J::String(s) => Arg::Text(s),
            J::Array(a) => Arg::Array(a.into_iter().map(Arg::from).collect()),
            J::Object(o) => Arg::Object(o.into_iter().map(|(k, v)| (k, Arg::from(v))).collect()),
        }
    }
}

/// JSON, with binary data as arrays of bytes.
impl From<Arg> for serde_json::Value {
    fn from(a: Arg) -> Self {
        use serde_json::Value as J;
        match a {
            Arg::Null => J::Null,
            Arg::Bool(b) => J::Bool(b),
            Arg::Number(n) => J::Number(n),
            Arg::Text(s) => J::String(s),
            Arg::Binary(b) => J::Array(b.iter().map(|&x| J::from(x)).collect()),
            Arg::Array(a) => J::Array(a.into_iter().map(J::from).collect()),
            Arg::Object(o) => J::Object(o.into_iter().map(|(k, v)| (k, J::from(v))).collect()),
        }
    }
}

impl From<Bytes> for Arg {
    fn from(b: Bytes) -> Self {
        Arg::Binary(b)
    }
}

impl Serialize for Arg {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Arg::Null => s.serialize_unit(),
            Arg::Bool(b) => s.serialize_bool(*b),
            Arg::Number(n) => n.serialize(s),
            Arg::Text(v) => s.serialize_str(v),
            Arg::Binary(b) => s.serialize_bytes(b),
            Arg::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Arg::Object(map) => {
                let mut m = s.serialize_map(Some(map.len()))?;
                for (k, v) in map {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
        }
    }
}

struct ArgVisitor;

impl<'de> Visitor<'de> for ArgVisitor {
    type Value = Arg;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any argument")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Arg, E> {
        Ok(Arg::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Arg, E> {
        Ok(Arg::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Arg, E> {
        Ok(Arg::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Arg, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Arg::Null, Arg::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Arg, E> {
        Ok(Arg::Text(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Arg, E> {
        Ok(Arg::Text(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Arg, E> {
        Ok(Arg::Binary(Bytes::copy_from_slice(v)))
    }
    fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Arg, E> {
        Ok(Arg::Binary(v.into()))
    }
    fn visit_none<E>(self) -> Result<Arg, E> {
        Ok(Arg::Null)
    }
    fn visit_unit<E>(self) -> Result<Arg, E> {
        Ok(Arg::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Arg, D::Error> {
        Arg::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Arg, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Arg::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Arg, A::Error> {
        let mut out = BTreeMap::new();
        while let Some((k, v)) = map.next_entry::<String, Arg>()? {
            out.insert(k, v);
        }
        Ok(Arg::Object(out))
    }
}

impl<'de> Deserialize<'de> for Arg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ArgVisitor)
    }
}

/// All of an event's arguments, binary ones in place. As an extractor:
/// `Args(args): Args`; returned from a subscriber it answers the ack with each of its
/// elements as an argument of the client's callback.
///
/// ```
/// use specter::prelude::*;
/// use specter::SocketIngress;
/// use specter::{Arg, Args};
///
/// // echoes every argument back, in order, as the ack's arguments
/// fn echo(Args(args): Args) -> Args {
///     Args(args)
/// }
/// # let (_layer, io) = specter::SocketIo::new_layer();
/// # SocketIngress::new(io).on("echo", echo).owner("echo").subscribe().unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Args(pub Vec<Arg>);

// A tuple of any length to serde: socketioxide reads a tuple as the whole argument list
// (and writes one as several arguments), anything else as the first argument.
impl<'de> Deserialize<'de> for Args {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct AllVisitor;
        impl<'de> Visitor<'de> for AllVisitor {
            type Value = Args;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the event's arguments")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Args, A::Error> {
                let mut args = Vec::new();
                while let Some(arg) = seq.next_element()? {
                    args.push(arg);
                }
                Ok(Args(args))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Args, E> {
                Ok(Args::default())
            }
        }
        d.deserialize_tuple(usize::MAX, AllVisitor)
    }
}

impl Serialize for Args {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut tuple = s.serialize_tuple(self.0.len())?;
        for arg in &self.0 {
            tuple.serialize_element(arg)?;
        }
        tuple.end()
    }
}

/// `Args` are the arguments of an emitted event, or the auth payload of `connect` (one
/// argument).
impl FromEvent for Args {
    const KINDS: EventKinds = EventKinds::WITH_PAYLOAD;

    fn from_event(ctx: &mut EventCtx<'_>) -> Result<Self, ExtractError> {
        socketioxide::extract::Data::<Args>::from_event(ctx).map(|d| d.0)
    }
}

impl IntoOutcome for Args {
    fn into_outcome(self) -> Outcome {
        Outcome::Reply(Reply::spread(self))
    }
}

/// Several arguments, by explicit choice: `Spread((a, b, c))` returned from a
/// subscriber answers the client's callback with three arguments, `(a, b, c) =>`; any
/// other value (a tuple, an array, a tuple struct) is one argument.
///
/// ```
/// use specter::prelude::*;
/// use specter::SocketIngress;
/// use specter::Spread;
///
/// fn stat(Data(path): Data<String>) -> Spread<(String, u64, bool)> {
///     Spread((path, 42, true))
/// }
/// # let (_layer, io) = specter::SocketIo::new_layer();
/// # SocketIngress::new(io).on("stat", stat).owner("fs").subscribe().unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spread<T>(pub T);

impl<T: Serialize + Send + 'static> IntoOutcome for Spread<T> {
    fn into_outcome(self) -> Outcome {
        Outcome::Reply(Reply::spread(self.0))
    }
}
