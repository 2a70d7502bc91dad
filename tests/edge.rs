//! Hostile clients at the edge: what a client sends is bounded before any of the app
//! runs. Each test speaks as an attacker would (raw frames, raw HTTP), bounded in time.

mod common;

use std::time::Duration;

use common::logs::{logged, logs};
use common::raw::Polling;
use common::{Log, TestServer, emit_ack, eventually};
use serde_json::{Value, json};
use specter::DeliveryPolicy;
use specter::layer::{EventInfo, Layer};
use specter::prelude::*;
use specter::testing::{TestClient, TestError};

/// An app that records every subscriber, catch-all and layer that runs.
struct Watched(Log);

#[handler(name = "watched", discover = false)]
impl Watched {
    #[on("connect")]
    fn connect(&self) {
        self.0.push("connect");
    }

    #[on("disconnect")]
    fn disconnect(&self, reason: DisconnectReason) {
        self.0.push(format!("disconnect {reason:?}"));
    }

    #[on(any)]
    fn any(&self, Event(name): Event) {
        self.0.push(format!("any {name}"));
    }

    #[on("count")]
    fn count(&self, Data(n): Data<u64>) -> u64 {
        n + 1
    }
}

struct Seen(Log);

impl Layer for Seen {
    fn before(&self, event: &EventInfo<'_>) -> Result<(), String> {
        self.0.push(format!("layer {}", event.event()));
        Ok(())
    }
}

fn watched(log: &Log) -> ServiceManager {
    logs();
    ServiceManager::builder()
        .handler(Watched(log.clone()))
        .layer(Seen(log.clone()))
        .build()
        .unwrap()
}

const LIFECYCLE: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

#[tokio::test]
async fn a_lifecycle_name_from_a_websocket_client_runs_nothing_and_disconnects_it() {
    for name in LIFECYCLE {
        let log = Log::default();
        let app = watched(&log);
        let mut client = TestClient::connect(&app).await.unwrap();
        assert_eq!(log.take(), ["connect"]);
        client
            .send_raw(format!("42[{name:?},{{\"name\":\"mallory\"}}]"))
            .unwrap();
        assert_eq!(client.recv().await, Err(TestError::Closed), "{name}");
        eventually("the disconnect subscriber", || !log.snapshot().is_empty()).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            log.take(),
            ["disconnect ServerNSDisconnect"],
            "{name}: only the real disconnect ran, once"
        );
        app.shutdown().await;
    }
}

#[tokio::test]
async fn a_lifecycle_name_over_polling_runs_nothing_and_disconnects_the_socket() {
    let log = Log::default();
    let server = TestServer::start(watched(&log)).await;
    for name in ["connect", "disconnect"] {
        let session = Polling::connect(&server.url).await;
        assert_eq!(log.take(), ["connect"]);
        session
            .post(&format!("42[{name:?},{{\"name\":\"mallory\"}}]"))
            .await;
        assert_eq!(
            session.next().await,
            "41",
            "{name}: told it is disconnected"
        );
        eventually("the disconnect subscriber", || !log.snapshot().is_empty()).await;
        assert_eq!(log.take(), ["disconnect ServerNSDisconnect"], "{name}");
    }
    // Others are served as before.
    let client = TestClient::builder()
        .connect_url(&server.url)
        .await
        .unwrap();
    assert_eq!(emit_ack(&client, "count", json!([1])).await, json!([2]));
    client.disconnect().await;
    server.stop().await;
}

#[tokio::test]
async fn an_unknown_event_name_of_100_kb_is_not_echoed() {
    let app = ServiceManager::builder().handler(Strict).build().unwrap();
    let client = TestClient::connect(&app).await.unwrap();
    let name = "n".repeat(100_000);
    let ack = emit_ack(&client, &name, json!([])).await;
    assert_eq!(ack[0]["error"]["kind"], "unknown_event");
    let message = ack[0]["error"]["message"].as_str().unwrap();
    assert_eq!(
        message,
        format!(
            "no subscriber for event \"{}…(+99936 bytes)\"",
            "n".repeat(64)
        )
    );
    client.disconnect().await;
    app.shutdown().await;
}

#[derive(Default)]
struct Strict;

#[handler(name = "strict", discover = false)]
impl Strict {
    #[on("count")]
    fn count(&self, Data(n): Data<u64>) -> u64 {
        n + 1
    }
}

#[tokio::test]
async fn an_unknown_event_flood_is_logged_once_and_past_its_budget_disconnects() {
    logs();
    let app = ServiceManager::builder()
        .handler(Strict)
        .delivery(DeliveryPolicy::default().max_unknown_events(500))
        .build()
        .unwrap();
    let mut client = TestClient::connect(&app).await.unwrap();
    for _ in 0..500 {
        client.emit("flood_of_unknowns", json!(1)).unwrap();
    }
    // Still served, and answered: the budget is not spent yet.
    let ack: Value = emit_ack(&client, "count", json!([1])).await;
    assert_eq!(ack, json!([2]));
    assert_eq!(logged(&["no subscriber for event", "flood_of_unknowns"]), 1);
    client.emit("flood_of_unknowns", json!(1)).unwrap();
    assert_eq!(client.recv().await, Err(TestError::Closed));
    assert_eq!(
        logged(&[
            "too many events nobody subscribes to",
            "count=501",
            "budget=500"
        ]),
        1
    );
    assert_eq!(logged(&["no subscriber for event", "flood_of_unknowns"]), 1);
    app.shutdown().await;
}

/// A value whose `Serialize` panics.
struct Boom;

impl serde::Serialize for Boom {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        panic!("Boom cannot be written")
    }
}

struct Wedge(Log);

#[handler(name = "wedge", discover = false)]
impl Wedge {
    #[on("boom")]
    async fn boom(&self) -> Ack<Boom> {
        tokio::task::yield_now().await;
        Ack(Boom)
    }

    #[on("disconnect")]
    fn disconnect(&self) {
        self.0.push("disconnect");
    }
}

#[tokio::test]
async fn a_reply_whose_serialize_panics_is_answered_and_the_socket_still_disconnects() {
    let log = Log::default();
    let app = ServiceManager::builder()
        .handler(Wedge(log.clone()))
        .build()
        .unwrap();
    let client = TestClient::connect(&app).await.unwrap();
    for _ in 0..2 {
        let ack = emit_ack(&client, "boom", json!([])).await;
        assert_eq!(
            ack,
            json!([{"error": {"kind": "unserializable", "message": "the answer could not be serialized"}}])
        );
    }
    client.disconnect().await;
    eventually("the disconnect subscriber", || {
        log.snapshot() == ["disconnect"]
    })
    .await;
    app.shutdown().await;
}
