//! The examples as a user runs them: a real process, real clients, SIGTERM to stop.

mod common;

use std::time::Duration;

use common::{BrowserRun, Client, answer, assert_admin_ui_run, example, start, terminate};
use serde_json::{Value, json};

#[tokio::test]
async fn presence_answers_heartbeats_and_stops_on_sigterm() {
    let (child, url) = start(&example("presence"), &[]).await;
    let mut node = Client::node().await;
    let a = node.connect(&url).await.unwrap();
    let b = node.connect(&url).await.unwrap();
    let ack = node
        .emit_ack(&a, "heartbeat", json!([{"user": "ann"}]))
        .await;
    assert_eq!(ack, json!([{"ok": true, "beats": 1, "present": 1}]));
    let ack = node
        .emit_ack(&b, "heartbeat", json!([{"user": "bob"}]))
        .await;
    assert_eq!(ack, json!([{"ok": true, "beats": 2, "present": 2}]));
    let bad = node
        .emit_ack(&b, "heartbeat", json!(["not a heartbeat"]))
        .await;
    assert_eq!(bad[0]["error"]["kind"], "invalid_payload");
    node.disconnect(&a).await;
    node.disconnect(&b).await;
    terminate(child).await;
}

/// Ann and Bob join the chat over websocket.
async fn ann_and_bob(node: &mut Client, url: &str) -> (String, String) {
    let mut join = async |name: &str| {
        node.connect_with(url, json!({ "name": name }), "websocket")
            .await
            .unwrap()
    };
    (join("ann").await, join("bob").await)
}

#[tokio::test]
async fn chat_moderates_broadcasts_and_remembers() {
    let (child, url) = start(&example("chat"), &[]).await;
    let mut node = Client::node().await;
    let refused = node
        .connect_with(&url, json!({"name": " "}), "websocket")
        .await
        .unwrap_err();
    assert_eq!(refused, "pick a name of 1 to 32 characters");
    let ann = node
        .connect_with(&url, json!({"name": "ann"}), "websocket")
        .await
        .unwrap();
    let history = node.emit_ack(&ann, "join", json!([null])).await;
    assert_eq!(history[0][0]["text"], "welcome to the chat");
    let bob = node
        .connect_with(&url, json!({"name": "bob"}), "polling")
        .await
        .unwrap();
    node.emit_ack(&bob, "join", json!([null])).await;
    assert_eq!(node.next_event(&ann, "presence").await, json!([["ann"]]));
    assert_eq!(
        node.next_event(&ann, "presence").await,
        json!([["ann", "bob"]])
    );

    let rejected = node
        .emit_ack(&ann, "message", json!([{"text": "cheap SPAM"}]))
        .await;
    assert_eq!(
        rejected,
        json!([{"error": {"handler": "moderation", "kind": "rejected", "message": "\"spam\" is not allowed here"}}])
    );
    let ok = node
        .emit_ack(&ann, "message", json!([{"text": "hello bob"}]))
        .await;
    assert_eq!(ok, json!([{"ok": true}]));
    let got = node.next_event(&bob, "message").await;
    assert_eq!(
        (got[0]["user"].as_str(), got[0]["text"].as_str()),
        (Some("ann"), Some("hello bob"))
    );

    node.emit(&bob, "typing", json!([])).await;
    assert_eq!(
        node.next_event(&ann, "typing").await,
        json!([{"user": "bob"}])
    );

    node.disconnect(&bob).await;
    assert_eq!(node.next_event(&ann, "presence").await, json!([["ann"]]));
    terminate(child).await;
}

