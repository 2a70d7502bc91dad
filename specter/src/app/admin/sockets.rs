//! The sockets as the UI shows them, and the ones an operation of the UI is for, on
//! every node.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use socketioxide::socket::RemoteSocket;

use super::login;
use super::settings::Reveal;
use crate::adapter::{Adapter, SocketIo, SocketRef};

/// What the UI sees in place of a credential.
pub(super) const REDACTED: &str = "[redacted]";

/// Headers that carry credentials.
const SECRET_HEADERS: [&str; 4] = [
    "cookie",
    "authorization",
    "proxy-authorization",
    "set-cookie",
];

/// Whether a query parameter's name looks like it carries a secret.
pub(super) fn secret_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "token",
        "key",
        "secret",
        "pass",
        "auth",
        "sig",
        "session",
        "jwt",
        "credential",
    ]
    .iter()
    .any(|s| name.contains(s))
}

/// When a socket of a shown namespace connected: the UI's "creation date".
#[derive(Clone, Copy)]
pub(super) struct ConnectedAt(pub SystemTime);

/// Milliseconds since the epoch, as the UI's dates are.
pub(super) fn epoch_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The sockets of `nsp`, on every node, an operation of the UI is for: those in the
/// room `filter`, or all without one. In node's socket.io every socket is in a room
/// named by its id and the UI filters by it to mean one socket; here such an id names
/// the socket directly.
pub(super) async fn targets(
    io: &SocketIo,
    nsp: &str,
    filter: Option<&str>,
) -> Vec<RemoteSocket<Adapter>> {
    let all = fetch(io, nsp, None).await;
    let Some(filter) = filter else {
        return all;
    };
    match all.into_iter().find(|s| s.data().id.to_string() == filter) {
        Some(socket) => vec![socket],
        None => fetch(io, nsp, Some(filter)).await,
    }
}

/// The sockets of `nsp` (in `room`, when given) on every node; none, with a warning,
/// when the adapter cannot list them.
async fn fetch(io: &SocketIo, nsp: &str, room: Option<&str>) -> Vec<RemoteSocket<Adapter>> {
    let Some(op) = io.of(nsp) else {
        return Vec::new();
    };
    let op = match room {
        Some(room) => op.within(room.to_owned()),
        None => op,
    };
    // The nodes that did not answer are named in a `warn` line and in `/health`.
    let (sockets, _silent) = crate::adapter::asking_nodes(op.fetch_sockets()).await;
    sockets.unwrap_or_else(|e| {
        tracing::warn!(error = %e, nsp, "the admin UI could not list the sockets");
        Vec::new()
    })
}

/// A socket of this node as the UI shows it: with its handshake (credentials redacted
/// unless `reveal` says otherwise) and transport.
pub(super) fn serialize(socket: &SocketRef, nsp: &str, reveal: Reveal) -> Value {
    let parts = socket.req_parts();
    let hide = !reveal.credentials;
    let headers: serde_json::Map<String, Value> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            let value = match hide && SECRET_HEADERS.contains(&k.as_str()) {
                true => REDACTED,
                false => v.to_str().unwrap_or_default(),
            };
            (k.to_string(), json!(value))
        })
        .collect();
    let query: serde_json::Map<String, Value> = parts
        .uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| match hide && secret_param(k) {
            true => (k.to_owned(), json!(REDACTED)),
            false => (k.to_owned(), json!(v)),
        })
        .collect();
    let mut url = parts.uri.path().to_owned();
    if !query.is_empty() {
        let shown: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
            .collect();
        url = format!("{url}?{}", shown.join("&"));
    }
    let transport = match socket.transport_type() {
        crate::TransportType::Websocket => "websocket",
        crate::TransportType::Polling => "polling",
    };
    let forwarded = parts
        .headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_owned());
    let address = match (reveal.forwarded_for, forwarded) {
        (true, Some(forwarded)) => forwarded,
        _ => login::peer(socket).map_or_else(String::new, |a| a.ip().to_string()),
    };
    let rooms = socket.rooms().iter().map(|r| r.to_string()).collect();
    let mut value = shown(&socket.id.to_string(), nsp, rooms);
    if let Some(ConnectedAt(at)) = socket.extensions.get::<ConnectedAt>() {
        value["handshake"]["issued"] = json!(epoch_ms(at));
    }
    value["transport"] = json!(transport);
    value["handshake"]["address"] = json!(address);
    value["handshake"]["headers"] = Value::Object(headers);
    value["handshake"]["query"] = Value::Object(query);
    value["handshake"]["url"] = json!(url);
    value
}

/// A socket as the UI shows it, from what every node knows of it.
pub(super) fn shown(id: &str, nsp: &str, rooms: Vec<String>) -> Value {
    json!({
        "id": id,
        "clientId": id,
        "transport": "",
        "nsp": nsp,
        "data": {},
        "handshake": {
            "address": "",
            "headers": {},
            "query": {},
            "issued": 0,
            "secure": false,
            "time": "",
            "url": "",
            "xdomain": false,
        },
        "rooms": rooms,
    })
}

/// The sockets of `namespaces` on every node: this node's in full, the others' with
/// their rooms (asked of their nodes at once).
pub(super) async fn all_sockets(
    io: &SocketIo,
    namespaces: &[String],
    reveal: Reveal,
) -> Vec<Value> {
    let mut shown_sockets = Vec::new();
    for nsp in namespaces {
        let Some(op) = io.of(nsp) else { continue };
        let local: HashMap<String, SocketRef> = op
            .sockets()
            .into_iter()
            .map(|s| (s.id.to_string(), s))
            .collect();
        let every = fetch(io, nsp, None).await;
        let (here, there): (Vec<_>, Vec<_>) = every
            .into_iter()
            .partition(|s| local.contains_key(&s.data().id.to_string()));
        shown_sockets.extend(
            here.iter()
                .filter_map(|s| local.get(&s.data().id.to_string()))
                .map(|s| serialize(s, nsp, reveal)),
        );
        let rooms = futures_util::future::join_all(there.iter().map(|s| s.rooms())).await;
        shown_sockets.extend(there.iter().zip(rooms).map(|(s, rooms)| {
            let rooms = rooms
                .map(|r| r.iter().map(|r| r.to_string()).collect())
                .unwrap_or_default();
            shown(&s.data().id.to_string(), nsp, rooms)
        }));
    }
    shown_sockets
}
