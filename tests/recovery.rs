//! Connection state recovery with a real socket.io-client and Specter's client module,
//! behind a TCP proxy that the test cuts: what the client missed while it was away
//! arrives after it is back, in order, exactly once.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use specter::prelude::*;
use specter::{DispatchSettings, Recovery, RecoverySettings, ServiceManager};

use common::TestServer;
use common::recovery::{Proxy, Run, across_two_cuts, assert_recovered};

/// What the app's `connect` and `disconnect` subscribers saw, in order.
type Seen = Arc<Mutex<Vec<String>>>;

#[derive(Clone)]
struct Name(String);

/// A room of members: each is in `chat`, named by its auth; `say` reaches the others.
fn chat(settings: RecoverySettings, seen: Seen) -> ServiceManager {
    let app = ServiceManager::builder()
        .dispatch(DispatchSettings::default().recovery(settings))
        .build()
        .unwrap();
    let ingress = app.ingress();
    let on_connect = seen.clone();
    ingress
        .on(
            "connect",
            move |socket: SocketRef, Data(auth): Data<Value>, recovery: Recovery| {
                let name = auth["name"].as_str().unwrap_or("?").to_owned();
                let was = Session::<Name>::get(&socket).map(|n| n.0);
                if was.is_none() {
                    Session::insert(&socket, Name(name.clone()));
                    socket.join("chat");
                }
                let state = match recovery {
                    Recovery::Recovered { .. } => format!("back {name} as {}", was.unwrap()),
                    _ => format!("new {name}"),
                };
                on_connect.lock().unwrap().push(state);
            },
        )
        .owner("chat")
        .subscribe()
        .unwrap();
    ingress
        .on(
            "say",
            |deliver: Deliver, socket: SocketRef, Data(said): Data<Value>| async move {
                deliver.to_all(socket.to("chat"), "said", &said).await
            },
        )
        .owner("chat")
        .subscribe()
        .unwrap();
    let on_disconnect = seen;
    ingress
        .on(
            "disconnect",
            move |socket: SocketRef, recovery: Recovery| {
                let name = Session::<Name>::get(&socket).map_or("?".into(), |n| n.0);
                on_disconnect
                    .lock()
                    .unwrap()
                    .push(format!("gone {name} {recovery:?}"));
            },
        )
        .owner("chat")
        .subscribe()
        .unwrap();
    app
}

/// 300 messages said while the receiver's connection is cut twice, each time refused
/// for 1.5 s: it hears all 300, once each, in order, and both reconnects are recovered
/// under the same id; the app's `connect` subscribers see the member come back with its
/// session, and no `disconnect` subscriber runs for a connection that is only away.
async fn nothing_lost_across_two_cuts(transport: &str) {
    let seen = Seen::default();
    let server = TestServer::start(chat(RecoverySettings::default(), seen.clone())).await;
    let proxy = Proxy::to(&server.url).await;
    let mut run = Run::start(&proxy.url, &server.url, transport, 300, "");
    let [first, back, again, done] = across_two_cuts(&proxy, &mut run).await;
    assert_recovered(&first, &[&back, &again], &done, 300, transport);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        ["new rx", "new tx", "back rx as rx", "back rx as rx"],
        "the member came back twice, and nobody left"
    );
    drop(proxy);
    server.stop().await;
}

#[tokio::test]
async fn nothing_is_lost_across_two_cuts_over_websocket() {
    nothing_lost_across_two_cuts("websocket").await;
}

#[tokio::test]
async fn nothing_is_lost_across_two_cuts_over_polling() {
    nothing_lost_across_two_cuts("polling").await;
}

/// A session that cannot come back: its client reconnects to a fresh connection
/// (`recovered` false, a new id), and the app's `disconnect` subscribers run for the
/// old one, saying why, before the member is new again.
async fn a_session_past_its_bounds_ends(settings: RecoverySettings, why: &str) {
    let seen = Seen::default();
    let server = TestServer::start(chat(settings, seen.clone())).await;
    let proxy = Proxy::to(&server.url).await;
    let mut run = Run::start(&proxy.url, &server.url, "websocket", 300, "");
    let first = run.next("connect").await;
    run.next("sending").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    proxy.cut(Duration::from_millis(1500)).await;
    let back = run.next("connect").await;
    assert_eq!(back["recovered"], false, "{back}");
    assert_ne!(back["id"], first["id"], "a new id: {back}");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        ["new rx", "new tx", &format!("gone rx {why}"), "new rx"],
        "the old session ended, then the member was new"
    );
    drop(proxy);
    server.stop().await;
}

#[tokio::test]
async fn a_session_past_its_time_ends_and_its_client_starts_afresh() {
    let settings = RecoverySettings {
        max_disconnection: Duration::from_millis(500),
        ..RecoverySettings::default()
    };
    a_session_past_its_bounds_ends(settings, "TimedOut").await;
}

#[tokio::test]
async fn a_session_past_its_buffer_ends_and_its_client_starts_afresh() {
    let settings = RecoverySettings {
        max_events: 20,
        ..RecoverySettings::default()
    };
    a_session_past_its_bounds_ends(settings, "Overflowed").await;
}

/// A server that shuts down while a client is away ends its session: the app's
/// `disconnect` subscribers run for it, told so, within the shutdown; then for the
/// client still connected.
#[tokio::test]
async fn a_shutdown_ends_the_sessions_whose_clients_are_away() {
    let seen = Seen::default();
    let server = TestServer::start(chat(RecoverySettings::default(), seen.clone())).await;
    let proxy = Proxy::to(&server.url).await;
    let mut run = Run::start(&proxy.url, &server.url, "websocket", 50, "");
    run.next("connect").await;
    run.next("sending").await;
    proxy.close();
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.stop().await;
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        ["new rx", "new tx", "gone rx Shutdown", "gone tx Shutdown"],
        "the member away when the server shut down left with it, then the one connected"
    );
}

#[tokio::test]
async fn a_lost_connection_past_the_sessions_a_namespace_may_hold_is_not_kept() {
    let settings = RecoverySettings {
        max_away: 0,
        ..RecoverySettings::default()
    };
    a_session_past_its_bounds_ends(settings, "Crowded").await;
}