#[tokio::test]
async fn chat_validates_messages_and_limits_a_flooding_client_only() {
    let (child, url) = start(&example("chat"), &[]).await;
    let mut node = Client::node().await;
    let (ann, bob) = ann_and_bob(&mut node, &url).await;

    // Validation: each broken rule of `Incoming`, with the field's path.
    let empty = node.emit_ack(&ann, "message", json!([{"text": ""}])).await;
    assert_eq!(
        empty,
        json!([{"error": {
            "handler": "chat", "kind": "invalid_payload",
            "message": "text: is blank; text: length is lower than 1",
            "fields": [
                {"path": "text", "message": "is blank"},
                {"path": "text", "message": "length is lower than 1"}
            ]
        }}])
    );
    let long = node
        .emit_ack(&ann, "message", json!([{"text": "é".repeat(251)}]))
        .await;
    assert_eq!(
        long[0]["error"]["fields"],
        json!([{"path": "text", "message": "length is greater than 500"}]),
        "the limit counts bytes: 251 × 2"
    );

    // 50 messages at once: the limit (bursts of 10) passes 10 minus the 2 refused
    // by validation above, which counted too; the rest are refused with the wait.
    let acks = burst(&mut node, &ann, "message", 50, json!({"text": "m$i"})).await;
    let ok = acks.iter().filter(|a| **a == json!([{"ok": true}])).count();
    let limited: Vec<&Value> = acks
        .iter()
        .filter(|a| a[0]["error"]["kind"] == "rate_limited")
        .collect();
    assert_eq!((ok, limited.len()), (8, 42), "{acks:?}");
    assert!(acks[..8].iter().all(|a| *a == json!([{"ok": true}])));
    let wait = limited[0][0]["error"]["retry_after_ms"].as_u64().unwrap();
    assert!((1..=1000).contains(&wait), "one message a second: {wait}");
    assert_eq!(limited[0][0]["error"]["handler"], "chat");

    // Bob noticed nothing but ann's accepted messages, in order; his own go through.
    for i in 0..8 {
        let got = node.next_event(&bob, "message").await;
        assert_eq!(got[0]["text"], format!("m{i}"));
    }
    let mine = node
        .emit_ack(&bob, "message", json!([{"text": "calm down, ann"}]))
        .await;
    assert_eq!(mine, json!([{"ok": true}]));
    // Ann receives her own 8 first (a broadcast to everyone), then bob's.
    for i in 0..8 {
        assert_eq!(
            node.next_event(&ann, "message").await[0]["text"],
            format!("m{i}")
        );
    }
    let got = node.next_event(&ann, "message").await;
    assert_eq!(
        (got[0]["user"].as_str(), got[0]["text"].as_str()),
        (Some("bob"), Some("calm down, ann")),
        "the name comes from bob's session"
    );
    terminate(child).await;
}

#[tokio::test]
async fn two_people_chat_in_headless_chromium() {
    let (child, url) = start(&example("chat"), &[]).await;
    let run = BrowserRun::of("browser.mjs", &[&url]).await;
    assert_eq!(
        run.step("present"),
        json!({"step": "present", "ann": ["ann", "bob"], "bob": ["ann", "bob"]})
    );
    assert_eq!(run.step("typing")["bob"], "ann is typing…");
    assert_eq!(
        run.step("message")["bob"],
        json!(["specterwelcome to the chat", "annhello bob"])
    );
    assert_eq!(
        run.step("rejected")["ann"],
        "not sent: \"spam\" is not allowed here"
    );
    assert_eq!(
        run.step("left")["ann"],
        json!(["ann"]),
        "presence updates when a page closes"
    );
    run.assert_clean();
    terminate(child).await;
}

/// The official Admin UI, served by the chat example at /admin/, in Chromium: it logs
/// in, lists the connected clients, sees one connect while it watches, puts one in a
/// room, and disconnects another, which that client hears.
#[tokio::test]
async fn the_admin_ui_operates_the_chat_in_headless_chromium() {
    let hash = bcrypt::hash("s3cret", 4).unwrap();
    let (child, url) = start(&example("chat"), &[("CHAT_ADMIN_HASH", &hash)]).await;
    let run = BrowserRun::of("admin-ui.mjs", &[&url, "s3cret", &url]).await;
    assert_admin_ui_run(&run, &[child.id()]);
    terminate(child).await;
}

/// Emits `count` events at once from one node client, each asking for an ack; `payload`
/// with `$i` replaced by the event's index. Returns the acks in the order sent.
async fn burst(
    node: &mut Client,
    sock: &str,
    event: &str,
    count: usize,
    payload: Value,
) -> Vec<Value> {
    let cmd = json!({
        "op": "burst", "sock": sock, "event": event, "count": count,
        "payload": payload, "timeout": 8000,
    });
    let rx = node.send(cmd.clone()).await;
    let reply = answer(rx, &cmd).await;
    reply["acks"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("{reply}"))
}

#[tokio::test]
async fn a_burst_of_2000_heartbeats_is_answered_in_the_order_sent_over_both_transports() {
    let (child, url) = start(&example("presence"), &[]).await;
    let mut node = Client::node().await;
    for transport in ["websocket", "polling"] {
        let s = node.connect_with(&url, json!({}), transport).await.unwrap();
        let acks = burst(&mut node, &s, "heartbeat", 2000, json!({"user": "ann"})).await;
        assert_eq!(acks.len(), 2000, "{transport}");
        let beats: Vec<u64> = acks
            .iter()
            .map(|a| {
                a[0]["beats"]
                    .as_u64()
                    .unwrap_or_else(|| panic!("{transport}: {a}"))
            })
            .collect();
        assert!(
            beats.windows(2).all(|w| w[1] == w[0] + 1),
            "{transport}: beats came back out of the order sent: {:?}",
            beats.windows(2).find(|w| w[1] != w[0] + 1)
        );
        node.disconnect(&s).await;
    }
    terminate(child).await;
}

