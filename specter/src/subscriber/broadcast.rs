//! A broadcast through [`Deliver::to_all`](crate::Deliver::to_all): every recipient
//! waits for room in its own buffer, and the value is serialized once for them all.
//!
//! socketioxide's own broadcast serializes once but fails a full buffer at once, and
//! its public API sends a pre-built packet to one socket only through that broadcast
//! (whose errors do not say which sockets missed it). So the value is serialized once
//! into JSON text, and each recipient's packet copies that text: its serde
//! serialization runs once, not once per recipient. A value with binary data, or a
//! socket whose packets are MessagePack, is serialized per recipient as before.

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use socketioxide::operators::BroadcastOperators;
use socketioxide_core::Value;
use socketioxide_core::parser::Parse;
use socketioxide_parser_common::CommonParser;

use crate::adapter::{Adapter, SocketRef};
use crate::subscriber::delivery::{Attempt, Delivery, Sending, Undelivered, emit_now};
use crate::subscriber::recovery::{SessionLog, logged_args};

/// The one argument of a broadcast, serialized once when it can be.
enum Encoded<'a, T: ?Sized> {
    /// The value's JSON text, which every recipient's packet copies as it is.
    Json(Box<RawValue>),
    /// The value itself, serialized by each recipient's parser.
    Value(&'a T),
}

impl<T: Serialize + ?Sized> Serialize for Encoded<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Encoded::Json(raw) => raw.serialize(serializer),
            Encoded::Value(data) => data.serialize(serializer),
        }
    }
}

/// `data` as one argument for sockets whose packets are JSON `text`: its JSON text
/// when it holds no binary data (which JSON packets carry as attachments).
fn encode<T: Serialize + ?Sized>(data: &T, text: bool) -> Result<Encoded<'_, T>, Undelivered> {
    if !text {
        return Ok(Encoded::Value(data));
    }
    let args = CommonParser
        .encode_value(&(data,), None)
        .map_err(|e| Undelivered::Serialize(e.to_string()))?;
    let Value::Str(args, None) = args else {
        return Ok(Encoded::Value(data));
    };
    // `[value]`: the one argument's text is inside the brackets.
    let inner = args
        .strip_prefix('[')
        .and_then(|a| a.strip_suffix(']'))
        .map(str::to_owned);
    match inner.map(RawValue::from_string) {
        Some(Ok(raw)) => Ok(Encoded::Json(raw)),
        _ => Ok(Encoded::Value(data)),
    }
}

/// Emits `event` with `data` as its one argument to every socket `targets` selects,
/// each waiting for room on its own.
pub(crate) async fn to_all<T: Serialize + Sync + ?Sized>(
    delivery: &Delivery,
    targets: BroadcastOperators<Adapter>,
    event: &str,
    data: &T,
    text: bool,
) -> Result<(), Undelivered> {
    if cfg!(feature = "redis") {
        let Some(room) = delivery.node_room() else {
            // On several nodes the adapter reaches every node and serializes once; a
            // full buffer fails at once, as in socketioxide.
            return targets
                .emit(event, &(data,))
                .await
                .map_err(|e| Undelivered::from_broadcast(e, None));
        };
        // Recovering connections: this node's sockets through their logs, the other
        // nodes' through the adapter (each logs them: `adapter::remote_broadcast`),
        // the broadcast named by an id they all log it with. The logs here first, so
        // that a session being handed to another node forwards it, or that node hears
        // it once its socket is in the rooms.
        let id = socketioxide::socket::Sid::new();
        let spared = vec![room.to_owned(), crate::adapter::broadcast_room(id)];
        let encoded = &(encode(data, text)?,);
        let here = to_sockets(
            delivery,
            targets.clone().sockets(),
            event,
            encoded,
            Some(id),
        );
        let others = async {
            let sent = targets.except(spared).emit(event, &(data,)).await;
            sent.map_err(|e| Undelivered::from_broadcast(e, None))
        };
        let (here, others) = futures_util::future::join(here, others).await;
        return here.and(others);
    }
    let data = &(encode(data, text)?,);
    to_sockets(delivery, targets.sockets(), event, data, None).await
}

