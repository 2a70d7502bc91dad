//! Bad input through real clients: each gets the documented answer, is logged once, and
//! the other clients keep being served.

mod common;

use common::logs::{logged, logs};
use common::{Client, TestServer};
use serde_json::json;
use specter::prelude::*;
use specter::testing::{TestClient, TestError};

#[derive(Default)]
struct Strict;

#[handler(name = "strict", discover = false)]
impl Strict {
    #[on("count")]
    fn count(&self, Data(n): Data<u64>) -> u64 {
        n + 1
    }

    #[on("text")]
    fn text(&self, Data(t): Data<String>) -> usize {
        t.len()
    }
}

async fn app(max_payload: u64) -> TestServer {
    logs();
    let app = ServiceManager::builder()
        .handler(Strict)
        .max_payload(max_payload)
        .build()
        .unwrap();
    TestServer::start(app).await
}

#[tokio::test]
async fn an_unknown_event_with_an_ack_gets_an_unknown_event_error() {
    let server = app(100_000).await;
    let mut node = Client::node().await;
    for transport in ["websocket", "polling"] {
        let s = node
            .connect_with(&server.url, json!({}), transport)
            .await
            .unwrap();
        let event = format!("no_such_event_{transport}");
        let ack = node.emit_ack(&s, &event, json!([1])).await;
        assert_eq!(ack[0]["error"]["kind"], "unknown_event");
        assert_eq!(
            ack[0]["error"]["message"],
            format!("no subscriber for event {event:?}")
        );
        assert_eq!(
            node.emit_ack(&s, "count", json!([1])).await,
            json!([2]),
            "still served"
        );
        assert_eq!(logged(&["no subscriber for event", &event]), 1);
    }
    server.stop().await;
}

#[tokio::test]
async fn a_payload_of_the_wrong_type_gets_an_invalid_payload_error() {
    let server = app(100_000).await;
    let mut client = TestClient::builder()
        .connect_url(&server.url)
        .await
        .unwrap();
    let ack = client.emit_with_ack("count", "seven").await.unwrap();
    assert_eq!(ack[0]["error"]["kind"], "invalid_payload");
    assert_eq!(ack[0]["error"]["handler"], "strict");
    // The client reads what is wrong, in its own terms; the log keeps serde's text.
    assert_eq!(
        ack[0]["error"]["message"],
        "expected a non-negative integer"
    );
    assert_eq!(
        logged(&["subscriber failed", "event=\"count\"", "expected u64"]),
        1
    );
    assert_eq!(
        client.emit_with_ack("count", 41).await.unwrap(),
        [json!(42)]
    );
    let _ = client.received();
    client.disconnect().await;
    server.stop().await;
}

#[tokio::test]
async fn a_payload_over_the_size_limit_closes_that_connection_only() {
    let server = app(1_000).await;
    let mut node = Client::node().await;
    let bystander = node.connect(&server.url).await.unwrap();
    // websocket: the server closes the socket; polling: it answers the POST with 413.
    for (transport, reason) in [
        ("websocket", "transport close"),
        ("polling", "transport error"),
    ] {
        let s = node
            .connect_with(&server.url, json!({}), transport)
            .await
            .unwrap();
        assert_eq!(
            node.emit_ack(&s, "text", json!(["x".repeat(500)])).await,
            json!([500])
        );
        node.emit(&s, "text", json!(["x".repeat(5_000)])).await;
        assert_eq!(node.next_event(&s, "disconnect").await, json!([reason]));
        assert_eq!(
            node.emit_ack(&bystander, "count", json!([1])).await,
            json!([2])
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn a_malformed_packet_closes_that_connection_only() {
    let server = app(100_000).await;
    let bystander = TestClient::builder()
        .connect_url(&server.url)
        .await
        .unwrap();
    let mut rude = TestClient::builder()
        .connect_url(&server.url)
        .await
        .unwrap();
    rude.send_raw(r#"42["count", 1"#).unwrap();
    assert_eq!(rude.recv().await, Err(TestError::Closed));
    assert_eq!(
        bystander.emit_with_ack("count", 1).await.unwrap(),
        [json!(2)]
    );
    bystander.disconnect().await;
    server.stop().await;
}

#[tokio::test]
async fn in_process_clients_see_the_same_answers() {
    logs();
    let app = ServiceManager::builder().handler(Strict).build().unwrap();
    let client = TestClient::connect(&app).await.unwrap();
    let ack = client.emit_with_ack("nobody_listens", ()).await.unwrap();
    assert_eq!(ack[0]["error"]["kind"], "unknown_event");
    assert_eq!(client.emit_with_ack("count", 1).await.unwrap(), [json!(2)]);
    client.disconnect().await;
    app.shutdown().await;
}
