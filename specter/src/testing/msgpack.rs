//! Socket.IO packets in MessagePack (feature `msgpack`), as node's
//! `socket.io-msgpack-parser` writes them: one map `{type, nsp, data, id}` per packet,
//! sent as a binary message, binary data in place.

use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use super::packet::{Arg, Packet, Partial};
use crate::subscriber::Arg as Any;

/// One argument as the client sends it: JSON, or bytes in place.
struct Out<'a>(&'a Arg);

impl Serialize for Out<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Arg::Json(v) => v.serialize(s),
            Arg::Binary(b) => s.serialize_bytes(b),
        }
    }
}

#[derive(Serialize)]
struct Outgoing<'a, D: Serialize> {
    #[serde(rename = "type")]
    kind: u8,
    nsp: &'a str,
    data: D,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<i64>,
}

fn encode<D: Serialize>(kind: u8, nsp: &str, data: D, id: Option<i64>) -> Vec<u8> {
    let packet = Outgoing {
        kind,
        nsp,
        data,
        id,
    };
    rmp_serde::to_vec_named(&packet).expect("a packet serializes")
}

/// CONNECT to `ns` with `auth`.
pub(crate) fn connect(ns: &str, auth: &Value) -> Vec<u8> {
    encode(0, ns, auth, None)
}

/// DISCONNECT from `ns`.
pub(crate) fn disconnect(ns: &str) -> Vec<u8> {
    encode::<Option<()>>(1, ns, None, None)
}

/// An EVENT: its name, then its arguments.
pub(crate) fn event(ns: &str, ack: Option<i64>, event: &str, args: &[Arg]) -> Vec<u8> {
    let name = Arg::Json(Value::from(event));
    let data: Vec<Out<'_>> = std::iter::once(&name).chain(args).map(Out).collect();
    encode(2, ns, data, ack)
}

/// An ACK of the server's request `id`.
pub(crate) fn ack(ns: &str, id: i64, args: &[Value]) -> Vec<u8> {
    encode(3, ns, args, Some(id))
}

#[derive(Deserialize)]
struct Incoming {
    #[serde(rename = "type")]
    kind: u8,
    data: Option<Any>,
    id: Option<i64>,
}

/// A packet from the server; binary data become arrays of bytes, as over JSON. It is
/// read as a JSON packet is, once its map is taken apart.
pub(crate) fn decode(bytes: &[u8]) -> Result<Packet, String> {
    let p: Incoming = rmp_serde::from_slice(bytes).map_err(|e| format!("bad packet: {e}"))?;
    if p.kind > 9 {
        return Err(format!("unknown Socket.IO packet type {}", p.kind));
    }
    Partial {
        kind: b'0' + p.kind,
        ack: p.id,
        data: p.data.map(Value::from).unwrap_or(Value::Null),
        attachments: 0,
        received: Vec::new(),
    }
    .finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_event_round_trips_with_binary_in_place() {
        let bytes = event(
            "/",
            Some(4),
            "up",
            &[json!({"a": 1}).into(), vec![9u8, 8].into()],
        );
        assert_eq!(
            decode(&bytes).unwrap(),
            Packet::Event("up".into(), vec![json!({"a": 1}), json!([9, 8])], Some(4))
        );
    }
}