#[tokio::test]
async fn a_burst_of_2000_chat_messages_reaches_a_second_client_complete_and_in_order() {
    // The chat's own limit (10 per 10 s) would refuse most of them: this test is about
    // order, so the operator's setting raises it.
    let (child, url) = start(&example("chat"), &[("CHAT_MESSAGE_RATE", "100000/s")]).await;
    let mut node = Client::node().await;
    let (ann, bob) = ann_and_bob(&mut node, &url).await;
    let acks = burst(&mut node, &ann, "message", 2000, json!({"text": "m$i"})).await;
    assert!(
        acks.iter().all(|a| *a == json!([{"ok": true}])),
        "{:?}",
        acks.iter().find(|a| **a != json!([{"ok": true}]))
    );
    for i in 0..2000 {
        let got = node.next_event(&bob, "message").await;
        assert_eq!(got[0]["text"], format!("m{i}"), "message {i} at bob");
    }
    terminate(child).await;
}

#[tokio::test]
async fn every_event_of_a_burst_over_a_rate_limit_is_answered_in_order() {
    let (child, url) = start(&example("chat"), &[]).await;
    let mut node = Client::node().await;
    let ann = node
        .connect_with(&url, json!({"name": "ann"}), "websocket")
        .await
        .unwrap();
    // `typing` allows 2 a second: 3,000 at once are 2 answers and refusals, none lost
    // though the refusals outrun the connection's buffer (1,024 packets). A burst that
    // takes longer than half a second on a loaded machine earns one more answer per
    // half second.
    let sent = tokio::time::Instant::now();
    let acks = burst(&mut node, &ann, "typing", 3000, json!({})).await;
    let earned = (sent.elapsed().as_millis() / 500) as usize + 1;
    assert_eq!(acks.len(), 3000);
    assert_eq!(acks[..2], [json!([]), json!([])]);
    let refused = |a: &&Value| a[0]["error"]["kind"] == "rate_limited";
    assert!(
        acks[2..].iter().all(|a| refused(&a) || *a == json!([])),
        "{:?}",
        acks[2..].iter().find(|a| !refused(a) && **a != json!([]))
    );
    let answered_later = acks[2..].iter().filter(|a| !refused(a)).count();
    assert!(
        answered_later <= earned,
        "{answered_later} answered past the first 2 in a burst that earned {earned}"
    );
    terminate(child).await;
}

