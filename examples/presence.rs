//! The seed's PresenceHandler: clients send `heartbeat`, the server counts them and
//! answers `{ "ok": true }`; a second handler audits the same event. A background
//! sweep, owned by the handler's lifecycle, drops users whose last heartbeat is older
//! than `PRESENCE_STALE_MS` (30,000 by default) and tells the others with `left`.
//!
//! `cargo run --example presence` listens on 127.0.0.1:3000, or on `SPECTER_ADDR`; the
//! app's health is at `/health`.

#[path = "support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use specter::ServerEvent;
use specter::prelude::*;
use specter::{BoxError, Hooks, Lifecycle};

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

/// A user dropped for silence: the server's `left` event.
#[derive(Debug, Serialize, JsonSchema, ServerEvent)]
#[event("left")]
struct Left {
    user: String,
}

/// Each socket's user and the time of its last heartbeat.
type Present = Arc<Mutex<HashMap<String, (String, Instant)>>>;

/// Who is present: the last heartbeat of each socket.
#[derive(Default)]
struct PresenceHandler {
    beats: AtomicU64,
    present: Present,
}

/// How long a user stays present without a heartbeat.
fn stale_after() -> Duration {
    let ms = std::env::var("PRESENCE_STALE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30_000);
    Duration::from_millis(ms)
}

impl Hooks for PresenceHandler {
    // The sweep is background work owned by the handler's lifecycle: teardown (and
    // shutdown) stops it.
    async fn on_setup(&self, lifecycle: &Lifecycle) -> Result<(), BoxError> {
        let (present, outbox) = (self.present.clone(), lifecycle.outbox().cloned());
        let stale = stale_after();
        lifecycle.every("drop silent users", stale / 2, move || {
            let (present, outbox) = (present.clone(), outbox.clone());
            async move {
                let gone: Vec<String> = {
                    let mut present = present.lock().unwrap();
                    let old: Vec<String> = present
                        .iter()
                        .filter(|(_, (_, last))| last.elapsed() > stale)
                        .map(|(sid, _)| sid.clone())
                        .collect();
                    old.iter()
                        .filter_map(|sid| present.remove(sid))
                        .map(|(user, _)| user)
                        .collect()
                };
                for user in gone {
                    tracing::info!(user, "no heartbeat: dropped");
                    if let Some(outbox) = &outbox {
                        outbox.send_to_everyone(&Left { user }).await.ok();
                    }
                }
            }
        });
        Ok(())
    }
}

#[handler(name = "presence")]
impl PresenceHandler {
    #[on("heartbeat", priority = 10)]
    async fn heartbeat(&self, socket: SocketRef, Data(beat): Data<Heartbeat>) -> Ack<Beat> {
        let beats = self.beats.fetch_add(1, Ordering::Relaxed) + 1;
        let mut present = self.present.lock().unwrap();
        present.insert(socket.id.to_string(), (beat.user, Instant::now()));
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
    support::serve(ServiceManager::builder().discover().health_route("/health")).await
}
