//! The seed's PresenceHandler: clients send `heartbeat`, the server counts them and
//! answers `{ "ok": true, "present": N }`; a second handler audits the same event. A
//! background sweep, owned by the handler's lifecycle, drops users whose last heartbeat
//! is older than `PRESENCE_STALE_MS` (30,000 by default) and tells the others with
//! `left`.
//!
//! On several nodes (`--features specter-runtime/redis`), each node tells the others
//! who is present on it with the node event `presence:roster` (when a socket comes or
//! goes, and at every sweep), so `present` counts the sockets of every node; a node that
//! stops telling (it died) is forgotten after `PRESENCE_STALE_MS`.
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
use specter::prelude::*;
use specter::{BoxError, Hooks, Lifecycle};
use specter::{NodeEvent, ServerEvent};

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
    /// Sockets present, on every node of the app.
    present: usize,
}

/// A user dropped for silence: the server's `left` event.
#[derive(Debug, Serialize, JsonSchema, ServerEvent)]
#[event("left")]
struct Left {
    user: String,
}

/// Who is present on one node, as it tells the app's other nodes.
#[derive(Debug, Serialize, Deserialize, JsonSchema, NodeEvent)]
#[event("presence:roster")]
struct Roster {
    node: String,
    /// The user of each socket present there.
    users: Vec<String>,
}

/// Each socket's user and the time of its last heartbeat.
type Present = Arc<Mutex<HashMap<String, (String, Instant)>>>;

/// What the other nodes told: each node's users, and when it last told.
type Remote = Arc<Mutex<HashMap<String, (Vec<String>, Instant)>>>;

/// Who is present: the last heartbeat of each socket here, and the other nodes' rosters.
struct PresenceHandler {
    beats: AtomicU64,
    present: Present,
    remote: Remote,
    /// This node's name among the others.
    node: String,
}

impl Default for PresenceHandler {
    fn default() -> Self {
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        Self {
            beats: AtomicU64::new(0),
            present: Present::default(),
            remote: Remote::default(),
            node: format!("{}-{started:x}", std::process::id()),
        }
    }
}

impl PresenceHandler {
    /// This node's roster, for the others.
    fn roster(node: &str, present: &Present) -> Roster {
        let present = present.lock().unwrap();
        Roster {
            node: node.to_owned(),
            users: present.values().map(|(user, _)| user.clone()).collect(),
        }
    }

    /// The sockets present on every node, forgetting nodes that stopped telling.
    fn count(&self) -> usize {
        let mut remote = self.remote.lock().unwrap();
        remote.retain(|_, (_, told)| told.elapsed() <= stale_after());
        let others: usize = remote.values().map(|(users, _)| users.len()).sum();
        self.present.lock().unwrap().len() + others
    }
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
        let remote = self.remote.clone();
        lifecycle.on_node_event(move |roster: Roster| {
            let told = (roster.users, Instant::now());
            remote.lock().unwrap().insert(roster.node, told);
            async {}
        });
        let (present, outbox) = (self.present.clone(), lifecycle.outbox().cloned());
        let node = self.node.clone();
        let stale = stale_after();
        lifecycle.every("drop silent users", stale / 2, move || {
            let (present, outbox, node) = (present.clone(), outbox.clone(), node.clone());
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
                let Some(outbox) = &outbox else { return };
                for user in gone {
                    tracing::info!(user, "no heartbeat: dropped");
                    outbox.send_to_everyone(&Left { user }).await.ok();
                }
                // Alone, there is no other node to tell; a down Redis link is logged by it.
                let roster = PresenceHandler::roster(&node, &present);
                outbox.to_nodes(&roster).await.ok();
            }
        });
        Ok(())
    }
}

#[handler(name = "presence")]
impl PresenceHandler {
    #[on("heartbeat", priority = 10)]
    async fn heartbeat(
        &self,
        socket: SocketRef,
        deliver: Deliver,
        Data(beat): Data<Heartbeat>,
    ) -> Ack<Beat> {
        let beats = self.beats.fetch_add(1, Ordering::Relaxed) + 1;
        let now = (beat.user, Instant::now());
        let came = self
            .present
            .lock()
            .unwrap()
            .insert(socket.id.to_string(), now);
        if came.is_none() {
            let roster = Self::roster(&self.node, &self.present);
            deliver.to_nodes(&roster).await.ok();
        }
        Ack(Beat {
            ok: true,
            beats,
            present: self.count(),
        })
    }

    #[on("disconnect")]
    async fn disconnect(&self, socket: SocketRef, deliver: Deliver) {
        let went = self.present.lock().unwrap().remove(&socket.id.to_string());
        if went.is_some() {
            let roster = Self::roster(&self.node, &self.present);
            deliver.to_nodes(&roster).await.ok();
        }
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