/// Emits `event` with `args` (a tuple of arguments) to each of `sockets` of this node,
/// each waiting for room on its own; those with a recovery session log it (as the
/// broadcast `id`, if any), before anything waits.
pub(crate) async fn to_sockets<T: Serialize + Sync + ?Sized>(
    delivery: &Delivery,
    sockets: Vec<SocketRef>,
    event: &str,
    data: &T,
    id: Option<socketioxide::socket::Sid>,
) -> Result<(), Undelivered> {
    let of = sockets.len();
    if of == 0 {
        return Ok(());
    }
    // First every socket with room at once, so that nobody waits for a slow one.
    let mut full = Vec::new();
    let mut sessions = Vec::new();
    let mut missed = 0;
    for socket in sockets {
        if let Some(log) = delivery.session_log(&socket) {
            // A session's old socket and its new one may both be in the room a moment.
            if !sessions.iter().any(|s| std::sync::Arc::ptr_eq(s, &log)) {
                sessions.push(log);
            }
            continue;
        }
        match delivery.try_send(socket.id, Sending::Emit, || socket.emit(event, data)) {
            Attempt::Done(Ok(())) => {}
            Attempt::Done(Err(_)) => missed += 1,
            Attempt::Full => full.push(socket),
        }
    }
    let waits = full.iter().map(|s| emit_now(delivery, s, event, data));
    let waits = futures_util::future::join_all(waits);
    // The sockets with a recovery session: logged at once, then sent in their order.
    let logged = to_sessions(delivery, sessions, event, data, id);
    let (logged, waited) = futures_util::future::join(logged, waits).await;
    missed += logged?;
    missed += waited.into_iter().filter(Result::is_err).count();
    if missed == 0 {
        Ok(())
    } else {
        Err(Undelivered::Missed {
            missed,
            of: Some(of),
        })
    }
}

/// Arguments already in JSON text, sent as they are, one after the other.
#[cfg(feature = "redis")]
pub(crate) struct Spread<'a>(pub &'a [Box<RawValue>]);

#[cfg(feature = "redis")]
impl Serialize for Spread<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        // A tuple: socketioxide spreads it into the event's arguments.
        let mut args = serializer.serialize_tuple(self.0.len())?;
        for arg in self.0 {
            args.serialize_element(arg)?;
        }
        args.end()
    }
}

/// Logs `data` in each of `sessions` (its text shared by them all) and sends it in
/// each one's order; how many were missed. A value with binary data is sent unlogged.
async fn to_sessions<T: Serialize + Sync + ?Sized>(
    delivery: &Delivery,
    sessions: Vec<std::sync::Arc<SessionLog>>,
    event: &str,
    data: &T,
    id: Option<socketioxide::socket::Sid>,
) -> Result<usize, Undelivered> {
    if sessions.is_empty() {
        return Ok(0);
    }
    let Some(args) = logged_args(data)? else {
        let sockets = sessions.iter().filter_map(|log| log.socket());
        let sockets: Vec<_> = sockets.collect();
        let waits = sockets.iter().map(|s| emit_now(delivery, s, event, data));
        let sent = futures_util::future::join_all(waits).await;
        return Ok(sent.into_iter().filter(Result::is_err).count());
    };
    let logged = sessions
        .iter()
        .map(|log| log.emit(delivery, event, args.clone(), id));
    let logged = futures_util::future::join_all(logged).await;
    Ok(logged.into_iter().filter(Result::is_err).count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Said<'a> {
        user: &'a str,
        text: &'a str,
        seq: u64,
    }

    fn packet<T: Serialize + ?Sized>(data: &T) -> Value {
        CommonParser.encode_value(data, Some("said")).unwrap()
    }

    #[test]
    fn a_value_encoded_once_is_the_packet_it_would_have_been() {
        let said = Said {
            user: "ana \"the\" <b>",
            text: "olá, 世界\n",
            seq: 7,
        };
        let encoded = encode(&said, true).unwrap();
        assert!(matches!(encoded, Encoded::Json(_)));
        assert_eq!(packet(&(&encoded,)), packet(&(&said,)));
        for value in [
            serde_json::json!([1, [2]]),
            serde_json::json!("x"),
            serde_json::json!(null),
        ] {
            let encoded = encode(&value, true).unwrap();
            assert!(matches!(encoded, Encoded::Json(_)));
            assert_eq!(packet(&(&encoded,)), packet(&(&value,)));
        }
    }

    #[test]
    fn binary_data_and_other_parsers_are_serialized_per_recipient() {
        let file = (bytes::Bytes::from_static(b"\x00\x01"), 3);
        let encoded = encode(&file, true).unwrap();
        assert!(matches!(encoded, Encoded::Value(_)));
        assert_eq!(packet(&(&encoded,)), packet(&(&file,)));
        assert!(matches!(encode(&1, false).unwrap(), Encoded::Value(_)));
    }
}
