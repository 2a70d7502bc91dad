//! The names the UI and the server share, and how the server speaks to every UI.

use std::sync::Mutex;

use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::adapter::SocketIo;

/// The namespace the UI connects to.
pub(crate) const ADMIN_NAMESPACE: &str = "/admin";

/// The name of the `/admin` handler, which owns its subscriptions.
pub(crate) const OWNER: &str = "admin-ui";

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

/// This node, as the UI's server list names it: `host#pid`, so that several nodes on
/// one host stay apart.
pub(crate) fn server_id() -> String {
    crate::adapter::node_name()
}

/// How many notices may wait for the adapter before new ones are dropped.
const NOTICES_WAITING: usize = 4096;

/// What a watch tells the UI.
pub(crate) enum Notice {
    /// `socket_connected(socket)`: the socket as this node's UIs see it, and as the
    /// other nodes' do (its id, namespace and rooms: no handshake leaves the node).
    Connected { here: Value, elsewhere: Value },
    /// `socket_disconnected(nsp, id, reason)`.
    Disconnected(String, String, &'static str),
    /// `event_received(nsp, id, [event, args..], date)` (development mode).
    EventReceived(String, String, Value, String),
}

/// What the watches tell the UI, sent in order by one task of this node: the handshake
/// that causes a notice never waits for the adapter (a Redis publish). A UI being a
/// monitor, notices past [`NOTICES_WAITING`] are dropped rather than held.
pub(crate) struct Notices {
    tx: mpsc::Sender<Notice>,
    rx: Mutex<Option<mpsc::Receiver<Notice>>>,
}

impl Notices {
    pub(crate) fn new() -> Self {
        let (tx, rx) = mpsc::channel(NOTICES_WAITING);
        Self {
            tx,
            rx: Mutex::new(Some(rx)),
        }
    }

    pub(crate) fn send(&self, notice: Notice) {
        if self.tx.try_send(notice).is_err() {
            tracing::debug!("an admin UI notice was dropped");
        }
    }

    /// Sends the queued notices, in order, until `stopping` resolves (the teardown of
    /// the handler's lifecycle). Runs once per node: the receiver is taken.
    pub(crate) async fn run(
        self: std::sync::Arc<Self>,
        io: SocketIo,
        stopping: impl Future<Output = ()>,
    ) {
        let Some(mut rx) = self.rx.lock().unwrap().take() else {
            return;
        };
        let mut stopping = std::pin::pin!(stopping);
        loop {
            let notice = tokio::select! {
                notice = rx.recv() => notice,
                () = &mut stopping => None,
            };
            let Some(notice) = notice else {
                return;
            };
            match notice {
                Notice::Connected { here, elsewhere } => {
                    let Some(admin) = io.of(ADMIN_NAMESPACE) else {
                        continue;
                    };
                    if let Err(e) = admin
                        .clone()
                        .local()
                        .emit("socket_connected", &(here,))
                        .await
                    {
                        tracing::debug!(error = %e, "the admin UI was not told");
                    }
                    // The UIs of this node are in its room: they were told above.
                    let others = admin.except(crate::adapter::node_room());
                    if let Err(e) = others.emit("socket_connected", &(elsewhere,)).await {
                        tracing::debug!(error = %e, "the other nodes' admin UIs were not told");
                    }
                }
                Notice::Disconnected(nsp, id, reason) => {
                    tell(&io, "socket_disconnected", &(nsp, id, reason)).await
                }
                Notice::EventReceived(nsp, id, args, date) => {
                    tell(&io, "event_received", &(nsp, id, args, date)).await
                }
            }
        }
    }
}
