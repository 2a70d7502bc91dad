//! Hostile clients at the edge: what a client sends is bounded before any of the app
//! runs. Each test speaks as an attacker would (raw frames, raw HTTP), bounded in time.

mod common;

use std::time::Duration;

use common::logs::{logged, logs};
use common::raw::Polling;
use common::{Log, TestServer, emit_ack, eventually};
use serde_json::{Value, json};
use specter::interceptor::{EventInfo, Interceptor};
use specter::prelude::*;
use specter::testing::{TestClient, TestError};
use specter::{DisconnectReason, Event};
use specter::{DispatchSettings, Public};

/// An app that records every subscriber, catch-all and interceptor that runs.
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

impl Interceptor for Seen {
    fn before(&self, event: &EventInfo<'_>) -> Result<(), String> {
        self.0.push(format!("interceptor {}", event.event()));
        Ok(())
    }
}

fn watched(log: &Log) -> ServiceManager {
    logs();
    ServiceManager::builder()
        .handler(Watched(log.clone()))
        .interceptor(Seen(log.clone()))
        .build()
        .unwrap()
}

/// Written out here rather than taken from the crate: a name dropped from the rule
/// fails this test.
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
        .dispatch(DispatchSettings::default().max_unknown_events(500))
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

// ---- origins ---------------------------------------------------------------------------

const HANDSHAKE: &str = "/socket.io/?EIO=4&transport=polling";

fn upgrade_headers(origin: Option<&'static str>) -> Vec<(&'static str, &'static str)> {
    let mut headers = vec![
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];
    headers.extend(origin.map(|o| ("Origin", o)));
    headers
}

#[tokio::test]
async fn a_page_of_another_origin_is_refused_on_both_transports_and_others_are_served() {
    let server =
        TestServer::start(ServiceManager::builder().handler(Strict).build().unwrap()).await;
    let own = format!("http://{}", common::raw::host(&server.url));
    let own: &'static str = Box::leak(own.into_boxed_str());
    let ws = "/socket.io/?EIO=4&transport=websocket";
    for (origin, polling, upgrade) in [
        (Some("http://evil.invalid"), 403, 403),
        (Some("null"), 403, 403),
        (None, 200, 101),
        (Some(own), 200, 101),
    ] {
        let headers: Vec<_> = origin.map(|o| ("Origin", o)).into_iter().collect();
        let answer = common::raw::request(&server.url, "GET", HANDSHAKE, &headers, "").await;
        assert_eq!(
            answer.status, polling,
            "polling from {origin:?}: {answer:?}"
        );
        let answer = common::raw::upgrade(&server.url, ws, &upgrade_headers(origin)).await;
        assert_eq!(
            answer.status, upgrade,
            "websocket from {origin:?}: {answer:?}"
        );
    }
    assert_eq!(server.app.edge_stats().refused_origins, 4);
    server.stop().await;
}

#[tokio::test]
async fn allowed_origins_get_cors_headers_and_patterns_match_subdomains() {
    let app = ServiceManager::builder()
        .handler(Strict)
        .allowed_origins(["https://app.example.com", "https://*.example.org"])
        .build()
        .unwrap();
    let server = TestServer::start(app).await;
    let from = async |origin: &str| {
        common::raw::request(&server.url, "GET", HANDSHAKE, &[("Origin", origin)], "").await
    };
    for origin in ["https://app.example.com", "https://eu.example.org"] {
        let answer = from(origin).await;
        assert_eq!(answer.status, 200, "{origin}");
        assert_eq!(
            answer.header("access-control-allow-origin").as_deref(),
            Some(origin)
        );
        assert_eq!(
            answer.header("access-control-allow-credentials").as_deref(),
            Some("true")
        );
    }
    assert_eq!(from("https://example.org").await.status, 403);
    assert_eq!(from("http://app.example.com").await.status, 403);
    // A browser's preflight for a POST with a custom header.
    let preflight = common::raw::request(
        &server.url,
        "OPTIONS",
        HANDSHAKE,
        &[
            ("Origin", "https://app.example.com"),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type"),
        ],
        "",
    )
    .await;
    assert_eq!(preflight.status, 200);
    assert_eq!(
        preflight.header("access-control-allow-origin").as_deref(),
        Some("https://app.example.com")
    );
    server.stop().await;

    let bad = ServiceManager::builder()
        .allowed_origins(["example.com"])
        .build();
    assert_eq!(
        bad.err().map(|e| e.to_string()),
        Some("allowed origin \"example.com\" must be `scheme://host[:port]`, like `https://app.example.com`".to_owned())
    );
}

