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
//! Every connect and disconnect of a shown namespace queues one notice, which a task
//! of the node sends (on Redis, one publish): the handshake never waits for it.
//!
//! * `login`: the bounded login, its budget of attempts, and sessions that end.
//! * `event_log`: in development mode ([`AdminMode`]), the events clients send, as the
//!   UI's event log shows them.
//!
//! In production mode (the default) the UI gets the dashboard's aggregated figures and
//! the servers only; in development mode also the socket lists, live socket events and
//! the event log, and its menu leads to every page.
//!
//! Not covered: the packet and byte counts of the dashboard (engine.io's, which
//! socketioxide does not report), the events the server sends (socketioxide has no hook
//! on outgoing packets), rooms that the app's own code joins or leaves (the UI sees them
//! at its next connection), and the UI's "disconnect the client" (`close`), which here
//! disconnects the socket from its namespace only. Sessions are each node's: a UI that
//! reconnects to another node logs in again. The handshakes the UI sees have their
//! credentials redacted (see [`AdminUi::show_credentials`]).

mod event_log;
mod handler;
mod limits;
mod login;
mod protocol;
mod settings;
mod sockets;
mod watch;

use std::sync::Arc;

use crate::app::handler::EventOwner;
use crate::ingress::interceptor::Interceptor;
use event_log::EventLog;

/// An interceptor for one namespace, by its path.
pub(crate) type NamespaceInterceptor = (String, Arc<dyn Interceptor>);
use handler::AdminHandler;
pub use limits::AdminLimits;
use protocol::Notices;
#[cfg(feature = "contract")]
pub(crate) use protocol::OWNER;
pub use settings::{AdminMode, AdminSessions, AdminUi};
use watch::{AdminWatch, Aggregated};

impl AdminUi {
    /// The handlers that serve the UI: the `/admin` one, and a watch of each namespace
    /// it shows.
    /// The handlers that serve the UI, the `/admin` one and a watch of each namespace
    /// it shows; and in development mode the event log's interceptor of each of those.
    pub(crate) fn handlers(self) -> (Vec<Arc<dyn EventOwner>>, Vec<NamespaceInterceptor>) {
        let aggregated = Arc::new(Aggregated::default());
        let notices = Arc::new(Notices::new());
        let development = self.mode == AdminMode::Development;
        let watches = self.namespaces.iter().map(|ns| {
            let watch = AdminWatch::new(
                ns,
                self.reveal,
                development,
                aggregated.clone(),
                notices.clone(),
            );
            Arc::new(watch) as Arc<dyn EventOwner>
        });
        let mut handlers: Vec<Arc<dyn EventOwner>> = watches.collect();
        let mut interceptors = Vec::new();
        if development {
            let log: Arc<dyn Interceptor> = Arc::new(EventLog::new(
                notices.clone(),
                self.reveal.credentials,
                self.limits,
            ));
            interceptors = self
                .namespaces
                .iter()
                .map(|ns| (ns.clone(), log.clone()))
                .collect();
        }
        let admin = AdminHandler::new(self, aggregated, notices);
        handlers.insert(0, Arc::new(admin));
        (handlers, interceptors)
    }
}
