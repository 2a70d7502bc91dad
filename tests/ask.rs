//! Asking clients through `Deliver`: one socket with a timeout, a typed event with its
//! answer, a room of sockets as a stream of answers, and volatile emits.

use std::time::Duration;

use futures_util::StreamExt;
use serde::Serialize;
use serde_json::{Value, json};
use specter::SocketIo;
use specter::prelude::*;
use specter::testing::TestClient;
use specter::{Public, ServerEvent, Unanswered};

const WAIT: Duration = Duration::from_millis(300);

#[derive(Serialize, ServerEvent)]
#[event("confirm", answer = bool)]
struct Confirm {
    question: String,
}

struct Asker;

#[handler(name = "asker", discover = false)]
impl Asker {
    #[on("connect")]
    fn connect(&self, socket: SocketRef) {
        socket.join("room");
    }

    /// Asks this socket its name; the ack says what came back.
    #[on("hello")]
    async fn hello(&self, deliver: Deliver) -> String {
        match deliver
            .ask::<String, _>("name?", &json!({"why": "greeting"}), WAIT)
            .await
        {
            Ok(name) => format!("welcome, {name}"),
            Err(Unanswered::Timeout) => "no answer".to_owned(),
            Err(other) => format!("failed: {other}"),
        }
    }

    #[on("sure")]
    async fn sure(&self, deliver: Deliver) -> Result<bool, Public<Unanswered>> {
        let confirm = Confirm {
            question: "really?".into(),
        };
        deliver.ask_event(&confirm, WAIT).await.map_err(Public)
    }

    /// Asks everyone in the room; the ack lists the answers in the order they came.
    #[on("poll")]
    async fn poll(&self, deliver: Deliver, io: SocketIo) -> Vec<String> {
        let mut answers = deliver
            .ask_all::<String, _>(io.to("room"), "vote?", &(), WAIT)
            .await
            .expect("sent");
        let mut got = Vec::new();
        while let Some((_sid, answer)) = answers.next().await {
            got.push(match answer {
                Ok(vote) => vote,
                Err(Unanswered::Timeout) => "timeout".to_owned(),
                Err(other) => other.to_string(),
            });
        }
        got
    }

    /// 3,000 volatile emits at once: those a full buffer cannot take are dropped.
    #[on("flood")]
    fn flood(&self, deliver: Deliver) -> usize {
        (0..3000)
            .filter(|i| deliver.emit_volatile("tick", i).is_err())
            .count()
    }
}

fn app() -> ServiceManager {
    ServiceManager::builder().handler(Asker).build().unwrap()
}

fn answering(answer: Value) -> specter::testing::TestClientBuilder {
    TestClient::builder()
        .answer("name?", {
            let answer = answer.clone();
            move |args: &[Value]| {
                assert_eq!(args, [json!({"why": "greeting"})]);
                Some(vec![answer.clone()])
            }
        })
        .answer("vote?", move |_: &[Value]| Some(vec![answer.clone()]))
}

#[tokio::test]
async fn a_socket_is_asked_and_its_answer_comes_back() {
    let app = app();
    let ann = answering(json!("ann")).connect(&app).await.unwrap();
    assert_eq!(
        ann.emit_with_ack("hello", ()).await.unwrap(),
        [json!("welcome, ann")]
    );
}

#[tokio::test]
async fn an_unanswered_ask_times_out_and_a_wrong_answer_is_invalid() {
    let app = app();
    let silent = TestClient::builder()
        .answer("name?", |_: &[Value]| None)
        .connect(&app)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    assert_eq!(
        silent.emit_with_ack("hello", ()).await.unwrap(),
        [json!("no answer")]
    );
    assert!(started.elapsed() >= WAIT, "it waited for its timeout");

    let wrong = answering(json!(42)).connect(&app).await.unwrap();
    let ack = wrong.emit_with_ack("hello", ()).await.unwrap();
    let text = ack[0].as_str().unwrap();
    assert!(
        text.starts_with("failed: the client's answer is invalid"),
        "{text}"
    );
}

#[tokio::test]
async fn a_typed_event_declares_its_answer() {
    let app = app();
    let yes = TestClient::builder()
        .answer("confirm", |args: &[Value]| {
            assert_eq!(args, [json!({"question": "really?"})]);
            Some(vec![json!(true)])
        })
        .connect(&app)
        .await
        .unwrap();
    assert_eq!(yes.emit_with_ack("sure", ()).await.unwrap(), [json!(true)]);
}

#[tokio::test]
async fn a_room_is_asked_and_a_slow_socket_only_delays_its_own_answer() {
    let app = app();
    let ann = answering(json!("ann")).connect(&app).await.unwrap();
    let _bob = answering(json!("bob")).connect(&app).await.unwrap();
    let _slow = TestClient::builder()
        .answer("vote?", |_: &[Value]| None)
        .connect(&app)
        .await
        .unwrap();
    let ack = ann.emit_with_ack("poll", ()).await.unwrap();
    let mut got: Vec<String> = serde_json::from_value(ack[0].clone()).unwrap();
    // The two answers come as they arrive, the timeout last.
    assert_eq!(got.pop().as_deref(), Some("timeout"), "{got:?}");
    got.sort();
    assert_eq!(got, ["ann", "bob"]);
}

#[tokio::test]
async fn volatile_emits_that_find_the_buffer_full_are_dropped_and_counted() {
    let app = app();
    let mut ann = TestClient::connect(&app).await.unwrap();
    let dropped = ann.emit_with_ack("flood", ()).await.unwrap()[0]
        .as_u64()
        .unwrap();
    assert!(dropped > 0, "a full buffer dropped some");
    assert_eq!(app.ingress().delivery_stats().volatile_dropped, dropped);
    let mut received = 0;
    while let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(200), ann.recv()).await {
        received += 1;
    }
    assert_eq!(received + dropped, 3000);
}

mod common;

#[tokio::test]
async fn node_clients_answer_asks_and_a_silent_one_times_out() {
    let server = common::TestServer::start(app()).await;
    let mut c = common::Client::node().await;
    let ann = c.connect(&server.url).await.unwrap();
    let bob = c.connect(&server.url).await.unwrap();
    let _silent = c.connect(&server.url).await.unwrap();
    for (sock, name) in [(&ann, "ann"), (&bob, "bob")] {
        c.answer(sock, "name?", json!([name])).await;
        c.answer(sock, "vote?", json!([name])).await;
    }
    c.answer(&ann, "confirm", json!([true])).await;

    assert_eq!(
        c.emit_ack(&ann, "hello", json!([])).await,
        json!(["welcome, ann"])
    );
    assert_eq!(
        c.next_event(&ann, "name?").await,
        json!([{"why": "greeting"}])
    );
    assert_eq!(c.emit_ack(&ann, "sure", json!([])).await, json!([true]));

    let ack = c.emit_ack(&bob, "poll", json!([])).await;
    let mut got: Vec<String> = serde_json::from_value(ack[0].clone()).unwrap();
    assert_eq!(got.pop().as_deref(), Some("timeout"), "{got:?}");
    got.sort();
    assert_eq!(got, ["ann", "bob"]);
    server.stop().await;
}