#[tokio::test]
async fn the_allow_request_hook_refuses_with_its_status_before_engine_io() {
    let app = ServiceManager::builder()
        .handler(Strict)
        .allow_request(|head: axum::http::request::Parts| async move {
            match head.headers.get("x-api-key") {
                Some(key) if key == "let-me-in" => Ok(()),
                _ => Err(axum::http::StatusCode::UNAUTHORIZED),
            }
        })
        .build()
        .unwrap();
    let server = TestServer::start(app).await;
    let without = common::raw::request(&server.url, "GET", HANDSHAKE, &[], "").await;
    assert_eq!(without.status, 401);
    let with = common::raw::request(
        &server.url,
        "GET",
        HANDSHAKE,
        &[("x-api-key", "let-me-in")],
        "",
    )
    .await;
    assert_eq!(with.status, 200);
    assert!(with.body.starts_with("0{"), "{with:?}");
    server.stop().await;
}

// ---- sizes and times -------------------------------------------------------------------

#[tokio::test]
async fn a_silent_or_half_sent_connection_is_closed_by_the_default_header_timeout() {
    use tokio::io::AsyncWriteExt;
    let server =
        TestServer::start(ServiceManager::builder().handler(Strict).build().unwrap()).await;
    let host = common::raw::host(&server.url).to_owned();
    let silent = tokio::net::TcpStream::connect(&host).await.unwrap();
    let mut half = tokio::net::TcpStream::connect(&host).await.unwrap();
    half.write_all(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let (silent_closed, half_closed) = tokio::join!(
        async move {
            let mut s = silent;
            common::raw::closed_within(&mut s, Duration::from_secs(15)).await
        },
        async move { common::raw::closed_within(&mut half, Duration::from_secs(15)).await },
    );
    assert!(silent_closed && half_closed, "both closed within 15 s");
    assert!(
        started.elapsed() >= Duration::from_secs(9),
        "not before the 10 s timeout"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_session_that_never_joins_a_namespace_is_closed_after_the_connect_timeout() {
    let server = TestServer::start(
        ServiceManager::builder()
            .handler(Strict)
            .connect_timeout(Duration::from_millis(500))
            .build()
            .unwrap(),
    )
    .await;
    let open = common::raw::request(&server.url, "GET", HANDSHAKE, &[], "").await;
    let sid = open.sid();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let path = format!("{HANDSHAKE}&sid={sid}");
    let later = common::raw::request(&server.url, "GET", &path, &[], "").await;
    assert_eq!(later.status, 400, "the session is gone: {later:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_message_over_the_default_1_mb_closes_that_connection_on_both_transports() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let server =
        TestServer::start(ServiceManager::builder().handler(Strict).build().unwrap()).await;
    let bystander = TestClient::builder()
        .connect_url(&server.url)
        .await
        .unwrap();
    let big = format!("42[\"count\",\"{}\"]", "x".repeat(2_000_000));

    let url = format!(
        "ws://{}/socket.io/?EIO=4&transport=websocket",
        common::raw::host(&server.url)
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    ws.send(Message::text("40")).await.unwrap();
    ws.send(Message::text(big.clone())).await.unwrap_or(());
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return true,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert_eq!(closed, Ok(true), "the websocket is closed");

    let session = Polling::connect(&server.url).await;
    assert_eq!(session.post(&big).await.status, 413);

    assert_eq!(
        emit_ack(&bystander, "count", json!([1])).await,
        json!([2]),
        "others are served"
    );
    bystander.disconnect().await;
    server.stop().await;
}

#[tokio::test]
async fn connections_past_a_cap_are_answered_503_and_counted() {
    let app = ServiceManager::builder()
        .handler(Strict)
        .max_connections_per_address(2)
        .build()
        .unwrap();
    let server = TestServer::start(app).await;
    let host = common::raw::host(&server.url).to_owned();
    let _held: Vec<_> = futures_util::future::join_all(
        (0..2).map(|_| tokio::net::TcpStream::connect(host.clone())),
    )
    .await;
    common::eventually("two connections held", || {
        server.app.edge_stats().open_connections == 2
    })
    .await;
    let refused = common::raw::request(&server.url, "GET", HANDSHAKE, &[], "").await;
    assert_eq!(refused.status, 503, "{refused:?}");
    assert_eq!(refused.body, "too many connections from this address");
    assert_eq!(server.app.edge_stats().refused_connections, 1);
    drop(_held);
    common::eventually("places freed", || {
        server.app.edge_stats().open_connections == 0
    })
    .await;
    let served = common::raw::request(&server.url, "GET", HANDSHAKE, &[], "").await;
    assert_eq!(served.status, 200);
    server.stop().await;
}

// ---- what clients are told -------------------------------------------------------------

#[derive(serde::Deserialize)]
struct JoinAuth {
    name: String,
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Incoming {
    text: String,
}

#[derive(Default)]
struct Told;

#[handler(name = "told", discover = false)]
impl Told {
    #[on("connect")]
    fn connect(&self, Data(auth): Data<JoinAuth>) -> Result<(), Reject> {
        (auth.name != "mallory")
            .then_some(())
            .ok_or(Reject::new("not you"))
    }

    #[on("message")]
    fn message(&self, Data(_m): Data<Incoming>) {}

    #[on("lookup")]
    fn lookup(&self) -> Result<(), String> {
        Err("connection to 10.0.0.7:5432 refused (os error 111)".to_owned())
    }

    #[on("join")]
    fn join(&self) -> Result<(), Public<&'static str>> {
        Err(Public("the room is full"))
    }
}

#[tokio::test]
async fn clients_are_told_what_is_wrong_in_their_terms_and_never_the_servers_inside() {
    logs();
    let app = ServiceManager::builder().handler(Told).build().unwrap();
    let refused = TestClient::builder()
        .auth(json!({"nom": 5}))
        .connect(&app)
        .await
        .err();
    assert_eq!(
        refused,
        Some(TestError::Refused("invalid payload: name: missing".into()))
    );

    let client = TestClient::builder()
        .auth(json!({"name": "ann"}))
        .connect(&app)
        .await
        .unwrap();
    let ack = emit_ack(&client, "message", json!([{"text": 5}])).await;
    assert_eq!(
        ack,
        json!([{"error": {"handler": "told", "kind": "invalid_payload",
            "message": "text: expected a string",
            "fields": [{"path": "text", "message": "expected a string"}]}}])
    );
    // The log keeps what the developer needs.
    assert_eq!(
        logged(&["subscriber failed", "Data<Incoming>", "expected a string"]),
        1
    );

    let ack = emit_ack(&client, "lookup", json!([])).await;
    let error = &ack[0]["error"];
    assert_eq!(error["message"], "internal error");
    let id = error["id"].as_str().unwrap();
    assert_eq!(
        logged(&[
            "subscriber failed",
            "os error 111",
            &format!("error_id={id}")
        ]),
        1,
        "the id names the log line"
    );

    let ack = emit_ack(&client, "join", json!([])).await;
    assert_eq!(
        ack,
        json!([{"error": {"handler": "told", "kind": "returned", "message": "the room is full"}}])
    );
    client.disconnect().await;
    app.shutdown().await;
}

// ---- shutdown --------------------------------------------------------------------------

#[derive(Default)]
struct Slow;

#[handler(name = "slow", discover = false)]
impl Slow {
    #[on("slow")]
    async fn slow(&self) -> &'static str {
        tokio::time::sleep(Duration::from_millis(800)).await;
        "done"
    }
}

#[tokio::test]
async fn after_the_signal_new_handshakes_get_503_and_sessions_without_a_namespace_close() {
    use futures_util::StreamExt;
    let mut server =
        TestServer::start(ServiceManager::builder().handler(Slow).build().unwrap()).await;
    let url = format!(
        "ws://{}/socket.io/?EIO=4&transport=websocket",
        common::raw::host(&server.url)
    );
    // An engine.io session that never sends CONNECT.
    let (mut lurker, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let client = TestClient::builder()
        .connect_url(&server.url)
        .await
        .unwrap();
    let asked = client.emit_with_ack("slow", ());
    let signalled = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        server.signal_stop();
        tokio::time::sleep(Duration::from_millis(100)).await;
        common::raw::request(&server.url, "GET", HANDSHAKE, &[], "").await
    };
    let (ack, refused) = tokio::join!(asked, signalled);
    assert_eq!(
        refused.status, 503,
        "a new handshake after the signal: {refused:?}"
    );
    assert_eq!(
        ack.unwrap(),
        [json!("done")],
        "the ack asked before the signal is answered"
    );
    let closed = tokio::time::timeout(Duration::from_secs(11), async {
        loop {
            match lurker.next().await {
                None | Some(Err(_)) => return,
                Some(Ok(m)) if m.is_close() => return,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the session without a namespace is closed by the shutdown"
    );
    server.stop().await;
}

// ---- HTTP layers on serve --------------------------------------------------------------

#[tokio::test]
async fn an_http_layer_wraps_every_answer_of_serve_the_gates_refusals_too() {
    use axum::http::{HeaderName, HeaderValue};
    use tower_http::set_header::SetResponseHeaderLayer;
    let app = ServiceManager::builder()
        .handler(Strict)
        .health_route("/health")
        .http_layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("x-served-by"),
            HeaderValue::from_static("specter"),
        ))
        .build()
        .unwrap();
    let server = TestServer::start(app).await;
    for (path, headers, status) in [
        (HANDSHAKE, vec![], 200),
        (HANDSHAKE, vec![("Origin", "http://evil.invalid")], 403),
        ("/health", vec![], 200),
    ] {
        let answer = common::raw::request(&server.url, "GET", path, &headers, "").await;
        assert_eq!(answer.status, status, "{path}");
        assert_eq!(
            answer.header("x-served-by").as_deref(),
            Some("specter"),
            "{path}"
        );
    }
    // And serve's own bounds still hold: events are served through the layer.
    let client = TestClient::builder()
        .connect_url(&server.url)
        .await
        .unwrap();
    assert_eq!(emit_ack(&client, "count", json!([1])).await, json!([2]));
    client.disconnect().await;
    server.stop().await;
}

#[derive(Default)]
struct Hold;

#[handler(name = "hold", discover = false)]
impl Hold {
    #[on("hold")]
    async fn hold(&self, Data(_text): Data<String>) {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn waiting_payloads_past_their_byte_budget_disconnect_that_socket_only() {
    let app = ServiceManager::builder()
        .handler(Hold)
        .handler(Strict)
        .dispatch(DispatchSettings::default().max_queued_bytes(1_000_000))
        .build()
        .unwrap();
    let bystander = TestClient::connect(&app).await.unwrap();
    let mut flooder = TestClient::connect(&app).await.unwrap();
    let chunk = "x".repeat(300_000);
    // The first holds the socket's queue; three wait (900 kB); the fifth passes 1 MB.
    for _ in 0..5 {
        flooder.emit("hold", &chunk).unwrap();
    }
    assert_eq!(flooder.recv().await, Err(TestError::Closed));
    assert_eq!(emit_ack(&bystander, "count", json!([1])).await, json!([2]));
    bystander.disconnect().await;
    app.shutdown().await;
}

#[tokio::test]
async fn a_request_head_over_16_kib_is_refused() {
    let server =
        TestServer::start(ServiceManager::builder().handler(Strict).build().unwrap()).await;
    let big = "v".repeat(20 * 1024);
    let answer = common::raw::request(&server.url, "GET", HANDSHAKE, &[("X-Big", &big)], "").await;
    assert_eq!(answer.status, 431, "{}", answer.head);
    let fits = "v".repeat(8 * 1024);
    let answer = common::raw::request(&server.url, "GET", HANDSHAKE, &[("X-Big", &fits)], "").await;
    assert_eq!(answer.status, 200);
    server.stop().await;
}

// ---- engine settings -------------------------------------------------------------------

#[tokio::test]
async fn engine_settings_on_the_builder_reach_the_handshake() {
    use specter::TransportType;
    let app = ServiceManager::builder()
        .handler(Strict)
        .ping_interval(Duration::from_millis(1_500))
        .ping_timeout(Duration::from_millis(700))
        .transports([TransportType::Websocket])
        .socketio_path("/rt")
        .build()
        .unwrap();
    let server = TestServer::start(app).await;
    let upgrade = upgrade_headers(None);
    let answer =
        common::raw::upgrade(&server.url, "/rt/?EIO=4&transport=websocket", &upgrade).await;
    assert_eq!(
        answer.status, 101,
        "the websocket at the new path: {answer:?}"
    );
    let polling =
        common::raw::request(&server.url, "GET", "/rt/?EIO=4&transport=polling", &[], "").await;
    assert_eq!(
        polling.status, 400,
        "long-polling is not offered: {polling:?}"
    );
    let old = common::raw::request(&server.url, "GET", HANDSHAKE, &[], "").await;
    assert_eq!(old.status, 404, "nothing at the old path");
    // The handshake's first frame advertises the heartbeat.
    let url = format!(
        "ws://{}/rt/?EIO=4&transport=websocket",
        common::raw::host(&server.url)
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    use futures_util::StreamExt;
    let open = ws.next().await.unwrap().unwrap().into_text().unwrap();
    let open: Value = serde_json::from_str(&open[1..]).unwrap();
    assert_eq!(
        (open["pingInterval"].as_u64(), open["pingTimeout"].as_u64()),
        (Some(1_500), Some(700))
    );
    server.stop().await;
}
