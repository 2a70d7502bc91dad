//! The server side of the official Socket.IO Admin UI (feature `admin`): the protocol
//! of the npm package `@socket.io/admin-ui` 0.5, read from its server code and written
//! here on Specter's own parts. A handler on the `/admin` namespace authenticates the
//! UI (basic auth against a bcrypt hash, then a session id), sends it the `config` and
//! `all_sockets`, `server_stats` every 2 s from a background task of its lifecycle, and
//! carries out the UI's `join`, `leave`, `_disconnect` and `emit` (none in read-only
//! mode).
//!
//! Not covered yet: the live `socket_connected` / `socket_disconnected` / room events
//! (the UI shows the sockets as of its connection, and after each reconnect), the
//! aggregated event counts, and the sockets of other nodes.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use socketioxide::extract::Data;

use crate::adapter::{SocketIo, SocketRef};
use crate::app::events::Events;
use crate::app::handler::Handler;
use crate::app::hooks::{DynHooks, Hooks};
use crate::app::lifecycle::Lifecycle;
use crate::error::BoxError;
use crate::subscriber::Source;

/// How often the UI gets `server_stats`, as the npm package sends them.
const STATS_EVERY: Duration = Duration::from_secs(2);

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
            socket
                .emit("all_sockets", &(all_sockets(&io, &namespaces),))
                .ok();
        });
        Ok(())
    }

    fn join(
        &self,
        io: SocketIo,
        Data((nsp, room, filter)): Data<(String, String, Option<String>)>,
    ) {
        for socket in targets(&io, &nsp, filter.as_deref()) {
            socket.join(room.clone());
        }
    }

    fn leave(
        &self,
        io: SocketIo,
        Data((nsp, room, filter)): Data<(String, String, Option<String>)>,
    ) {
        for socket in targets(&io, &nsp, filter.as_deref()) {
            socket.leave(room.clone());
        }
    }

    fn disconnect(
        &self,
        io: SocketIo,
        Data((nsp, _close, filter)): Data<(String, bool, Option<String>)>,
    ) {
        for socket in targets(&io, &nsp, filter.as_deref()) {
            socket.disconnect().ok();
        }
    }

    /// `emit(nsp, filter, event, arg)`: the UI's emit form, with one argument.
    fn emit(
        &self,
        io: SocketIo,
        Data((nsp, filter, event, arg)): Data<(String, Option<String>, String, Value)>,
    ) {
        for socket in targets(&io, &nsp, filter.as_deref()) {
            socket.emit(event.clone(), &arg).ok();
        }
    }
}

/// The sockets of `nsp` an operation of the UI is for: those in the room `filter`, or
/// all without one. In node's socket.io every socket is in a room named by its id and
/// the UI filters by it to mean one socket; here such an id names the socket directly.
/// This node's sockets only.
fn targets(io: &SocketIo, nsp: &str, filter: Option<&str>) -> Vec<SocketRef> {
    let Some(op) = io.of(nsp) else {
        return Vec::new();
    };
    match filter {
        None => op.sockets(),
        Some(f) => {
            let all = op.clone().sockets();
            match all.into_iter().find(|s| s.id.to_string() == f) {
                Some(socket) => vec![socket],
                None => op.within(f.to_owned()).sockets(),
            }
        }
    }
}

/// A random session id (engine.io's random socket id generator).
fn session_id() -> String {
    socketioxide::socket::Sid::new().to_string()
}

/// A socket as the UI shows it.
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
    json!({
        "id": socket.id.to_string(),
        "clientId": socket.id.to_string(),
        "transport": transport,
        "nsp": nsp,
        "data": {},
        "handshake": {
            "address": address,
            "headers": headers,
            "query": query,
            "issued": 0,
            "secure": false,
            "time": "",
            "url": parts.uri.to_string(),
            "xdomain": false,
        },
        "rooms": socket.rooms().iter().map(|r| r.to_string()).collect::<Vec<_>>(),
    })
}

fn all_sockets(io: &SocketIo, namespaces: &[String]) -> Vec<Value> {
    namespaces
        .iter()
        .filter_map(|nsp| io.of(nsp.clone()).map(|op| (nsp, op.sockets())))
        .flat_map(|(nsp, sockets)| {
            sockets
                .iter()
                .map(|s| serialize(s, nsp))
                .collect::<Vec<_>>()
        })
        .collect()
}

impl Handler for AdminHandler {
    fn name(&self) -> &str {
        "admin-ui"
    }

    fn namespace(&self) -> &str {
        "/admin"
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
        lifecycle.every("admin UI stats", STATS_EVERY, move || {
            let (io, namespaces) = (io.clone(), namespaces.clone());
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
                let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "specter".into());
                let stats = json!({
                    "serverId": host,
                    "hostname": host,
                    "pid": std::process::id(),
                    "uptime": started.elapsed().as_secs_f64(),
                    "clientsCount": clients,
                    "pollingClientsCount": polling,
                    "aggregatedEvents": [],
                    "namespaces": counts,
                });
                if let Some(admin) = io.of("/admin") {
                    admin.emit("server_stats", &stats).await.ok();
                }
            }
        });
        Ok(())
    }
}
