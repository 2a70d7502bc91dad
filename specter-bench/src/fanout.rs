//! The broadcast benchmark: R receivers connected to `/`, one sender that emits `say`
//! M times at once; the server sends each `say` to every other socket as `said`
//! (R x M deliveries). Its servers (Specter through `Deliver::to_all`, raw
//! socketioxide through `broadcast().emit`, node's socket.io through
//! `socket.broadcast.emit`) and its client.

use std::time::{Duration, Instant};

use axum::Router;
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use socketioxide::SocketIo;
use socketioxide::extract::{Data, SocketRef};
use specter::prelude::*;
use tokio_tungstenite::tungstenite::Message;

/// A chat message, as a chat app broadcasts it: decoded once, serialized for the
/// recipients.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Said {
    seq: u64,
    user: String,
    text: String,
}

struct Fanout;

#[handler(name = "fanout", discover = false)]
impl Fanout {
    #[on("say")]
    async fn say(
        &self,
        deliver: Deliver,
        socket: SocketRef<specter::Adapter>,
        Data(m): Data<Said>,
    ) {
        deliver.to_all(socket.broadcast(), "said", &m).await.ok();
    }
}

/// Specter: one subscriber of `say` that sends the message to every other socket
/// through [`Deliver::to_all`].
///
/// Built with the feature `redis` (the cross-node benchmark), it is one node of several
/// on the Redis server of `SPECTER_REDIS_URL`.
pub async fn specter() -> (ServiceManager, Router) {
    let builder = ServiceManager::builder().handler(Fanout);
    // `BENCH_RECOVERY=1`: with connection state recovery (`cross-node --recovery`).
    let builder = match std::env::var("BENCH_RECOVERY").as_deref() {
        Ok("1") => builder.dispatch(
            specter::DispatchSettings::default().recovery(specter::RecoverySettings::default()),
        ),
        _ => builder,
    };
    #[cfg(feature = "redis")]
    let builder = {
        let url = std::env::var("SPECTER_REDIS_URL").expect("SPECTER_REDIS_URL");
        let redis = specter::adapter::connect_redis(&url).await;
        builder.redis(redis.expect("a link to Redis"))
    };
    let app = builder.build().expect("a valid app");
    app.boot().await.unwrap();
    let router = app.router();
    (app, router)
}

/// Raw socketioxide: one `say` handler calling `broadcast().emit`, with Specter's
/// buffer of 1,024 packets per socket (socketioxide's own 128 drops what a burst of
/// 200 messages does not fit).
pub fn raw() -> (SocketIo, Router) {
    let (layer, io) = SocketIo::builder().max_buffer_size(1024).build_layer();
    io.ns("/", async |s: SocketRef| {
        s.on("say", async |s: SocketRef, Data(m): Data<Said>| {
            s.broadcast().emit("said", &m).await.ok();
        });
    });
    (io, Router::new().layer(layer))
}

/// What one broadcast run measured, on the client's side.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// Deliveries that arrived (R x M when nothing was lost).
    pub delivered: u64,
    /// From the first `say` sent to the last `said` received.
    pub wall: Duration,
}

/// The clients of a run: the receivers, parked on their sockets, and the sender.
pub struct Clients {
    sender: crate::loadgen::Ws,
    readers: Vec<tokio::task::JoinHandle<(u64, Instant, crate::loadgen::Ws)>>,
    go: tokio::sync::broadcast::Sender<()>,
    messages: u64,
    text: String,
}

/// Connects `receivers` clients, each waiting for `messages` `said` events, and one
/// sender to `base`, whose messages carry a text of `text_bytes` (at least the 27 of
/// "hello, everyone in the room").
pub async fn connect(
    base: &str,
    receivers: usize,
    messages: u64,
    text_bytes: usize,
) -> Result<Clients, String> {
    let sockets = crate::loadgen::idle(base, receivers).await?;
    let sender = crate::loadgen::connect(base).await?;
    let (go, _) = tokio::sync::broadcast::channel::<()>(1);
    let mut readers = Vec::with_capacity(receivers);
    for mut ws in sockets {
        let mut start = go.subscribe();
        readers.push(tokio::spawn(async move {
            let _ = start.recv().await;
            let mut got = 0u64;
            while got < messages {
                match ws.next().await {
                    Some(Ok(Message::Text(t))) if t.as_str() == "2" => {
                        ws.send(Message::text("3")).await.ok();
                    }
                    Some(Ok(Message::Text(t))) if t.as_str().starts_with("42[\"said\"") => got += 1,
                    Some(Ok(_)) => {}
                    _ => break,
                }
            }
            (got, Instant::now(), ws)
        }));
    }
    // Let the readers park on their sockets before the clock starts.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut text = String::from("hello, everyone in the room");
    while text.len() < text_bytes {
        text.push_str(" \"quoted\", and more");
    }
    Ok(Clients {
        sender,
        readers,
        go,
        messages,
        text,
    })
}

impl Clients {
    /// Sends the messages at once and waits (at most `limit`) until every receiver has
    /// them all.
    pub async fn run(mut self, limit: Duration) -> Result<Run, String> {
        let _ = self.go.send(());
        let start = Instant::now();
        for seq in 0..self.messages {
            let text = serde_json::to_string(&self.text).unwrap();
            let frame = format!(r#"42["say",{{"seq":{seq},"user":"bench","text":{text}}}]"#);
            self.sender
                .feed(Message::text(frame))
                .await
                .map_err(|e| e.to_string())?;
        }
        self.sender.flush().await.map_err(|e| e.to_string())?;
        let results = tokio::time::timeout(limit, futures_util::future::join_all(self.readers))
            .await
            .map_err(|_| format!("the receivers did not get every message within {limit:?}"))?;
        let mut delivered = 0;
        let mut last = start;
        for r in results {
            let (got, at, _ws) = r.map_err(|e| e.to_string())?;
            delivered += got;
            last = last.max(at);
        }
        Ok(Run {
            delivered,
            wall: last - start,
        })
    }
}