/// GET `path` from `url` (`http://127.0.0.1:PORT`) over plain HTTP/1.1: (status, body).
async fn http_get(url: &str, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(
        Duration::from_secs(10),
        stream.read_to_string(&mut response),
    )
    .await
    .expect("the server answers")
    .unwrap();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// The value of the Prometheus sample of `metric` whose labels include all of `labels`.
fn sample(text: &str, metric: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{metric}{{")) || l.starts_with(&format!("{metric} ")))
        .find(|l| labels.iter().all(|label| l.contains(label)))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

#[tokio::test]
async fn chat_serves_its_metrics_and_health_over_http() {
    let (child, url) = start(&example("chat"), &[]).await;
    let (status, health) = http_get(&url, "/health").await;
    assert_eq!(status, 200, "{health}");
    let health: Value = serde_json::from_str(health.trim()).unwrap();
    assert_eq!(health["status"], "up");

    let mut node = Client::node().await;
    let ann = node
        .connect_with(&url, json!({"name": "ann"}), "websocket")
        .await
        .unwrap();
    assert_eq!(
        node.emit_ack(&ann, "message", json!([{"text": "hi"}]))
            .await,
        json!([{"ok": true}])
    );
    let bad = node.emit_ack(&ann, "message", json!([{"text": ""}])).await;
    assert_eq!(bad[0]["error"]["kind"], "invalid_payload");

    let (status, text) = http_get(&url, "/metrics").await;
    assert_eq!(status, 200);
    let get = |metric: &str, labels: &[&str]| {
        sample(&text, metric, labels).unwrap_or_else(|| panic!("no {metric} {labels:?} in\n{text}"))
    };
    assert_eq!(
        get(
            "specter_dispatches_total",
            &[r#"namespace="/""#, r#"event="message""#]
        ),
        2.0
    );
    assert_eq!(
        get(
            "specter_subscriber_failures_total",
            &[
                r#"owner="chat""#,
                r#"event="message""#,
                r#"kind="invalid_payload""#
            ]
        ),
        1.0
    );
    assert_eq!(get("specter_connected_sockets", &[r#"namespace="/""#]), 1.0);
    assert!(
        text.contains("specter_subscriber_duration_seconds"),
        "a histogram of subscriber durations:\n{text}"
    );
    assert_eq!(get("specter_dispatches_in_flight", &[]), 0.0);
    terminate(child).await;
}

/// The resident memory of process `pid`, in kB.
fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Whether the server closes websocket `ws` within 10 s.
async fn closed<S>(ws: &mut tokio_tungstenite::WebSocketStream<S>) -> bool
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use futures_util::StreamExt;
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) => return,
                Some(Ok(m)) if m.is_close() => return,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn the_chat_meets_hostile_clients_with_its_default_bounds() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let (child, url) = start(&example("chat"), &[]).await;
    let pid = child.id().unwrap();
    let host = common::raw::host(&url).to_owned();
    let handshake = "/socket.io/?EIO=4&transport=polling";

    // A page of another origin: refused on both transports.
    let evil = [("Origin", "http://evil.invalid")];
    let polled = common::raw::request(&url, "GET", handshake, &evil, "").await;
    assert_eq!(polled.status, 403);
    let mut upgrade = vec![
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];
    upgrade.push(evil[0]);
    let upgraded =
        common::raw::upgrade(&url, "/socket.io/?EIO=4&transport=websocket", &upgrade).await;
    assert_eq!(upgraded.status, 403);

    // What clients are told names no Rust type.
    let mut node = Client::node().await;
    let refused = node
        .connect_with(&url, json!({"nom": 5}), "websocket")
        .await
        .unwrap_err();
    assert_eq!(refused, "invalid payload: name: missing");
    let ann = node
        .connect_with(&url, json!({"name": "ann"}), "websocket")
        .await
        .unwrap();
    let ack = node.emit_ack(&ann, "message", json!([{"text": 5}])).await;
    assert_eq!(ack[0]["error"]["message"], "text: expected a string");
    let name = "n".repeat(100_000);
    let ack = node.emit_ack(&ann, &name, json!([1])).await;
    let told = ack[0]["error"]["message"].as_str().unwrap();
    assert!(
        told.len() < 150,
        "a 100 KB name is not echoed: {} bytes",
        told.len()
    );

    // A 2 MB message closes its connection; ann is still served.
    let ws_url = format!("ws://{host}/socket.io/?EIO=4&transport=websocket");
    let (mut big, _) = tokio_tungstenite::connect_async(&ws_url).await.unwrap();
    big.send(Message::text("40{\"name\":\"big\"}"))
        .await
        .unwrap();
    let _ = big
        .send(Message::text(format!(
            "42[\"message\",{{\"text\":\"{}\"}}]",
            "x".repeat(2_000_000)
        )))
        .await;
    assert!(
        closed(&mut big).await,
        "a 2 MB message closes the websocket"
    );

    // A 16 MB unauthenticated CONNECT to the Admin UI's namespace: refused before the
    // password is looked at, and the server does not grow by it.
    let before = rss_kb(pid);
    let (mut admin, _) = tokio_tungstenite::connect_async(&ws_url).await.unwrap();
    let password = "p".repeat(16 << 20);
    let _ = admin
        .send(Message::text(format!(
            "40/admin,{{\"username\":\"admin\",\"password\":\"{password}\"}}"
        )))
        .await;
    assert!(
        closed(&mut admin).await,
        "the 16 MB CONNECT closes the websocket"
    );
    let grown = rss_kb(pid).saturating_sub(before);
    assert!(grown < 4_096, "the server grew by {grown} kB");

    let ack = node
        .emit_ack(&ann, "message", json!([{"text": "still here"}]))
        .await;
    assert!(ack[0].get("error").is_none(), "{ack}");
    node.disconnect(&ann).await;
    terminate(child).await;
}

/// The chat recovers a member's connection: ann's is cut twice while bob says 300
/// messages; she comes back each time under her name (not "already here"), recovered,
/// and has heard every message once, in order.
#[tokio::test]
async fn a_chat_member_whose_connection_drops_comes_back_and_misses_nothing() {
    use common::recovery::{Proxy, Run, across_two_cuts, assert_recovered};
    let env = [("CHAT_MESSAGE_RATE", "1000/1s")];
    let (child, url) = start(&example("chat"), &env).await;
    let proxy = Proxy::to(&url).await;
    let mut run = Run::start(&proxy.url, &url, "websocket", 300, "chat");
    let [first, back, again, done] = across_two_cuts(&proxy, &mut run).await;
    assert_recovered(&first, &[&back, &again], &done, 300, "the chat");
    drop(proxy);
    terminate(child).await;
}
