//! The server side of the official Socket.IO Admin UI (feature `admin`): the protocol
//! of the npm package `@socket.io/admin-ui` 0.5, read from its server code and written
//! here on Specter's own parts, as handlers.
//!
//! * A handler on the `/admin` namespace authenticates the UI (basic auth against a
//!   bcrypt hash, then a session id), sends it the `config` and `all_sockets`,
//!   `server_stats` every 2 s from a background task of its lifecycle, and carries out
//!   the UI's `join`, `leave`, `_disconnect` and `emit` (none in read-only mode).
//! * A handler on each namespace the UI shows tells it, as they happen, of every socket
//!   that connects (`socket_connected`, from the last `connect` subscriber) or leaves
//!   (`socket_disconnected`); the rooms joined and left from the UI are told too
//!   (`room_joined`, `room_left`).
//! * On several nodes (feature `redis`) the UI sees every node: `all_sockets` and the
//!   operations reach the sockets of every node through the adapter, and each node's
//!   `server_stats` and socket events reach the UI wherever it is connected. A socket
//!   of another node is shown with its id, namespace and rooms; its handshake stays on
//!   its node.
//!
//! Not covered: the aggregated event counts (the dashboard's charts stay empty), the
//! events of each socket (the npm package's development mode), and rooms that the
//! app's own code joins or leaves (the UI sees them at its next connection).
//! Every connect and disconnect of a shown namespace costs one emit to `/admin`,
//! which on Redis is one publish.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::{Value, json};
use socketioxide::extract::Data;
use socketioxide::socket::{DisconnectReason, RemoteSocket};

use crate::adapter::{Adapter, SocketIo, SocketRef};
use crate::app::events::Events;
use crate::app::handler::Handler;
use crate::app::hooks::{DynHooks, Hooks};
use crate::app::lifecycle::Lifecycle;
use crate::error::BoxError;
use crate::subscriber::Source;

/// How often the UI gets `server_stats`, as the npm package sends them.
const STATS_EVERY: Duration = Duration::from_secs(2);

/// The namespace the UI connects to.
pub(crate) const ADMIN_NAMESPACE: &str = "/admin";

/// The name of the `/admin` handler, which owns its subscriptions.
pub(crate) const OWNER: &str = "admin-ui";

/// The Admin UI's settings: `ServiceManager::builder().admin_ui(AdminUi::basic_auth(..)?)`.
///
/// ```
/// use specter::admin::AdminUi;
///
/// let hash = bcrypt::hash("changeit", 4).unwrap();
/// let admin = AdminUi::basic_auth("admin", &hash).unwrap().readonly(true);
/// assert!(AdminUi::basic_auth("admin", "not a bcrypt hash").is_err());
/// # let _ = admin;
/// ```
#[derive(Debug, Clone)]
pub struct AdminUi {
    auth: Option<(String, String)>,
    readonly: bool,
    namespaces: Vec<String>,
}

impl AdminUi {
    /// The UI logs in as `username` with the password whose bcrypt hash is
    /// `password_hash`; fails when the hash is not a bcrypt hash.
    pub fn basic_auth(username: &str, password_hash: &str) -> Result<Self, String> {
        bcrypt::verify("", password_hash)
            .map_err(|e| format!("the password must be a bcrypt hash: {e}"))?;
        Ok(Self {
            auth: Some((username.to_owned(), password_hash.to_owned())),
            readonly: false,
            namespaces: vec!["/".to_owned()],
        })
    }

    /// No authentication at all: anyone who reaches `/admin` may operate the app.
    pub fn without_auth() -> Self {
        Self {
            auth: None,
            readonly: false,
            namespaces: vec!["/".to_owned()],
        }
    }

    /// Read-only: the UI shows, and may not join, leave, disconnect or emit.
    pub fn readonly(mut self, readonly: bool) -> Self {
        self.readonly = readonly;
        self
    }

    /// The namespaces the UI shows (default `/`).
    pub fn namespaces(mut self, namespaces: &[&str]) -> Self {
        self.namespaces = namespaces.iter().map(|n| (*n).to_owned()).collect();
        self
    }

