//! The seed's PresenceHandler: clients send `heartbeat`, the server counts them and
//! answers `{ "ok": true }`; a second handler audits the same event.
//!
//! `cargo run --example presence` listens on 127.0.0.1:3000, or on `SPECTER_ADDR`.

#[path = "support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use specter::prelude::*;

/// What a client sends with `heartbeat`.
#[derive(Debug, Deserialize, JsonSchema)]
struct Heartbeat {
    user: String,
}

/// The answer to a heartbeat.
#[derive(Debug, Serialize, JsonSchema)]
struct Beat {
    ok: bool,
    /// Heartbeats counted since the server started.
    beats: u64,
    /// Sockets present.
    present: usize,
}

/// Who is present: the last heartbeat of each socket.
#[derive(Default)]
struct PresenceHandler {
    beats: AtomicU64,
    present: Mutex<HashMap<String, String>>,
}

#[handler(name = "presence")]
impl PresenceHandler {
    #[on("heartbeat", priority = 10)]
    async fn heartbeat(&self, socket: SocketRef, Data(beat): Data<Heartbeat>) -> Ack<Beat> {
        let beats = self.beats.fetch_add(1, Ordering::Relaxed) + 1;
        let mut present = self.present.lock().unwrap();
        present.insert(socket.id.to_string(), beat.user);
        Ack(Beat {
            ok: true,
            beats,
            present: present.len(),
        })
    }

    #[on("disconnect")]
    async fn disconnect(&self, socket: SocketRef) {
        self.present.lock().unwrap().remove(&socket.id.to_string());
    }
}

/// A second owner of `heartbeat`: runs after presence (priority 100), returns nothing,
/// so presence's value still answers the ack.
#[derive(Default)]
struct AuditHandler;

#[handler(name = "audit")]
impl AuditHandler {
    #[on("heartbeat")]
    fn heartbeat(&self, socket: SocketRef) {
        tracing::info!(socket = %socket.id, "heartbeat");
    }
}

#[tokio::main]
async fn main() -> Result<(), specter::Error> {
    support::serve(ServiceManager::builder().discover()).await
}
