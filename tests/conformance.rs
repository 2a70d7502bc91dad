//! Conformance with the Engine.IO 4 and Socket.IO 5 protocols, spoken by hand (raw HTTP
//! and websocket frames) to the reference server `examples/reference.rs`, which is
//! written on Specter's public API. What is checked follows the protocols' documented
//! behaviour and what their own test suites check: handshakes on both transports and
//! bad query parameters, heartbeats and ping timeouts, forced close, upgrade (and a
//! stale session after it), namespaces with and without a payload, unknown namespaces,
//! invalid packets, a session that never joins a namespace, disconnect, messages and
//! acks with and without binary attachments. Where Specter behaves as socketioxide
//! makes it, the test's name says so.

mod common;

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::process::Child;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use common::raw::{self, request};
use common::{example, start, terminate};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const PATH: &str = "/socket.io/";
/// The reference server's heartbeat: a ping every 300 ms, 200 ms to answer it.
const SILENT_LONG_ENOUGH: Duration = Duration::from_millis(700);
const WAIT: Duration = Duration::from_secs(5);

/// The reference server, stopped by its id when dropped through [`Server::stop`].
struct Server {
    child: Child,
    url: String,
}

impl Server {
    async fn start() -> Self {
        let (child, url) = start(&example("reference"), &[]).await;
        Self { child, url }
    }

    async fn stop(self) {
        terminate(self.child).await;
    }

    fn ws_url(&self, query: &str) -> String {
        format!("{}{PATH}?{query}", self.url.replacen("http", "ws", 1))
    }

    async fn get(&self, query: &str) -> raw::Answer {
        request(&self.url, "GET", &format!("{PATH}?{query}"), &[], "").await
    }

    async fn post(&self, query: &str, body: &str) -> raw::Answer {
        request(&self.url, "POST", &format!("{PATH}?{query}"), &[], body).await
    }

    /// A polling session's id.
    async fn polling_session(&self) -> String {
        let open = self.get("EIO=4&transport=polling").await;
        assert_eq!(open.status, 200, "{open:?}");
        open.sid()
    }

    /// A websocket, after the engine.io handshake (its `0{..}` read).
    async fn ws(&self) -> (Ws, Value) {
        let (mut ws, _) =
            tokio_tungstenite::connect_async(self.ws_url("EIO=4&transport=websocket"))
                .await
                .expect("the websocket opens");
        let open = recv(&mut ws).await.expect("the handshake");
        let Message::Text(open) = open else {
            panic!("a text handshake, got {open:?}")
        };
        let json = open.strip_prefix('0').expect("an open packet");
        (ws, serde_json::from_str(json).unwrap())
    }

    /// A websocket joined to namespace `/` (its `40{..}` and `auth` read).
    async fn joined(&self) -> Ws {
        let (mut ws, _) = self.ws().await;
        send(&mut ws, "40").await;
        assert!(next_text(&mut ws).await.starts_with("40{"));
        assert_eq!(next_text(&mut ws).await, r#"42["auth",{}]"#);
        ws
    }
}

async fn recv(ws: &mut Ws) -> Option<Message> {
    match tokio::time::timeout(WAIT, ws.next()).await {
        Ok(Some(Ok(m))) => Some(m),
        Ok(_) => None,
        Err(_) => panic!("nothing arrived within {WAIT:?}"),
    }
}

async fn send(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text)).await.unwrap();
}

async fn send_binary(ws: &mut Ws, bytes: &[u8]) {
    ws.send(Message::binary(bytes.to_vec())).await.unwrap();
}

