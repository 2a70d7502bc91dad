//! The `connected` hook: subscribers that run once the client has been told it is
//! connected, in priority order, before the socket's first event.

use std::time::Duration;

use serde_json::{Value, json};
use specter::prelude::*;
use specter::testing::{TestClient, TestError};

/// Lets in who gives a name, puts them in the lobby, and answers pings.
struct Doorman;

#[handler(name = "doorman", discover = false)]
impl Doorman {
    #[on("connect")]
    fn connect(&self, Data(auth): Data<Value>) -> Result<(), Reject> {
        match auth["name"].as_str() {
            Some(_) => Ok(()),
            None => Err(Reject::new("who are you?")),
        }
    }

    #[on("connected", priority = 10)]
    fn join(&self, socket: SocketRef) {
        socket.join("lobby");
        socket.emit("first", &()).ok();
    }

    #[on("ping")]
    fn ping(&self, socket: SocketRef) {
        socket.emit("pong", &()).ok();
    }
}

/// Greets, slowly: the client's first event still waits for it.
struct Greeter;

#[handler(name = "greeter", discover = false)]
impl Greeter {
    #[on("connected", priority = 20)]
    async fn welcome(&self, socket: SocketRef, Data(auth): Data<Value>) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        socket.emit("welcome", &auth["name"]).ok();
    }
}

/// Fails: the subscribers after it still run.
struct Broken;

#[handler(name = "broken", discover = false)]
impl Broken {
    #[on("connected", priority = 30)]
    fn fails(&self) -> Result<(), std::io::Error> {
        Err(std::io::Error::other("the greeter is out"))
    }
}

/// Speaks last.
struct Usher;

#[handler(name = "usher", discover = false)]
impl Usher {
    #[on("connected", priority = 40)]
    fn last(&self, socket: SocketRef) {
        socket.emit("last", &()).ok();
    }
}

fn app() -> ServiceManager {
    ServiceManager::builder()
        .handler(Doorman)
        .handler(Greeter)
        .handler(Broken)
        .handler(Usher)
        .build()
        .unwrap()
}

async fn next_events(client: &mut TestClient, n: usize) -> Vec<(String, Vec<Value>)> {
    let mut got = Vec::with_capacity(n);
    for _ in 0..n {
        let event = tokio::time::timeout(Duration::from_secs(5), client.recv())
            .await
            .expect("an event within 5 s")
            .unwrap();
        got.push((event.event, event.args));
    }
    got
}

async fn ann(app: &ServiceManager) -> TestClient {
    TestClient::builder()
        .auth(json!({"name": "ann"}))
        .connect(app)
        .await
        .unwrap()
}

#[tokio::test]
async fn connected_subscribers_run_in_priority_order_before_the_first_event() {
    let app = app();
    let mut ann = ann(&app).await;
    // Sent at once: it is dispatched only after every `connected` subscriber is done.
    ann.emit("ping", ()).unwrap();
    let got = next_events(&mut ann, 4).await;
    let names: Vec<&str> = got.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(names, ["first", "welcome", "last", "pong"]);
    assert_eq!(got[1].1, [json!("ann")]);
    assert_eq!(app.io().within("lobby").sockets().len(), 1);
    ann.disconnect().await;
}

#[tokio::test]
async fn a_client_cannot_run_the_connected_hook() {
    let app = app();
    let mut ann = ann(&app).await;
    next_events(&mut ann, 3).await;
    let ack = ann
        .emit_with_ack("connected", json!({"name": "eve"}))
        .await
        .unwrap();
    assert_eq!(ack[0]["error"]["kind"], "unknown_event", "{ack:?}");
    // Still connected, and no hook ran again.
    ann.emit("ping", ()).unwrap();
    let names: Vec<String> = next_events(&mut ann, 1)
        .await
        .into_iter()
        .map(|(e, _)| e)
        .collect();
    assert_eq!(names, ["pong"]);
    assert!(ann.received().is_empty());
    ann.disconnect().await;
}

#[tokio::test]
async fn a_refused_connection_runs_no_connected_subscriber() {
    let app = app();
    let refused = TestClient::connect(&app).await.err().unwrap();
    assert_eq!(refused, TestError::Refused("who are you?".into()));
    assert_eq!(app.io().within("lobby").sockets().len(), 0);
}