    /// The handlers that serve the UI: the `/admin` one, and a watch of each namespace
    /// it shows.
    pub(crate) fn handlers(self) -> Vec<Arc<dyn crate::app::handler::EventOwner>> {
        let mut handlers: Vec<Arc<dyn crate::app::handler::EventOwner>> = self
            .namespaces
            .iter()
            .map(|ns| {
                Arc::new(AdminWatch {
                    name: format!("{OWNER} watch {ns}"),
                    namespace: ns.clone(),
                }) as _
            })
            .collect();
        handlers.insert(0, Arc::new(AdminHandler::new(self)));
        handlers
    }
}

/// The `/admin` handler.
pub(crate) struct AdminHandler {
    config: AdminUi,
    sessions: Mutex<HashSet<String>>,
    started: Instant,
}

impl AdminHandler {
    pub fn new(config: AdminUi) -> Self {
        Self {
            config,
            sessions: Mutex::default(),
            started: Instant::now(),
        }
    }

    fn features(&self) -> Vec<&'static str> {
        let mut features = if self.config.readonly {
            vec![]
        } else {
            vec![
                "EMIT",
                "JOIN",
                "LEAVE",
                "DISCONNECT",
                "MJOIN",
                "MLEAVE",
                "MDISCONNECT",
            ]
        };
        features.push("AGGREGATED_EVENTS");
        features
    }

    /// Authenticates the UI; once it is connected, sends its session, the config and
    /// every socket.
    fn on_connect(
        &self,
        socket: SocketRef,
        io: SocketIo,
        Data(auth): Data<Value>,
    ) -> Result<(), String> {
        let new_session = match &self.config.auth {
            None => None,
            Some((username, hash)) => {
                let known = auth["sessionId"]
                    .as_str()
                    .is_some_and(|id| self.sessions.lock().unwrap().contains(id));
                if known {
                    None
                } else {
                    let user_ok = auth["username"].as_str() == Some(username.as_str());
                    let password = auth["password"].as_str().unwrap_or_default();
                    if !(user_ok && bcrypt::verify(password, hash).unwrap_or(false)) {
                        return Err("invalid credentials".into());
                    }
                    let id = session_id();
                    self.sessions.lock().unwrap().insert(id.clone());
                    Some(id)
                }
            }
        };
        let config = json!({ "supportedFeatures": self.features() });
        let namespaces = self.config.namespaces.clone();
        // The socket is not connected yet (this runs as the connect middleware): the
        // first emits wait for it.
        tokio::spawn(async move {
            for _ in 0..200 {
                if socket.connected() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            if let Some(id) = new_session {
                socket.emit("session", &id).ok();
            }
            socket.emit("config", &config).ok();
            let sockets = all_sockets(&io, &namespaces).await;
            socket.emit("all_sockets", &(sockets,)).ok();
        });
        Ok(())
    }

    async fn join(&self, io: SocketIo, Data(args): Data<RoomChange>) {
        change_rooms(&io, args, Room::Join).await;
    }

    async fn leave(&self, io: SocketIo, Data(args): Data<RoomChange>) {
        change_rooms(&io, args, Room::Leave).await;
    }

    async fn disconnect(
        &self,
        io: SocketIo,
        Data((nsp, _close, filter)): Data<(String, bool, Option<String>)>,
    ) {
        for socket in targets(&io, &nsp, filter.as_deref()).await {
            if let Err(e) = socket.disconnect().await {
                tracing::warn!(error = %e, "the admin UI's disconnect failed");
            }
        }
    }

    /// `emit(nsp, filter, event, arg)`: the UI's emit form, with one argument.
    async fn emit(
        &self,
        io: SocketIo,
        Data((nsp, filter, event, arg)): Data<(String, Option<String>, String, Value)>,
    ) {
        for socket in targets(&io, &nsp, filter.as_deref()).await {
            if let Err(e) = socket.emit(&event, &(&arg,)).await {
                tracing::warn!(error = %e, "the admin UI's emit failed");
            }
        }
    }
}

/// The UI's `join` and `leave`: `(nsp, room, filter)`.
type RoomChange = (String, String, Option<String>);

enum Room {
    Join,
    Leave,
}

