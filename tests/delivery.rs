//! Nothing lost, nothing reordered: per-socket order, the `concurrent` opt-out, the bound
//! on waiting events, `disconnect` after queued events, and a client that stops reading.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Log, TestServer, emit_ack, eventually};
use futures_util::future::join_all;
use serde_json::{Value, json};
use specter::DispatchSettings;
use specter::prelude::*;
use specter::testing::TestClient;
use specter::{DisconnectReason, SocketIo};

/// A subscriber that takes longer for earlier events: without per-socket order, later
/// events would finish first.
fn slow_logger(
    log: Log,
) -> impl Fn(Data<u64>) -> std::pin::Pin<Box<dyn std::future::Future<Output = u64> + Send>>
+ Send
+ Sync
+ 'static {
    move |Data(i): Data<u64>| {
        let log = log.clone();
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(20u64.saturating_sub(i * 2))).await;
            log.push(i.to_string());
            i
        })
    }
}

/// Emits `n` events `event` with payloads 0..n at once from one client, each asking
/// for an ack; returns the acks in the order sent.
async fn burst(client: &TestClient, event: &str, n: u64) -> Vec<Vec<Value>> {
    join_all((0..n).map(|i| client.emit_with_ack(event, i)))
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test]
async fn events_of_one_socket_run_in_the_order_they_arrived() {
    let log = Log::default();
    let app = ServiceManager::builder().build().unwrap();
    app.ingress()
        .on("work", slow_logger(log.clone()))
        .owner("slow")
        .subscribe()
        .unwrap();
    let client = TestClient::connect(&app).await.unwrap();
    let acks = burst(&client, "work", 10).await;
    let order: Vec<String> = (0..10).map(|i: u64| i.to_string()).collect();
    assert_eq!(
        log.take(),
        order,
        "each event ran after the previous one finished"
    );
    assert_eq!(acks, (0..10).map(|i| vec![json!(i)]).collect::<Vec<_>>());
    app.shutdown().await;
}

