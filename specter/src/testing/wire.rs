//! How the test client's packets travel: JSON text with binary attachments, or
//! MessagePack (feature `msgpack`); and how it answers the server's asks.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

#[cfg(feature = "msgpack")]
use super::msgpack;
use super::packet::{self, Arg};

/// How the client answers the server's requests for one event.
pub(crate) type Answerer = Arc<dyn Fn(&[Value]) -> Option<Vec<Value>> + Send + Sync>;

/// The client's answerers, by event name.
#[derive(Clone, Default)]
pub(crate) struct Answerers(pub HashMap<String, Answerer>);

impl std::fmt::Debug for Answerers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// How packets travel: JSON text (with binary attachments), or MessagePack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wire {
    Json,
    #[cfg(feature = "msgpack")]
    MsgPack,
}

impl Wire {
    pub fn connect(self, ns: &str, auth: &Value) -> Vec<Message> {
        match self {
            Wire::Json => vec![Message::text(packet::connect(ns, auth))],
            #[cfg(feature = "msgpack")]
            Wire::MsgPack => vec![Message::binary(msgpack::connect(ns, auth))],
        }
    }

    pub fn disconnect(self, ns: &str) -> Vec<Message> {
        match self {
            Wire::Json => vec![Message::text(format!("41{}", packet::ns_prefix(ns)))],
            #[cfg(feature = "msgpack")]
            Wire::MsgPack => vec![Message::binary(msgpack::disconnect(ns))],
        }
    }

    pub fn event(self, ns: &str, ack: Option<i64>, event: &str, args: Vec<Arg>) -> Vec<Message> {
        match self {
            Wire::Json => {
                let (text, files) = packet::event_with_attachments(ns, ack, event, args);
                std::iter::once(Message::text(text))
                    .chain(files.into_iter().map(Message::binary))
                    .collect()
            }
            #[cfg(feature = "msgpack")]
            Wire::MsgPack => vec![Message::binary(msgpack::event(ns, ack, event, &args))],
        }
    }

    pub fn ack(self, ns: &str, id: i64, args: &[Value]) -> Message {
        match self {
            Wire::Json => Message::text(packet::ack(ns, id, args)),
            #[cfg(feature = "msgpack")]
            Wire::MsgPack => Message::binary(msgpack::ack(ns, id, args)),
        }
    }
}