/// Makes the sockets `filter` names join or leave `room`, and tells the UI of each.
async fn change_rooms(io: &SocketIo, (nsp, room, filter): RoomChange, change: Room) {
    for socket in targets(io, &nsp, filter.as_deref()).await {
        let (done, told) = match change {
            Room::Join => (socket.join(room.clone()).await, "room_joined"),
            Room::Leave => (socket.leave(room.clone()).await, "room_left"),
        };
        if let Err(e) = done {
            tracing::warn!(error = %e, told, "the admin UI's room change failed");
            continue;
        }
        let id = socket.data().id.to_string();
        tell(io, told, &(&nsp, &room, id)).await;
    }
}

/// Tells every connected Admin UI, on every node, of `event` with `args` (a tuple: one
/// argument each).
async fn tell(io: &SocketIo, event: &str, args: &impl Serialize) {
    let Some(admin) = io.of(ADMIN_NAMESPACE) else {
        return;
    };
    if let Err(e) = admin.emit(event, args).await {
        tracing::debug!(error = %e, event, "the admin UI was not told");
    }
}

/// The sockets of `nsp`, on every node, an operation of the UI is for: those in the
/// room `filter`, or all without one. In node's socket.io every socket is in a room
/// named by its id and the UI filters by it to mean one socket; here such an id names
/// the socket directly.
async fn targets(io: &SocketIo, nsp: &str, filter: Option<&str>) -> Vec<RemoteSocket<Adapter>> {
    let fetch = async |room: Option<&str>| {
        let Some(op) = io.of(nsp) else {
            return Vec::new();
        };
        let op = match room {
            Some(room) => op.within(room.to_owned()),
            None => op,
        };
        op.fetch_sockets().await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, nsp, "the admin UI could not list the sockets");
            Vec::new()
        })
    };
    let all = fetch(None).await;
    let Some(filter) = filter else {
        return all;
    };
    match all.into_iter().find(|s| s.data().id.to_string() == filter) {
        Some(socket) => vec![socket],
        None => fetch(Some(filter)).await,
    }
}

/// A random session id (engine.io's random socket id generator).
fn session_id() -> String {
    socketioxide::socket::Sid::new().to_string()
}

/// This node, as the UI's server list names it: `host#pid`, so that several nodes on
/// one host stay apart.
fn server_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "specter".into());
    format!("{host}#{}", std::process::id())
}

/// A socket of this node as the UI shows it: with its handshake and transport.
fn serialize(socket: &SocketRef, nsp: &str) -> Value {
    let parts = socket.req_parts();
    let headers: serde_json::Map<String, Value> = parts
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or_default())))
        .collect();
    let query: serde_json::Map<String, Value> = parts
        .uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_owned(), json!(v)))
        .collect();
    let transport = match socket.transport_type() {
        crate::TransportType::Websocket => "websocket",
        crate::TransportType::Polling => "polling",
    };
    let address = parts
        .headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let rooms = socket.rooms().iter().map(|r| r.to_string()).collect();
    let mut value = shown(&socket.id.to_string(), nsp, rooms);
    if let Some(ConnectedAt(at)) = socket.extensions.get::<ConnectedAt>() {
        let ms = at
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        value["handshake"]["issued"] = json!(ms);
    }
    value["transport"] = json!(transport);
    value["handshake"]["address"] = json!(address);
    value["handshake"]["headers"] = Value::Object(headers);
    value["handshake"]["query"] = Value::Object(query);
    value["handshake"]["url"] = json!(parts.uri.to_string());
    value
}

/// A socket as the UI shows it, from what every node knows of it.
fn shown(id: &str, nsp: &str, rooms: Vec<String>) -> Value {
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
async fn all_sockets(io: &SocketIo, namespaces: &[String]) -> Vec<Value> {
    let mut shown_sockets = Vec::new();
    for nsp in namespaces {
        let Some(op) = io.of(nsp) else { continue };
        let local: HashMap<String, SocketRef> = op
            .clone()
            .sockets()
            .into_iter()
            .map(|s| (s.id.to_string(), s))
            .collect();
        let every = op.fetch_sockets().await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, nsp, "the admin UI could not list the sockets");
            Vec::new()
        });
        let (here, there): (Vec<_>, Vec<_>) = every
            .into_iter()
            .partition(|s| local.contains_key(&s.data().id.to_string()));
        shown_sockets.extend(
            here.iter()
                .filter_map(|s| local.get(&s.data().id.to_string()))
                .map(|s| serialize(s, nsp)),
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

/// Node's socket.io names of why a socket left, which the UI shows.
fn reason_name(reason: DisconnectReason) -> &'static str {
    match reason {
        DisconnectReason::TransportClose => "transport close",
        DisconnectReason::MultipleHttpPollingError => "transport error",
        DisconnectReason::PacketParsingError => "parse error",
        DisconnectReason::TransportError => "transport error",
        DisconnectReason::HeartbeatTimeout => "ping timeout",
        DisconnectReason::ClientNSDisconnect => "client namespace disconnect",
        DisconnectReason::ServerNSDisconnect => "server namespace disconnect",
        DisconnectReason::ClosingServer => "server shutting down",
    }
}

