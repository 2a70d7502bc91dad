//! Other wires than JSON over Engine.IO 4: MessagePack packets (feature `msgpack`,
//! node's `socket.io-msgpack-parser`) with the in-process client and with node's, and
//! socket.io-client 2.x, which speaks Engine.IO 3 (feature `eio3`, node's `allowEIO3`).

mod common;

use serde_json::{Value, json};
use specter::prelude::*;
use specter::testing::{Arg, TestClient, TestError};
use specter::{Args, Spread};

struct Echo;

#[handler(name = "echo", discover = false)]
impl Echo {
    #[on("connect")]
    fn connect(&self, Data(auth): Data<Value>) -> Result<(), Reject> {
        match auth["name"].as_str() {
            Some("eve") => Err(Reject::new("not you")),
            _ => Ok(()),
        }
    }

    #[on("connected")]
    async fn hello(&self, deliver: Deliver) {
        deliver.emit_args("pushed", &("hello", 2)).await.ok();
    }

    #[on("echo")]
    fn echo(&self, args: Args) -> Args {
        args
    }

    /// Sent to everyone, serialized once (JSON) or per recipient (MessagePack).
    #[on("shout")]
    async fn shout(&self, deliver: Deliver, socket: SocketRef, Data(v): Data<Value>) -> bool {
        deliver
            .to_all(socket.broadcast(), "heard", &v)
            .await
            .is_ok()
    }

    #[on("stat")]
    fn stat(&self, Data((path, size)): Data<(String, u32)>) -> Spread<(String, u32)> {
        Spread((path, size * 2))
    }
}

fn app(msgpack: bool) -> ServiceManager {
    let builder = ServiceManager::builder().handler(Echo);
    let builder = if msgpack { builder.msgpack() } else { builder };
    builder.build().unwrap()
}

#[tokio::test]
async fn a_broadcast_reaches_every_client_intact_on_either_wire() {
    for msgpack in [false, true] {
        let app = app(msgpack);
        let client = || {
            let builder = TestClient::builder();
            let builder = if msgpack { builder.msgpack() } else { builder };
            builder.connect(&app)
        };
        let mut sender = client().await.unwrap();
        let mut hearers = vec![client().await.unwrap(), client().await.unwrap()];
        sender.recv().await.unwrap(); // pushed
        let said = json!({"text": "olá \"you\"", "n": [1, 2.5, null]});
        let ok = sender.emit_with_ack("shout", said.clone()).await.unwrap();
        assert_eq!(ok, [json!(true)], "msgpack: {msgpack}");
        for hearer in &mut hearers {
            assert_eq!(hearer.recv().await.unwrap().event, "pushed");
            let heard = hearer.recv().await.unwrap();
            assert_eq!(
                (heard.event.as_str(), heard.args),
                ("heard", vec![said.clone()]),
                "msgpack: {msgpack}"
            );
        }
        app.shutdown().await;
    }
}

#[tokio::test]
async fn a_broadcast_from_outside_subscribers_reaches_every_client_intact_on_either_wire() {
    for msgpack in [false, true] {
        let app = app(msgpack);
        let mut clients = Vec::new();
        for _ in 0..2 {
            let builder = TestClient::builder();
            let builder = if msgpack { builder.msgpack() } else { builder };
            let mut client = builder.connect(&app).await.unwrap();
            client.recv().await.unwrap(); // pushed
            clients.push(client);
        }
        let said = json!({"text": "olá \"you\"", "n": [1, 2.5, null]});
        app.outbox().to_everyone("heard", &said).await.unwrap();
        for client in &mut clients {
            let heard = client.recv().await.unwrap();
            assert_eq!(
                (heard.event.as_str(), heard.args),
                ("heard", vec![said.clone()]),
                "msgpack: {msgpack}"
            );
        }
        app.shutdown().await;
        // Nobody is left to hear it, and the call does not panic.
        let after = app.outbox().to_everyone("heard", &said).await;
        assert!(
            matches!(after, Ok(()) | Err(specter::Undelivered::Closed)),
            "after shutdown: {after:?}"
        );
    }
}

