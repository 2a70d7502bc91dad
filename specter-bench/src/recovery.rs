//! What connection state recovery costs: the memory a session holds while its client is
//! away, with and without events waiting for it (`bench --recovery`, which also counts
//! the instructions of an emit with recovery on and off).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use crate::loadgen;
use crate::process::Server;

/// The memory figures of one run.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    /// Sessions measured.
    pub sessions: usize,
    /// Events each away session holds in the second step.
    pub events: usize,
    /// Bytes of each event's payload.
    pub payload: usize,
    /// RSS growth per connection joined (recovery on: each has a session).
    pub per_connected: f64,
    /// RSS growth per session once its client is gone, holding nothing.
    pub per_away: f64,
    /// RSS growth per event held by an away session.
    pub per_held_event: f64,
}

/// Measures [`Memory`] on the server `cmd` (`bench serve emit-recovery-on 1 1`):
/// `sessions` clients that ask for recovery join, then go away at once (their TCP
/// connections dropped); then one more client has `events` events of `payload` bytes
/// emitted to everyone, which each away session holds.
pub async fn memory(
    cmd: tokio::process::Command,
    sessions: usize,
    events: usize,
    payload: usize,
) -> Result<Memory, String> {
    let server = Server::start(cmd).await?;
    let settle = || tokio::time::sleep(Duration::from_millis(500));
    settle().await;
    let base = server.rss();
    loadgen::ask_for_recovery(true);
    let clients = loadgen::idle(&server.url, sessions).await?;
    settle().await;
    let connected = server.rss();
    drop(clients);
    settle().await;
    let away = server.rss();
    loadgen::ask_for_recovery(false);
    let mut sender = loadgen::connect(&server.url).await?;
    let text = "x".repeat(payload);
    for id in 0..events {
        let packet = format!("42{id}[\"everyone\",\"{text}\"]");
        sender
            .send(Message::text(packet))
            .await
            .map_err(|e| e.to_string())?;
        let want = format!("43{id}[");
        loop {
            match sender.next().await {
                Some(Ok(Message::Text(t))) if t.as_str().starts_with(&want) => break,
                Some(Ok(Message::Text(t))) if t.as_str() == "2" => {
                    sender
                        .send(Message::text("3"))
                        .await
                        .map_err(|e| e.to_string())?;
                }
                Some(Ok(_)) => {}
                _ => return Err("the sender's connection closed".into()),
            }
        }
    }
    settle().await;
    let held = server.rss();
    let per = |a: u64, b: u64, n: usize| b.saturating_sub(a) as f64 / n as f64;
    Ok(Memory {
        sessions,
        events,
        payload,
        per_connected: per(base, connected, sessions),
        per_away: per(base, away, sessions),
        per_held_event: per(away, held, sessions * events),
    })
}
