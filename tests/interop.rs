//! Interop with node's socket.io-client and python-socketio, each over websocket and
//! long-polling: plain and binary payloads, acks, server-to-client emits, rooms and
//! broadcasts from a handler.

mod common;

use bytes::Bytes;
use common::{Client, TestServer};
use serde::Deserialize;
use serde_json::{Value, json};
use specter::SocketIo;
use specter::prelude::*;

#[derive(Deserialize)]
struct Say {
    room: String,
    text: String,
}

#[derive(Default)]
struct Interop;

#[handler(name = "interop", discover = false)]
impl Interop {
    #[on("echo")]
    fn echo(&self, Data(v): Data<Value>) -> Value {
        v
    }

    /// Binary in, binary back: as an emit and, reversed, as the ack.
    #[on("bin")]
    fn bin(&self, socket: SocketRef, Data(b): Data<Bytes>) -> Bytes {
        socket.emit("bin_back", &b).ok();
        b.iter().rev().copied().collect::<Vec<u8>>().into()
    }

    /// Runs once the client is told it is connected, before its first event.
    #[on("connected")]
    fn greet(&self, socket: SocketRef) {
        socket.emit("greeting", &socket.id.to_string()).ok();
    }

    #[on("hello")]
    fn hello(&self, socket: SocketRef) {
        socket
            .emit("welcome", &json!({ "id": socket.id.to_string() }))
            .ok();
    }

    #[on("join")]
    fn join(&self, socket: SocketRef, Data(room): Data<String>) -> String {
        socket.join(room.clone());
        format!("joined {room}")
    }

    #[on("say")]
    async fn say(&self, socket: SocketRef, Data(say): Data<Say>) {
        socket.to(say.room).emit("said", &say.text).await.ok();
    }

    #[on("shout")]
    async fn shout(&self, io: SocketIo, Data(text): Data<String>) {
        io.emit("shouted", &text).await.ok();
    }
}

async fn scenario(kind: &str, transport: &str) {
    let app = ServiceManager::builder().handler(Interop).build().unwrap();
    let server = TestServer::start(app).await;
    let mut c = Client::named(kind).await;
    let connect = async |c: &mut Client| {
        c.connect_with(&server.url, json!({}), transport)
            .await
            .unwrap()
    };
    let (a, b, outsider) = (
        connect(&mut c).await,
        connect(&mut c).await,
        connect(&mut c).await,
    );

    // the `connected` hook's emit is the first thing a socket receives
    c.emit(&a, "hello", json!([])).await;
    let (first, greeting) = c.next_of(&a).await;
    assert_eq!(first, "greeting", "{kind} {transport}");
    let (second, welcome) = c.next_of(&a).await;
    assert_eq!(second, "welcome", "{kind} {transport}");
    assert_eq!(greeting[0], welcome[0]["id"]);

    // plain payload and ack
    let payload = json!({"text": "héllo", "list": [1, 2.5, null, true], "nested": {"k": "v"}});
    assert_eq!(
        c.emit_ack(&a, "echo", json!([payload])).await,
        json!([payload])
    );

    // binary payload, binary emit and binary ack
    let ack = c
        .emit_ack(&a, "bin", json!([{"$bin": [1, 2, 3, 255]}]))
        .await;
    assert_eq!(ack, json!([{"$bin": [255, 3, 2, 1]}]), "{kind} {transport}");
    assert_eq!(
        c.next_event(&a, "bin_back").await,
        json!([{"$bin": [1, 2, 3, 255]}])
    );

    // server-to-client emit
    c.emit(&a, "hello", json!([])).await;
    let welcome = c.next_event(&a, "welcome").await;
    assert!(welcome[0]["id"].as_str().is_some_and(|id| !id.is_empty()));

    // rooms: a and b join "r"; a's message reaches b, not a, not the outsider
    assert_eq!(
        c.emit_ack(&a, "join", json!(["r"])).await,
        json!(["joined r"])
    );
    assert_eq!(
        c.emit_ack(&b, "join", json!(["r"])).await,
        json!(["joined r"])
    );
    c.emit(&a, "say", json!([{"room": "r", "text": "psst"}]))
        .await;
    assert_eq!(c.next_event(&b, "said").await, json!(["psst"]));

    // broadcast to everyone; it arrives after "said" would have
    c.emit(&outsider, "shout", json!(["all"])).await;
    for s in [&a, &b, &outsider] {
        assert_eq!(c.next_event(s, "shouted").await, json!(["all"]));
    }
    assert!(
        !c.seen(&outsider, "said"),
        "the outsider is not in the room"
    );
    assert!(!c.seen(&a, "said"), "to(room) skips the sender");
    server.stop().await;
}

#[tokio::test]
async fn node_over_websocket() {
    scenario("node", "websocket").await;
}

#[tokio::test]
async fn node_over_polling() {
    scenario("node", "polling").await;
}

#[tokio::test]
async fn python_over_websocket() {
    scenario("python", "websocket").await;
}

#[tokio::test]
async fn python_over_polling() {
    scenario("python", "polling").await;
}

#[tokio::test]
async fn python_connect_refusal_and_namespaces() {
    let app = ServiceManager::builder().handler(Interop).build().unwrap();
    app.ingress()
        .on("connect", |Data(auth): Data<Value>| {
            match auth["token"].as_str() {
                Some("ok") => Ok(()),
                _ => Err(Reject::new("bad token")),
            }
        })
        .owner("gate")
        .subscribe()
        .unwrap();
    app.ingress()
        .on("whoami", |s: SocketRef| s.ns().to_owned())
        .namespace("/admin")
        .owner("test")
        .subscribe()
        .unwrap();
    let server = TestServer::start(app).await;
    let mut c = Client::python().await;
    let refused = c
        .connect_with(&server.url, json!({"token": "no"}), "websocket")
        .await;
    assert_eq!(refused.unwrap_err(), "bad token");
    let admin = c
        .connect_with(&format!("{}/admin", server.url), json!({}), "websocket")
        .await
        .unwrap();
    assert_eq!(
        c.emit_ack(&admin, "whoami", json!([])).await,
        json!(["/admin"])
    );
    server.stop().await;
}
