//! The server side of the official Socket.IO Admin UI (feature `admin`): the protocol
//! of the npm package `@socket.io/admin-ui` 0.5, read from its server code and written
//! here on Specter's own parts, as handlers.
//!
//! * `handler`: the `/admin` namespace. It authenticates the UI (basic auth against a
//!   bcrypt hash, then a session id), sends it the `config` and `all_sockets`,
//!   `server_stats` every 2 s from a background task of its lifecycle, and carries out
//!   the UI's `join`, `leave`, `_disconnect` and `emit` (none in read-only mode).
//! * `watch`: a handler on each namespace the UI shows tells it, as they happen, of
//!   every socket that connects (`socket_connected`, from the last `connect`
//!   subscriber) or leaves (`socket_disconnected`), and counts both per second for the
//!   dashboard's connection chart; the rooms joined and left from the UI are told too
//!   (`room_joined`, `room_left`).
//! * `sockets`: the sockets as the UI shows them, and the ones an operation is for.
//!   On several nodes (feature `redis`) the UI sees every node: `all_sockets` and the
//!   operations reach the sockets of every node through the adapter, and each node's
//!   `server_stats` and socket events reach the UI wherever it is connected. A socket
//!   of another node is shown with its id, namespace and rooms; its handshake stays on
//!   its node.
//!
//! Not covered: the packet and byte counts of the dashboard (engine.io's, which
//! socketioxide does not report), the events of each socket (the npm package's
//! development mode), and rooms that the app's own code joins or leaves (the UI sees
//! them at its next connection). Every connect and disconnect of a shown namespace
//! costs one emit to `/admin`, which on Redis is one publish.

mod handler;
mod sockets;
mod watch;

use std::sync::Arc;

use serde::Serialize;

use crate::adapter::SocketIo;
use crate::app::handler::EventOwner;
use handler::AdminHandler;
use watch::{AdminWatch, Aggregated};

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
    pub(crate) fn handlers(self) -> Vec<Arc<dyn EventOwner>> {
        let aggregated = Arc::new(Aggregated::default());
        let watches = self
            .namespaces
            .iter()
            .map(|ns| Arc::new(AdminWatch::new(ns, aggregated.clone())) as Arc<dyn EventOwner>);
        let mut handlers: Vec<Arc<dyn EventOwner>> = watches.collect();
        handlers.insert(0, Arc::new(AdminHandler::new(self, aggregated)));
        handlers
    }
}

/// Tells every connected Admin UI, on every node, of `event` with `args` (a tuple: one
/// argument each).
pub(crate) async fn tell(io: &SocketIo, event: &str, args: &impl Serialize) {
    let Some(admin) = io.of(ADMIN_NAMESPACE) else {
        return;
    };
    if let Err(e) = admin.emit(event, args).await {
        tracing::debug!(error = %e, event, "the admin UI was not told");
    }
}