#[tokio::test]
async fn the_test_client_speaks_msgpack_with_binary_in_place() {
    let app = app(true);
    let mut client = TestClient::builder().msgpack().connect(&app).await.unwrap();
    let pushed = client.recv().await.unwrap();
    assert_eq!(
        (pushed.event.as_str(), pushed.args),
        ("pushed", vec![json!("hello"), json!(2)])
    );
    let args = vec![
        Arg::from(json!(1)),
        Arg::from(json!({"three": [true, null]})),
        Arg::Binary(vec![1, 2, 3]),
        Arg::from(json!("four")),
    ];
    assert_eq!(
        client.emit_args_with_ack("echo", args).await.unwrap(),
        [
            json!(1),
            json!({"three": [true, null]}),
            json!([1, 2, 3]),
            json!("four")
        ]
    );
    assert_eq!(
        client
            .emit_args_with_ack("stat", vec![json!("/a").into(), json!(21).into()])
            .await
            .unwrap(),
        [json!("/a"), json!(42)]
    );
    let refused = TestClient::builder()
        .msgpack()
        .auth(json!({"name": "eve"}))
        .connect(&app)
        .await;
    assert_eq!(refused.err(), Some(TestError::Refused("not you".into())));
}

#[tokio::test]
async fn node_speaks_msgpack_on_both_transports() {
    let server = common::TestServer::start(app(true)).await;
    let mut c = common::Client::node().await;
    for transport in ["websocket", "polling"] {
        let s = c.connect_msgpack(&server.url, transport).await.unwrap();
        assert_eq!(
            c.next_event(&s, "pushed").await,
            json!(["hello", 2]),
            "{transport}"
        );
        let args = json!([1, {"$bin": [1, 2, 3]}, {"nested": {"$bin": [255]}}, "four", null]);
        assert_eq!(
            c.emit_ack(&s, "echo", args.clone()).await,
            args,
            "{transport}"
        );
        assert_eq!(
            c.emit_ack(&s, "stat", json!(["/b", 4])).await,
            json!(["/b", 8]),
            "{transport}"
        );
    }
    server.stop().await;
}

/// Runs node's socket.io-client 2.x script against `url`; its JSON line, and whether it
/// finished before its wait.
async fn v2_client(url: &str, transport: &str, binary: &str, wait_ms: u32) -> (Value, bool) {
    common::ensure_node_packages();
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        tokio::process::Command::new("node")
            .args([
                "v2-client.mjs",
                url,
                transport,
                binary,
                &wait_ms.to_string(),
            ])
            .current_dir(common::node_dir())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the v2 client finishes")
    .unwrap();
    let result: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    (result, out.status.success())
}

#[tokio::test]
async fn socket_io_client_2_connects_over_engine_io_3_on_both_transports() {
    let server = common::TestServer::start(app(false)).await;
    for (transport, last, echoed) in [
        ("websocket", "binary", json!({"$bin": [1, 2, 3]})),
        ("polling", "text", json!("four")),
    ] {
        let (result, ok) = v2_client(&server.url, transport, last, 8000).await;
        assert!(ok, "{transport}: {result}");
        assert!(
            result["id"].as_str().is_some_and(|id| !id.is_empty()),
            "{result}"
        );
        assert_eq!(
            result["ack"],
            json!([1, "two", {"three": [true]}, echoed]),
            "{transport}"
        );
        assert_eq!(result["pushed"], json!(["hello", 2]), "{transport}");
    }
    server.stop().await;
}

#[tokio::test]
async fn engineioxide_loses_binary_sent_to_socket_io_client_2_over_long_polling() {
    let server = common::TestServer::start(app(false)).await;
    // The binary event reaches the server (its ack is sent), but the answer, binary
    // too, never reaches the client over Engine.IO 3 long-polling: engineioxide's.
    let (result, ok) = v2_client(&server.url, "polling", "binary", 2000).await;
    assert!(!ok, "if this passes, engineioxide fixed it: {result}");
    assert_eq!(result["error"], "timeout");
    assert_eq!(result["pushed"], json!(["hello", 2]), "text still arrives");
    server.stop().await;
}