#[tokio::test]
async fn a_concurrent_event_does_not_wait_for_the_earlier_ones() {
    let log = Log::default();
    let app = ServiceManager::builder().build().unwrap();
    app.ingress()
        .on("work", slow_logger(log.clone()))
        .owner("slow")
        .concurrent()
        .subscribe()
        .unwrap();
    let client = TestClient::connect(&app).await.unwrap();
    burst(&client, "work", 10).await;
    let ran = log.take();
    assert_eq!(ran.len(), 10);
    assert_eq!(
        ran.first().map(String::as_str),
        Some("9"),
        "the shortest finished first: {ran:?}"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn past_the_bound_events_are_refused_with_overloaded() {
    let app = ServiceManager::builder()
        .dispatch(DispatchSettings::default().max_queued_events(2))
        .build()
        .unwrap();
    app.ingress()
        .on("work", async |Data(i): Data<u64>| {
            tokio::time::sleep(Duration::from_millis(50)).await;
            i
        })
        .owner("slow")
        .subscribe()
        .unwrap();
    let client = TestClient::connect(&app).await.unwrap();
    let acks = burst(&client, "work", 5).await;
    assert_eq!(
        &acks[..3],
        &[vec![json!(0)], vec![json!(1)], vec![json!(2)]],
        "one ran, two waited"
    );
    for refused in &acks[3..] {
        assert_eq!(refused[0]["error"]["kind"], "overloaded", "{refused:?}");
        assert_eq!(
            refused[0]["error"]["message"],
            "more than 2 events of this socket are waiting; this one was not dispatched"
        );
    }
    assert_eq!(app.ingress().delivery_stats().overloaded_events, 2);
    // The socket is served again once its queue drained.
    assert_eq!(emit_ack(&client, "work", json!([7])).await, json!([7]));
    app.shutdown().await;
}

#[tokio::test]
async fn disconnect_subscribers_run_after_the_queued_events() {
    let log = Log::default();
    let app = ServiceManager::builder().build().unwrap();
    app.ingress()
        .on("work", slow_logger(log.clone()))
        .owner("slow")
        .subscribe()
        .unwrap();
    let l = log.clone();
    app.ingress()
        .on("disconnect", move || l.push("disconnect"))
        .owner("bye")
        .subscribe()
        .unwrap();
    let client = TestClient::connect(&app).await.unwrap();
    for i in 0..5u64 {
        client.emit("work", i).unwrap();
    }
    client.disconnect().await;
    eventually("every event and the disconnect", || {
        log.snapshot().len() == 6
    })
    .await;
    assert_eq!(log.take(), ["0", "1", "2", "3", "4", "disconnect"]);
    app.shutdown().await;
}

/// A websocket client that joins `/` and then never reads again.
async fn stalled_client(url: &str) -> impl Sized + use<> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let ws_url = format!(
        "{}/socket.io/?EIO=4&transport=websocket",
        url.replacen("http", "ws", 1)
    );
    // A small receive window, so that what the server sends piles up in its own
    // buffers at once, however large the kernel would have grown the window.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(16 * 1024).unwrap();
    let tcp = socket
        .connect(url.trim_start_matches("http://").parse().unwrap())
        .await
        .unwrap();
    let (mut ws, _) = tokio_tungstenite::client_async(ws_url, tcp).await.unwrap();
    ws.send(Message::text("40")).await.unwrap();
    while let Some(Ok(m)) = ws.next().await {
        if m.to_text().is_ok_and(|t| t.starts_with("40")) {
            break;
        }
    }
    ws // held, never read: the server's packets pile up
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_disconnected_while_the_others_receive_everything() {
    const MESSAGES: usize = 3000;
    let left = Log::default();
    let app = ServiceManager::builder()
        // A send waits 1 s: long enough that the healthy client, whose reader shares a
        // busy machine with the other tests, is never taken for a stalled one, and well
        // inside the heartbeat's 5 s, so the stalled client is found stalled before its
        // missed pings disconnect it.
        .dispatch(DispatchSettings::default().send_timeout(Duration::from_secs(1)))
        .write_timeout(Duration::from_secs(2))
        .configure_io(|io| {
            io.ping_interval(Duration::from_secs(1))
                .ping_timeout(Duration::from_secs(5))
        })
        .build()
        .unwrap();
    let l = left.clone();
    app.ingress()
        .on("disconnect", move |reason: DisconnectReason| {
            l.push(format!("{reason:?}"))
        })
        .owner("watch")
        .subscribe()
        .unwrap();
    app.ingress()
        .on("flood", async |deliver: Deliver, io: SocketIo| {
            let page = "x".repeat(8 * 1024);
            for i in 0..MESSAGES {
                // Dropped only for the stalled client; logged and counted.
                let _ = deliver
                    .to_all(io.broadcast(), "page", &json!({"i": i, "page": page}))
                    .await;
            }
            "done"
        })
        .owner("flood")
        .subscribe()
        .unwrap();
    let server = TestServer::start(app).await;
    let _stalled = stalled_client(&server.url).await;
    let mut healthy = TestClient::builder()
        .timeout(Duration::from_secs(30))
        .connect_url(&server.url)
        .await
        .unwrap();
    assert_eq!(server.app.io().sockets().len(), 2);

    let ack = healthy.emit_with_ack("flood", json!(null)).await.unwrap();
    assert_eq!(ack, [json!("done")]);
    for i in 0..MESSAGES {
        let page = healthy.recv().await.unwrap();
        assert_eq!(
            (page.event.as_str(), &page.args[0]["i"]),
            ("page", &json!(i))
        );
    }
    eventually("the stalled client is disconnected", || {
        left.snapshot().len() == 1
    })
    .await;
    assert_eq!(
        server.app.io().sockets().len(),
        1,
        "the healthy client stays"
    );
    assert_eq!(
        left.take(),
        ["HeartbeatTimeout"],
        "it stopped answering pings too"
    );
    let stats = server.app.ingress().delivery_stats();
    assert_eq!(stats.stalled_clients, 1, "{stats:?}");
    assert!(stats.emits_dropped > 0, "{stats:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_100000_events_is_bounded_and_other_clients_are_served_meanwhile() {
    const FLOOD: u64 = 100_000;
    let app = ServiceManager::builder().build().unwrap();
    // The flooder's first event holds its socket until the test lets it go: the queue
    // stays full however long the flood takes to arrive.
    let release = Arc::new(tokio::sync::Semaphore::new(0));
    let held = release.clone();
    app.ingress()
        .on("slow", move |Data(_): Data<u64>| {
            let held = held.clone();
            async move {
                let _ = held.acquire().await;
            }
        })
        .owner("slow")
        .subscribe()
        .unwrap();
    app.ingress()
        .on("ping", |Data(i): Data<u64>| i)
        .owner("ping")
        .subscribe()
        .unwrap();
    let flooder = TestClient::connect(&app).await.unwrap();
    let other = TestClient::connect(&app).await.unwrap();
    for i in 0..FLOOD {
        flooder.emit("slow", i).unwrap();
    }
    // Served while the flooder's first event sleeps and the rest wait or are refused.
    assert_eq!(emit_ack(&other, "ping", json!([1])).await, json!([1]));
    let max = 4096; // what may wait per socket by default (`max_queued_events`)
    eventually("every event of the flood is queued or refused", || {
        app.ingress().delivery_stats().overloaded_events == FLOOD - 1 - max
    })
    .await;
    release.close();
    app.shutdown().await;
}

// ---- timeouts: a subscriber that never finishes holds nothing forever ---------------

struct Stuck(Log);

#[handler(name = "stuck", discover = false)]
impl Stuck {
    #[on("work", priority = 1, timeout = "100ms")]
    async fn never(&self, Data(i): Data<u64>) -> u64 {
        self.0.push(format!("stuck {i}"));
        std::future::pending::<u64>().await
    }
}

#[tokio::test]
async fn a_subscriber_past_its_timeout_is_dropped_and_the_ack_still_comes() {
    let log = Log::default();
    let app = ServiceManager::builder()
        .handler(Stuck(log.clone()))
        .build()
        .unwrap();
    let l = log.clone();
    app.ingress()
        .on("work", move |Data(i): Data<u64>| {
            l.push(format!("after {i}"))
        })
        .owner("after")
        .priority(2)
        .subscribe()
        .unwrap();
    let errors = Log::default();
    let e = errors.clone();
    app.ingress()
        .on_error(move |err: specter::ErrorEvent| {
            let e = e.clone();
            async move {
                e.push(format!(
                    "{} {}: {}",
                    err.owner, err.failure.kind, err.failure.message
                ))
            }
        })
        .subscribe();
    let client = TestClient::connect(&app).await.unwrap(); // boots the app
    let table = app.print_event_table();
    assert!(
        table
            .lines()
            .any(|l| l.contains("stuck") && l.ends_with("timeout=100ms")),
        "the event table shows the timeout:\n{table}"
    );
    let acks = burst(&client, "work", 2).await;
    for ack in &acks {
        assert_eq!(
            ack[0]["error"],
            json!({"handler": "stuck", "kind": "timeout", "message": "did not finish within 100ms"})
        );
    }
    assert_eq!(
        log.take(),
        ["stuck 0", "after 0", "stuck 1", "after 1"],
        "the next subscriber ran, and the socket's next event was not held"
    );
    assert_eq!(errors.take().len(), 2);
    app.shutdown().await;
}

#[tokio::test]
async fn a_connect_subscriber_past_the_app_timeout_refuses_the_connection() {
    let app = ServiceManager::builder()
        .dispatch(DispatchSettings::default().subscriber_timeout(Duration::from_millis(50)))
        .build()
        .unwrap();
    app.ingress()
        .on("connect", async || std::future::pending::<()>().await)
        .owner("slow_gate")
        .subscribe()
        .unwrap();
    let refused = TestClient::connect(&app).await.err();
    assert_eq!(
        refused,
        Some(specter::testing::TestError::Refused(
            "timeout: did not finish within 50ms".into()
        ))
    );
    app.shutdown().await;
}