impl Handler for AdminHandler {
    fn name(&self) -> &str {
        OWNER
    }

    fn namespace(&self) -> &str {
        ADMIN_NAMESPACE
    }

    fn source(&self) -> Source {
        Source {
            file: file!(),
            line: line!(),
        }
    }

    fn build_events(&self, events: &mut Events<Self>) {
        events.on("connect", Self::on_connect);
        if !self.config.readonly {
            events.on("join", Self::join);
            events.on("leave", Self::leave);
            events.on("_disconnect", Self::disconnect);
            events.on("emit", Self::emit);
        }
    }

    fn hooks(&self) -> Option<&dyn DynHooks> {
        Some(self)
    }
}

impl Hooks for AdminHandler {
    async fn on_setup(&self, lifecycle: &Lifecycle) -> Result<(), BoxError> {
        let Some(io) = lifecycle.io().cloned() else {
            return Ok(());
        };
        let namespaces = self.config.namespaces.clone();
        let started = self.started;
        let server = server_id();
        lifecycle.every("admin UI stats", STATS_EVERY, move || {
            let (io, namespaces, server) = (io.clone(), namespaces.clone(), server.clone());
            async move {
                let mut clients = 0;
                let mut polling = 0;
                let counts: Vec<Value> = namespaces
                    .iter()
                    .filter_map(|nsp| io.of(nsp.clone()).map(|op| (nsp, op.sockets())))
                    .map(|(nsp, sockets)| {
                        clients += sockets.len();
                        polling += sockets
                            .iter()
                            .filter(|s| s.transport_type() == crate::TransportType::Polling)
                            .count();
                        json!({ "name": nsp, "socketsCount": sockets.len() })
                    })
                    .collect();
                let stats = json!({
                    "serverId": server,
                    "hostname": server.split('#').next(),
                    "pid": std::process::id(),
                    "uptime": started.elapsed().as_secs_f64(),
                    "clientsCount": clients,
                    "pollingClientsCount": polling,
                    "aggregatedEvents": [],
                    "namespaces": counts,
                });
                tell(&io, "server_stats", &(stats,)).await;
            }
        });
        Ok(())
    }
}

/// When a socket of a shown namespace connected: the UI's "creation date".
#[derive(Clone, Copy)]
struct ConnectedAt(SystemTime);

/// Watches a namespace the UI shows: tells the UI of each socket that connects or
/// leaves it.
struct AdminWatch {
    name: String,
    namespace: String,
}

impl AdminWatch {
    /// Runs after every other `connect` subscriber: the socket is in.
    async fn connected(&self, socket: SocketRef, io: SocketIo) {
        socket.extensions.insert(ConnectedAt(SystemTime::now()));
        let shown = serialize(&socket, &self.namespace);
        tell(&io, "socket_connected", &(shown,)).await;
    }

    async fn disconnected(&self, socket: SocketRef, io: SocketIo, reason: DisconnectReason) {
        let args = (&self.namespace, socket.id.to_string(), reason_name(reason));
        tell(&io, "socket_disconnected", &args).await;
    }
}

impl Handler for AdminWatch {
    fn name(&self) -> &str {
        &self.name
    }

    fn namespace(&self) -> &str {
        &self.namespace
    }

    fn source(&self) -> Source {
        Source {
            file: file!(),
            line: line!(),
        }
    }

    fn build_events(&self, events: &mut Events<Self>) {
        events.on("connect", Self::connected).priority(i32::MAX);
        events.on("disconnect", Self::disconnected);
    }
}