/// The next text message that is not a ping (pings are answered, as a client does).
async fn next_text(ws: &mut Ws) -> String {
    loop {
        match recv(ws).await {
            Some(Message::Text(t)) if t.as_str() == "2" => send(ws, "3").await,
            Some(Message::Text(t)) => return t.as_str().to_owned(),
            Some(Message::Ping(_) | Message::Pong(_)) => {}
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

/// The next binary message (pings answered).
async fn next_binary(ws: &mut Ws) -> Vec<u8> {
    loop {
        match recv(ws).await {
            Some(Message::Text(t)) if t.as_str() == "2" => send(ws, "3").await,
            Some(Message::Binary(b)) => return b.to_vec(),
            other => panic!("expected a binary message, got {other:?}"),
        }
    }
}

/// Whether the server closes `ws` within `limit` (whatever it sends before).
async fn closed_within(ws: &mut Ws, limit: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return false,
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return true,
            Ok(Some(Ok(_))) => continue,
        }
    }
}

// ---- Engine.IO: handshake -------------------------------------------------------------

#[tokio::test]
async fn a_polling_handshake_opens_a_session_with_the_servers_timings() {
    let server = Server::start().await;
    let open = server.get("EIO=4&transport=polling").await;
    assert_eq!(open.status, 200);
    let json: Value = serde_json::from_str(open.body.strip_prefix('0').unwrap()).unwrap();
    assert!(json["sid"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(json["upgrades"], json!(["websocket"]));
    assert_eq!(json["pingInterval"], 300);
    assert_eq!(json["pingTimeout"], 200);
    assert_eq!(json["maxPayload"], 1_000_000);
    assert_eq!(json.as_object().unwrap().len(), 5, "{json}");
    server.stop().await;
}

#[tokio::test]
async fn a_handshake_without_a_valid_eio_or_transport_or_with_a_body_method_is_400() {
    let server = Server::start().await;
    for query in [
        "transport=polling",
        "EIO=abc&transport=polling",
        "EIO=4",
        "EIO=4&transport=abc",
    ] {
        assert_eq!(server.get(query).await.status, 400, "GET ?{query}");
    }
    assert_eq!(server.post("EIO=4&transport=polling", "").await.status, 400);
    let put = request(
        &server.url,
        "PUT",
        &format!("{PATH}?EIO=4&transport=polling"),
        &[],
        "",
    )
    .await;
    assert_eq!(put.status, 400);
    server.stop().await;
}

#[tokio::test]
async fn a_websocket_handshake_opens_a_session_without_upgrades() {
    let server = Server::start().await;
    let (_ws, open) = server.ws().await;
    assert_eq!(open["upgrades"], json!([]));
    assert_eq!(open["pingInterval"], 300);
    assert!(open["sid"].as_str().is_some());
    for query in [
        "transport=websocket",
        "EIO=abc&transport=websocket",
        "EIO=4&transport=abc",
    ] {
        let refused = tokio_tungstenite::connect_async(server.ws_url(query)).await;
        assert!(refused.is_err(), "?{query} is refused before the upgrade");
    }
    server.stop().await;
}

// ---- Engine.IO: heartbeat -------------------------------------------------------------

#[tokio::test]
async fn a_polling_session_is_pinged_and_closed_when_it_stops_answering() {
    let server = Server::start().await;
    let sid = server.polling_session().await;
    let q = format!("EIO=4&transport=polling&sid={sid}");
    for _ in 0..3 {
        let ping = server.get(&q).await;
        assert_eq!((ping.status, ping.body.as_str()), (200, "2"));
        assert_eq!(server.post(&q, "3").await.status, 200);
    }
    tokio::time::sleep(SILENT_LONG_ENOUGH).await;
    assert_eq!(server.get(&q).await.status, 400, "the session is gone");
    server.stop().await;
}

#[tokio::test]
async fn a_websocket_is_pinged_and_closed_when_it_stops_answering() {
    let server = Server::start().await;
    let (mut ws, _) = server.ws().await;
    for _ in 0..3 {
        assert_eq!(recv(&mut ws).await, Some(Message::text("2")));
        send(&mut ws, "3").await;
    }
    assert!(closed_within(&mut ws, Duration::from_secs(2)).await);
    server.stop().await;
}

#[tokio::test]
async fn engineioxide_sends_its_first_ping_at_once_where_node_waits_one_interval() {
    let server = Server::start().await;
    let started = Instant::now();
    let (mut ws, _) = server.ws().await;
    assert_eq!(recv(&mut ws).await, Some(Message::text("2")));
    // node's first ping comes after `pingInterval` (300 ms); engineioxide's at once.
    assert!(
        started.elapsed() < Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    server.stop().await;
}

// ---- Engine.IO: close and upgrade -----------------------------------------------------

#[tokio::test]
async fn a_close_packet_ends_a_polling_session_and_closes_a_websocket() {
    let server = Server::start().await;
    let sid = server.polling_session().await;
    let q = format!("EIO=4&transport=polling&sid={sid}");
    let first = server.get(&q).await; // engineioxide's first ping
    assert_eq!(first.body, "2");
    let (poll, close) = tokio::join!(server.get(&q), async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        server.post(&q, "1").await
    });
    assert_eq!(close.status, 200);
    assert_eq!(
        (poll.status, poll.body.as_str()),
        (200, "6"),
        "the waiting poll ends"
    );
    assert_eq!(server.get(&q).await.status, 400);

    let (mut ws, _) = server.ws().await;
    send(&mut ws, "1").await;
    assert!(closed_within(&mut ws, Duration::from_secs(2)).await);
    server.stop().await;
}

#[tokio::test]
async fn a_polling_session_upgrades_to_websocket_and_its_polling_is_then_refused() {
    let server = Server::start().await;
    let sid = server.polling_session().await;
    let q = format!("EIO=4&transport=polling&sid={sid}");
    let (mut ws, _) = tokio_tungstenite::connect_async(
        server.ws_url(&format!("EIO=4&transport=websocket&sid={sid}")),
    )
    .await
    .unwrap();
    send(&mut ws, "2probe").await;
    assert_eq!(next_text(&mut ws).await, "3probe");
    let noop = server.get(&q).await;
    assert!(
        noop.body.ends_with('6'),
        "the poll is ended with a noop: {noop:?}"
    );
    send(&mut ws, "5").await;
    // The session now lives on the websocket: Socket.IO goes on over it.
    send(&mut ws, "40").await;
    assert!(next_text(&mut ws).await.starts_with("40{"));
    assert_eq!(
        server.get(&q).await.status,
        400,
        "polling with the upgraded sid"
    );

    let second = tokio_tungstenite::connect_async(
        server.ws_url(&format!("EIO=4&transport=websocket&sid={sid}")),
    )
    .await;
    if let Ok((mut second, _)) = second {
        assert!(
            closed_within(&mut second, Duration::from_secs(2)).await,
            "a second websocket for the sid is closed"
        );
    }
    send(&mut ws, r#"42["message","still here"]"#).await;
    assert_eq!(next_text(&mut ws).await, r#"42["auth",{}]"#);
    assert_eq!(
        next_text(&mut ws).await,
        r#"42["message-back","still here"]"#
    );
    server.stop().await;
}

// ---- Socket.IO: namespaces ------------------------------------------------------------

#[tokio::test]
async fn connecting_to_a_namespace_answers_its_sid_then_the_auth_it_was_given() {
    let server = Server::start().await;
    for (connect, prefix, auth) in [
        ("40", "40", "{}"),
        (r#"40{"token":"123"}"#, "40", r#"{"token":"123"}"#),
        ("40/custom,", "40/custom,", "{}"),
        (
            r#"40/custom,{"token":"abc"}"#,
            "40/custom,",
            r#"{"token":"abc"}"#,
        ),
    ] {
        let (mut ws, _) = server.ws().await;
        send(&mut ws, connect).await;
        let answer = next_text(&mut ws).await;
        let json: Value = serde_json::from_str(answer.strip_prefix(prefix).unwrap()).unwrap();
        assert!(json["sid"].is_string(), "{connect}: {answer}");
        assert_eq!(
            json.as_object().unwrap().len(),
            1,
            "{connect}: only the sid"
        );
        let ns = prefix.strip_prefix("40").unwrap();
        assert_eq!(
            next_text(&mut ws).await,
            format!(r#"42{ns}["auth",{auth}]"#),
            "{connect}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn an_unknown_namespace_is_refused_and_a_session_that_joins_none_is_closed() {
    let server = Server::start().await;
    let (mut ws, _) = server.ws().await;
    send(&mut ws, "40/random").await;
    assert_eq!(
        next_text(&mut ws).await,
        r#"44/random,{"message":"Invalid namespace"}"#
    );
    let (mut idle, _) = server.ws().await;
    // The connect timeout is 1 s; pings are answered, so only it can close the session.
    let closed = async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        loop {
            match tokio::time::timeout_at(deadline, idle.next()).await {
                Err(_) => return false,
                Ok(Some(Ok(Message::Text(t)))) if t.as_str() == "2" => {
                    idle.send(Message::text("3")).await.ok();
                }
                Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return true,
                Ok(Some(Ok(_))) => {}
            }
        }
    };
    assert!(closed.await, "a session that joins no namespace is closed");
    server.stop().await;
}

#[tokio::test]
async fn leaving_a_namespace_keeps_the_connection_and_the_others() {
    let server = Server::start().await;
    let mut ws = server.joined().await;
    send(&mut ws, "40/custom").await;
    assert!(next_text(&mut ws).await.starts_with("40/custom,{"));
    assert_eq!(next_text(&mut ws).await, r#"42/custom,["auth",{}]"#);
    send(&mut ws, "41/custom").await;
    send(&mut ws, r#"42["message","message to main namespace"]"#).await;
    assert_eq!(
        next_text(&mut ws).await,
        r#"42["message-back","message to main namespace"]"#
    );
    send(&mut ws, "41").await;
    // Out of every namespace, the engine.io connection stays: the server keeps pinging.
    assert_eq!(recv(&mut ws).await, Some(Message::text("2")));
    server.stop().await;
}

// ---- Socket.IO: messages and acks -----------------------------------------------------

#[tokio::test]
async fn messages_and_acks_keep_every_argument() {
    let server = Server::start().await;
    let mut ws = server.joined().await;
    send(&mut ws, r#"42["message",1,"2",{"3":[true]}]"#).await;
    assert_eq!(
        next_text(&mut ws).await,
        r#"42["message-back",1,"2",{"3":[true]}]"#
    );
    send(&mut ws, r#"42456["message-with-ack",1,"2",{"3":[false]}]"#).await;
    assert_eq!(next_text(&mut ws).await, r#"43456[1,"2",{"3":[false]}]"#);
    server.stop().await;
}

#[tokio::test]
async fn binary_attachments_come_back_in_place_in_messages_and_acks() {
    let server = Server::start().await;
    let mut ws = server.joined().await;
    let placeholders = r#"{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}"#;
    send(&mut ws, &format!(r#"452-["message",{placeholders}]"#)).await;
    send_binary(&mut ws, &[1, 2, 3]).await;
    send_binary(&mut ws, &[4, 5, 6]).await;
    assert_eq!(
        next_text(&mut ws).await,
        format!(r#"452-["message-back",{placeholders}]"#)
    );
    assert_eq!(next_binary(&mut ws).await, [1, 2, 3]);
    assert_eq!(next_binary(&mut ws).await, [4, 5, 6]);

    send(
        &mut ws,
        &format!(r#"452-789["message-with-ack",{placeholders}]"#),
    )
    .await;
    send_binary(&mut ws, &[1, 2, 3]).await;
    send_binary(&mut ws, &[4, 5, 6]).await;
    assert_eq!(next_text(&mut ws).await, format!("462-789[{placeholders}]"));
    assert_eq!(next_binary(&mut ws).await, [1, 2, 3]);
    assert_eq!(next_binary(&mut ws).await, [4, 5, 6]);
    server.stop().await;
}

#[tokio::test]
async fn an_invalid_packet_closes_the_connection() {
    let server = Server::start().await;
    let (mut ws, _) = server.ws().await;
    send(&mut ws, "4abc").await;
    assert!(
        closed_within(&mut ws, Duration::from_secs(2)).await,
        "before any namespace"
    );
    for packet in [
        "4abc",
        "42{}",
        r#"42abc["message-with-ack",1,"2",{"3":[false]}]"#,
    ] {
        let mut ws = server.joined().await;
        send(&mut ws, packet).await;
        assert!(
            closed_within(&mut ws, Duration::from_secs(2)).await,
            "{packet}"
        );
    }
    server.stop().await;
}
