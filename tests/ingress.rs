//! The ingress through the in-process `TestClient`: fanout order, failure isolation,
//! the ack rule, run-time subscriptions, connect and disconnect, lifecycle.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Log, emit_ack, eventually};
use serde::Deserialize;
use serde_json::{Value, json};
use specter::prelude::*;
use specter::testing::{TestClient, TestError};
use specter::{BoxError, DisconnectReason, Event, Hooks, Lifecycle};
use specter::{ErrorKind, Mounted, Public};

// ---- fanout order -------------------------------------------------------------------

struct Early(Log);
#[handler(name = "early", discover = false)]
impl Early {
    #[on("ping", priority = 10)]
    fn ping(&self) -> &'static str {
        self.0.push("early");
        "early"
    }
}

struct Late(Log);
#[handler(name = "late", discover = false)]
impl Late {
    #[on("ping")]
    async fn ping(&self) -> String {
        self.0.push("late");
        "late".to_owned()
    }
}

struct Tie(Log);
#[handler(name = "tie", discover = false)]
impl Tie {
    #[on("ping")]
    fn ping(&self) -> Option<&'static str> {
        self.0.push("tie");
        Some("tie")
    }
}

#[tokio::test]
async fn fanout_runs_by_priority_then_subscription_order() {
    let log = Log::default();
    // Added late, early, tie: early (10) runs first, then late and tie (both 100) in the
    // order they were added.
    let app = ServiceManager::builder()
        .handler(Late(log.clone()))
        .handler(Early(log.clone()))
        .handler(Tie(log.clone()))
        .build()
        .unwrap();
    let s = TestClient::connect(&app).await.unwrap();

    let ack = emit_ack(&s, "ping", json!([])).await;
    assert_eq!(log.take(), ["early", "late", "tie"]);
    assert_eq!(
        ack,
        json!(["tie"]),
        "the last subscriber that returned a value answers"
    );

    let table = app.ingress().event_table();
    let ping = table.iter().find(|r| r.event == "ping").unwrap();
    let owners: Vec<_> = ping.subscribers.iter().map(|s| s.owner.as_str()).collect();
    assert_eq!(owners, ["early", "late", "tie"]);
    app.shutdown().await;
}

// ---- failures in the middle ---------------------------------------------------------

struct First(Log);
#[handler(name = "first", discover = false)]
impl First {
    #[on("work", priority = 1)]
    fn work(&self) -> &'static str {
        self.0.push("first");
        "first"
    }
}

struct Failing(Log);
#[handler(name = "failing", discover = false)]
impl Failing {
    #[on("work", priority = 2)]
    async fn work(&self) -> Result<String, String> {
        self.0.push("failing");
        Err("boom".to_owned())
    }
}

struct Panicking(Log);
#[handler(name = "panicking", discover = false)]
impl Panicking {
    #[on("work", priority = 3)]
    async fn work(&self) -> u32 {
        self.0.push("panicking");
        panic!("deliberate panic in a test subscriber");
    }
}

struct Quiet(Log);
#[handler(name = "quiet", discover = false)]
impl Quiet {
    #[on("work", priority = 4)]
    fn work(&self) {
        self.0.push("quiet");
    }
}

#[tokio::test]
async fn a_failing_and_a_panicking_subscriber_do_not_stop_the_others() {
    let log = Log::default();
    let app = ServiceManager::builder()
        .handler(Quiet(log.clone()))
        .handler(Panicking(log.clone()))
        .handler(Failing(log.clone()))
        .handler(First(log.clone()))
        .build()
        .unwrap();
    let errors = Log::default();
    let e = errors.clone();
    app.ingress()
        .on_error(move |err: specter::ErrorEvent| {
            let e = e.clone();
            async move {
                let kind = match err.failure.kind {
                    ErrorKind::Returned => "returned",
                    ErrorKind::Panicked => "panicked",
                    _ => "other",
                };
                e.push(format!(
                    "{} {} {kind}: {}",
                    err.event, err.owner, err.failure.message
                ));
            }
        })
        .subscribe();
    let s = TestClient::connect(&app).await.unwrap();

    for _ in 0..2 {
        let ack = emit_ack(&s, "work", json!([])).await;
        assert_eq!(ack, json!(["first"]));
        assert_eq!(log.take(), ["first", "failing", "panicking", "quiet"]);
        assert_eq!(
            errors.take(),
            [
                "work failing returned: boom",
                "work panicking panicked: deliberate panic in a test subscriber"
            ]
        );
    }
    app.shutdown().await;
}

// ---- payloads ------------------------------------------------------------------------

struct Doubler;
#[handler(name = "doubler", discover = false)]
impl Doubler {
    #[on("double")]
    fn double(&self, Data(n): Data<u32>) -> u32 {
        n * 2
    }
}

#[tokio::test]
async fn a_wrong_type_payload_fails_its_subscriber_only() {
    let app = ServiceManager::builder().handler(Doubler).build().unwrap();
    let seen = Log::default();
    let s2 = seen.clone();
    app.ingress()
        .on("double", move |Data(v): Data<Value>| s2.push(v.to_string()))
        .owner("seen")
        .priority(200)
        .subscribe()
        .unwrap();
    let s = TestClient::connect(&app).await.unwrap();

    let ack = emit_ack(&s, "double", json!(["abc"])).await;
    let error = &ack[0]["error"];
    assert_eq!(error["handler"], "doubler");
    assert_eq!(error["kind"], "invalid_payload");
    assert_eq!(error["message"], "expected an integer from 0 to 4294967295");
    assert_eq!(seen.take(), ["\"abc\""], "the next subscriber still ran");

    assert_eq!(emit_ack(&s, "double", json!([21])).await, json!([42]));
    app.shutdown().await;
}

// ---- the ack rule ---------------------------------------------------------------------

#[tokio::test]
async fn every_ack_rule() {
    let app = ServiceManager::builder().build().unwrap();
    let ingress = app.ingress().clone();
    ingress
        .on("two_values", || 1)
        .owner("test")
        .subscribe()
        .unwrap();
    ingress
        .on("two_values", async || 2)
        .owner("test")
        .subscribe()
        .unwrap();
    ingress
        .on("value_then_failure", || "kept")
        .owner("test")
        .priority(1)
        .subscribe()
        .unwrap();
    ingress
        .on("value_then_failure", || Err::<u8, _>("late failure"))
        .owner("test")
        .priority(2)
        .subscribe()
        .unwrap();
    ingress
        .on("failure_only", || Err::<(), _>("nope"))
        .owner("test")
        .subscribe()
        .unwrap();
    ingress
        .on("nothing", || ())
        .owner("test")
        .subscribe()
        .unwrap();
    ingress
        .on("none", || None::<u8>)
        .owner("test")
        .subscribe()
        .unwrap();
    ingress
        .on("echo", |Data(v): Data<Value>| v)
        .owner("test")
        .subscribe()
        .unwrap();
    let s = TestClient::connect(&app).await.unwrap();

    assert_eq!(emit_ack(&s, "two_values", json!([])).await, json!([2]));
    assert_eq!(
        emit_ack(&s, "value_then_failure", json!([])).await,
        json!(["kept"]),
        "a value wins over a failure"
    );
    let failure = emit_ack(&s, "failure_only", json!([])).await;
    assert_eq!(failure[0]["error"]["kind"], "returned");
    assert_eq!(
        failure[0]["error"]["message"], "internal error",
        "an error's text is the server's unless it is Public"
    );
    assert!(failure[0]["error"]["id"].is_string());
    assert_eq!(
        failure[0]["error"]["handler"], "test",
        "a direct subscription is reported under the owner its caller gave"
    );
    assert_eq!(emit_ack(&s, "nothing", json!([])).await, json!([]));
    assert_eq!(emit_ack(&s, "none", json!([])).await, json!([]));
    assert_eq!(
        emit_ack(&s, "echo", json!([{"a": [1, 2]}])).await,
        json!([{"a": [1, 2]}])
    );
    let unknown = emit_ack(&s, "nobody", json!([])).await;
    assert_eq!(
        unknown,
        json!([{"error": {"kind": "unknown_event", "message": "no subscriber for event \"nobody\""}}])
    );
    app.shutdown().await;
}

// ---- run-time subscriptions -------------------------------------------------------------

#[tokio::test]
async fn subscribing_and_unsubscribing_reach_connected_clients() {
    let app = ServiceManager::builder().build().unwrap();
    let s = TestClient::connect(&app).await.unwrap();

    let before = emit_ack(&s, "late", json!([])).await;
    assert_eq!(before[0]["error"]["kind"], "unknown_event");

    let ingress = app.ingress();
    let a = ingress
        .on("late", || "a")
        .owner("test")
        .subscribe()
        .unwrap();
    let b = ingress
        .on("late", || "b")
        .owner("test")
        .priority(50)
        .subscribe()
        .unwrap();
    assert_eq!(emit_ack(&s, "late", json!([])).await, json!(["a"]));
    assert!(a.unsubscribe());
    assert_eq!(emit_ack(&s, "late", json!([])).await, json!(["b"]));
    assert!(b.unsubscribe());
    let after = emit_ack(&s, "late", json!([])).await;
    assert_eq!(after[0]["error"]["kind"], "unknown_event");

    let bad = ingress
        .on(" late", || ())
        .owner("test")
        .subscribe()
        .unwrap_err();
    assert!(
        bad.to_string()
            .ends_with("event name must not start or end with white space"),
        "{bad}"
    );
    let bad = ingress
        .on("newListener", || ())
        .owner("test")
        .subscribe()
        .unwrap_err();
    assert!(bad.to_string().contains("reserved"), "{bad}");
    app.shutdown().await;
}

// ---- connect and disconnect ------------------------------------------------------------

#[derive(Deserialize)]
struct Auth {
    token: String,
}

struct Gate(Log);
#[handler(name = "gate", discover = false)]
impl Gate {
    #[on("connect", priority = 1)]
    fn connect(&self, Data(auth): Data<Auth>) -> Result<(), Public<String>> {
        if auth.token == "secret" {
            self.0.push("gate let in");
            Ok(())
        } else {
            Err(Public(format!("invalid token {:?}", auth.token)))
        }
    }
}

struct Greeter(Log);
#[handler(name = "greeter", discover = false)]
impl Greeter {
    #[on("connect")]
    async fn connect(&self, socket: SocketRef) {
        self.0.push("greeter");
        socket.join("members");
    }
}

#[tokio::test]
async fn a_failing_connect_subscriber_refuses_the_connection() {
    let log = Log::default();
    let app = ServiceManager::builder()
        .handler(Greeter(log.clone()))
        .handler(Gate(log.clone()))
        .build()
        .unwrap();

    let connect = |auth: Value| TestClient::builder().auth(auth).connect(&app);
    let refused = match connect(json!({"token": "guess"})).await {
        Err(TestError::Refused(message)) => message,
        other => panic!("{:?}", other.map(|c| c.id().to_owned())),
    };
    assert_eq!(refused, "invalid token \"guess\"");
    let malformed = match connect(json!({})).await {
        Err(TestError::Refused(message)) => message,
        other => panic!("{:?}", other.map(|c| c.id().to_owned())),
    };
    assert_eq!(malformed, "invalid payload: token: missing");
    assert!(log.take().is_empty(), "no later connect subscriber ran");

    let _member = connect(json!({"token": "secret"})).await.unwrap();
    assert_eq!(log.take(), ["gate let in", "greeter"]);
    assert_eq!(app.io().within("members").sockets().len(), 1);
    app.shutdown().await;
}

struct ByeA(Log);
#[handler(name = "bye_a", discover = false)]
impl ByeA {
    #[on("disconnect", priority = 50)]
    async fn disconnect(&self, reason: DisconnectReason) {
        self.0.push(format!("bye_a {reason:?}"));
    }
}

struct ByeB(Log);
#[handler(name = "bye_b", discover = false)]
impl ByeB {
    #[on("disconnect", priority = 5)]
    fn disconnect(&self, socket: SocketRef) {
        self.0.push(format!("bye_b rooms={}", socket.rooms().len()));
    }
}

#[tokio::test]
async fn disconnect_fans_out_in_priority_order() {
    let log = Log::default();
    let app = ServiceManager::builder()
        .handler(ByeA(log.clone()))
        .handler(ByeB(log.clone()))
        .build()
        .unwrap();
    // Rooms are left only after every disconnect subscriber ran.
    app.ingress()
        .on("connect", |s: SocketRef| s.join("members"))
        .owner("test")
        .subscribe()
        .unwrap();
    let s = TestClient::connect(&app).await.unwrap();
    s.disconnect().await;
    eventually("both disconnect subscribers", || log.snapshot().len() == 2).await;
    assert_eq!(log.take(), ["bye_b rooms=1", "bye_a ClientNSDisconnect"]);
    app.shutdown().await;
}

// ---- namespaces ---------------------------------------------------------------------------

#[derive(Default)]
struct Admin;
#[handler(name = "admin", namespace = "/admin", discover = false)]
impl Admin {
    #[on("whoami")]
    fn whoami(&self, socket: SocketRef) -> String {
        format!("admin at {}", socket.ns())
    }
}

#[tokio::test]
async fn a_handler_binds_to_its_namespace() {
    let app = ServiceManager::builder().handler(Admin).build().unwrap();
    let admin = TestClient::builder()
        .namespace("/admin")
        .connect(&app)
        .await
        .unwrap();
    let root = TestClient::connect(&app).await.unwrap();
    assert_eq!(
        emit_ack(&admin, "whoami", json!([])).await,
        json!(["admin at /admin"])
    );
    let ack = emit_ack(&root, "whoami", json!([])).await;
    assert_eq!(ack[0]["error"]["kind"], "unknown_event");
    app.shutdown().await;
}

// ---- lifecycle -----------------------------------------------------------------------------

#[derive(Default)]
struct Counted {
    setups: Arc<AtomicUsize>,
    teardowns: Arc<AtomicUsize>,
    log: Log,
}

#[handler(name = "counted", discover = false)]
impl Counted {
    #[on("count")]
    fn count(&self) -> usize {
        self.setups.load(Ordering::SeqCst)
    }
}

impl Hooks for Counted {
    async fn on_setup(&self, lifecycle: &Lifecycle) -> Result<(), BoxError> {
        self.setups.fetch_add(1, Ordering::SeqCst);
        tokio::task::yield_now().await;
        for name in ["cleanup 1", "cleanup 2"] {
            let log = self.log.clone();
            lifecycle.add_cleanup(move || log.push(name));
        }
        Ok(())
    }

    async fn on_teardown(&self, _: &Lifecycle) -> Result<(), BoxError> {
        self.teardowns.fetch_add(1, Ordering::SeqCst);
        tokio::task::yield_now().await;
        self.log.push("on_teardown");
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_and_teardown_run_once_under_concurrent_calls() {
    let counted = Counted::default();
    let (setups, teardowns, log) = (
        counted.setups.clone(),
        counted.teardowns.clone(),
        counted.log.clone(),
    );
    let app = ServiceManager::builder().build().unwrap();
    let mounted = Mounted::new(counted);
    let ingress = app.ingress().clone();

    let runs = futures_join(8, || {
        let (m, i) = (mounted.clone(), ingress.clone());
        async move { m.setup(&i).await.unwrap() }
    })
    .await;
    assert_eq!(runs.iter().filter(|r| **r).count(), 1);
    assert_eq!(setups.load(Ordering::SeqCst), 1);
    assert_eq!(ingress.event_table().len(), 1);

    let runs = futures_join(8, || {
        let m = mounted.clone();
        async move { m.teardown().await }
    })
    .await;
    assert_eq!(runs.iter().filter(|r| **r).count(), 1);
    assert_eq!(teardowns.load(Ordering::SeqCst), 1);
    assert_eq!(log.take(), ["on_teardown", "cleanup 2", "cleanup 1"]);
    assert!(
        ingress.event_table().is_empty(),
        "the cleanups removed the subscriptions"
    );

    // Set up again after a teardown.
    assert!(mounted.setup(&ingress).await.unwrap());
    assert_eq!(setups.load(Ordering::SeqCst), 2);
}

/// Runs `n` copies of a future on separate tasks and collects their results.
async fn futures_join<F, Fut, T>(n: usize, make: F) -> Vec<T>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|_| tokio::spawn(make())).collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

// ---- names and discovery ----------------------------------------------------------------

struct DupOne;
#[handler(name = "dup", discover = false)]
impl DupOne {
    #[on("x")]
    fn x(&self) {}
}

struct DupTwo;
#[handler(name = "dup", discover = false)]
impl DupTwo {
    #[on("y")]
    fn y(&self) {}
}

#[test]
fn two_handlers_with_one_name_are_a_startup_error_naming_both() {
    let err = ServiceManager::builder()
        .handler(DupOne)
        .handler(DupTwo)
        .build()
        .err()
        .expect("duplicate names are refused");
    let text = err.to_string();
    assert!(
        text.starts_with("two components are named \"dup\": one at "),
        "{text}"
    );
    assert_eq!(text.matches("tests/ingress.rs:").count(), 2, "{text}");
    assert!(!text.contains(".."), "source paths are folded: {text}");
}

#[derive(Default)]
struct Discovered;

#[handler(name = "discovered")]
impl Discovered {
    #[on("discovered")]
    fn discovered(&self) -> &'static str {
        "found"
    }
}

#[tokio::test]
async fn discovery_finds_linked_handlers() {
    let names: Vec<_> = specter::registry::discovered()
        .iter()
        .map(|h| h.name)
        .collect();
    assert_eq!(
        names,
        ["discovered"],
        "handlers with discover = false are not listed"
    );
    let app = ServiceManager::builder().discover().build().unwrap();
    let s = TestClient::connect(&app).await.unwrap();
    assert_eq!(
        emit_ack(&s, "discovered", json!([])).await,
        json!(["found"])
    );
    app.shutdown().await;
}

// ---- connect failures reach the error subscribers; disconnect ignores Reject ---------

#[tokio::test]
async fn a_connect_subscriber_that_returns_err_is_handed_to_the_error_subscribers() {
    let app = ServiceManager::builder().build().unwrap();
    app.ingress()
        .on("connect", |Data(auth): Data<Value>| {
            match auth["token"].as_str() {
                Some("ok") => Ok(()),
                _ => Err("bad token"),
            }
        })
        .owner("gate")
        .subscribe()
        .unwrap();
    let errors = Log::default();
    let e = errors.clone();
    app.ingress()
        .on_error(move |err: specter::ErrorEvent| {
            let e = e.clone();
            async move {
                e.push(format!(
                    "{} {} {}: {}",
                    err.event, err.owner, err.failure.kind, err.failure.message
                ))
            }
        })
        .subscribe();
    let refused = TestClient::builder()
        .auth(json!({"token": "no"}))
        .connect(&app)
        .await
        .err();
    // The client reads that it failed and the log line's id; the error subscribers and
    // the log read the text.
    let Some(TestError::Refused(told)) = refused else {
        panic!("{refused:?}")
    };
    assert!(told.starts_with("internal error (id "), "{told}");
    assert_eq!(errors.take(), ["connect gate returned: bad token"]);
    app.shutdown().await;
}

#[tokio::test]
async fn every_disconnect_subscriber_runs_even_after_one_rejects() {
    let log = Log::default();
    let app = ServiceManager::builder().build().unwrap();
    let (a, b) = (log.clone(), log.clone());
    app.ingress()
        .on("disconnect", move || {
            a.push("first");
            specter::Reject::new("stop")
        })
        .owner("first")
        .priority(1)
        .subscribe()
        .unwrap();
    app.ingress()
        .on("disconnect", move || b.push("second"))
        .owner("second")
        .priority(2)
        .subscribe()
        .unwrap();
    let client = TestClient::connect(&app).await.unwrap();
    client.disconnect().await;
    eventually("both disconnect subscribers", || log.snapshot().len() == 2).await;
    assert_eq!(log.take(), ["first", "second"]);
    app.shutdown().await;
}

// ---- one decode per dispatch, binary payloads ------------------------------------------

#[derive(Deserialize)]
struct Note {
    text: String,
}

#[tokio::test]
async fn shared_data_is_decoded_once_for_every_subscriber() {
    let app = ServiceManager::builder().build().unwrap();
    let first: Arc<std::sync::Mutex<Option<Arc<Note>>>> = Arc::default();
    let f = first.clone();
    app.ingress()
        .on("note", move |SharedData(n): SharedData<Note>| {
            *f.lock().unwrap() = Some(n);
        })
        .owner("a")
        .priority(1)
        .subscribe()
        .unwrap();
    let f = first.clone();
    app.ingress()
        .on("note", move |SharedData(n): SharedData<Note>| {
            let seen = f.lock().unwrap().take().expect("a ran first");
            json!([Arc::ptr_eq(&seen, &n), n.text])
        })
        .owner("b")
        .priority(2)
        .subscribe()
        .unwrap();
    let client = TestClient::connect(&app).await.unwrap();
    assert_eq!(
        emit_ack(&client, "note", json!([{"text": "hi"}])).await,
        json!([[true, "hi"]]),
        "the second subscriber got the very value the first one got"
    );
    let bad = emit_ack(&client, "note", json!([{"txt": "hi"}])).await;
    assert_eq!(bad[0]["error"]["kind"], "invalid_payload");
    assert_eq!(bad[0]["error"]["handler"], "a");
    app.shutdown().await;
}

#[tokio::test]
async fn binary_arguments_reach_a_bytes_subscriber() {
    let app = ServiceManager::builder().build().unwrap();
    app.ingress()
        .on(
            "upload",
            |Data((name, bytes)): Data<(String, bytes::Bytes)>| {
                format!("{name}: {} bytes", bytes.len())
            },
        )
        .owner("upload")
        .subscribe()
        .unwrap();
    let client = TestClient::connect(&app).await.unwrap();
    let ack = client
        .emit_args_with_ack(
            "upload",
            vec![
                json!("a.bin").into(),
                specter::testing::Arg::Binary(vec![1, 2, 3]),
            ],
        )
        .await
        .unwrap();
    assert_eq!(ack, [json!("a.bin: 3 bytes")]);
    app.shutdown().await;
}

// ---- the socket's session -------------------------------------------------------------

#[derive(Clone)]
struct Member(String);

#[tokio::test]
async fn a_session_value_set_at_connect_is_read_by_later_subscribers_until_disconnect() {
    let app = ServiceManager::builder().build().unwrap();
    let ingress = app.ingress();
    ingress
        .on("connect", |socket: SocketRef, Data(auth): Data<Value>| {
            if let Some(name) = auth["name"].as_str() {
                Session::insert(&socket, Member(name.to_owned()));
            }
        })
        .owner("auth")
        .subscribe()
        .unwrap();
    ingress
        .on("whoami", |Session(m): Session<Member>| m.0)
        .owner("me")
        .subscribe()
        .unwrap();
    ingress
        .on("rename", |socket: SocketRef, Data(name): Data<String>| {
            Session::insert(&socket, Member(name)).map(|old| old.0)
        })
        .owner("me")
        .subscribe()
        .unwrap();
    ingress
        .on("maybe", |m: Option<Session<Member>>| {
            m.map_or("nobody".to_owned(), |Session(m)| m.0)
        })
        .owner("me")
        .subscribe()
        .unwrap();
    let seen_at_disconnect = Log::default();
    let seen = seen_at_disconnect.clone();
    ingress
        .on("disconnect", move |m: Option<Session<Member>>| {
            seen.push(m.map_or("none".into(), |Session(m)| m.0))
        })
        .owner("bye")
        .subscribe()
        .unwrap();

    let ann = TestClient::builder()
        .auth(json!({"name": "ann"}))
        .connect(&app)
        .await
        .unwrap();
    let anonymous = TestClient::connect(&app).await.unwrap();
    assert_eq!(emit_ack(&ann, "whoami", json!([])).await, json!(["ann"]));
    assert_eq!(
        emit_ack(&ann, "rename", json!(["anna"])).await,
        json!(["ann"])
    );
    assert_eq!(emit_ack(&ann, "whoami", json!([])).await, json!(["anna"]));
    assert_eq!(
        emit_ack(&anonymous, "maybe", json!([])).await,
        json!(["nobody"])
    );
    let missing = emit_ack(&anonymous, "whoami", json!([])).await;
    assert_eq!(
        missing[0]["error"],
        json!({"handler": "me", "kind": "missing_session", "message": "internal error", "id": missing[0]["error"]["id"]})
    );
    ann.disconnect().await;
    eventually("the disconnect subscriber", || {
        seen_at_disconnect.snapshot().len() == 1
    })
    .await;
    assert_eq!(
        seen_at_disconnect.take(),
        ["anna"],
        "the session lives until the last disconnect subscriber"
    );
    app.shutdown().await;
}

// ---- guards -----------------------------------------------------------------------------

#[derive(Clone)]
struct Role(&'static str);

fn admins_only(role: Option<Session<Role>>) -> Result<(), String> {
    match role {
        Some(Session(Role("admin"))) => Ok(()),
        Some(Session(Role(other))) => Err(format!("{other}s may not")),
        None => Err("who are you?".into()),
    }
}

fn never(_: SocketRef) -> bool {
    false
}

struct Kick(Log);
#[handler(name = "kick", discover = false, guard = admins_only)]
impl Kick {
    #[on("kick", priority = 10)]
    fn kick(&self, Data(who): Data<String>) -> String {
        self.0.push(format!("kicked {who}"));
        format!("{who} was kicked")
    }

    #[on("ban", guard = never)]
    fn ban(&self) -> &'static str {
        self.0.push("banned");
        "banned"
    }
}

struct KickAudit(Log);
#[handler(name = "audit", discover = false)]
impl KickAudit {
    #[on("kick", priority = 20)]
    fn kick(&self, Data(who): Data<String>) {
        self.0.push(format!("audit {who}"));
    }
}

#[tokio::test]
async fn a_refused_guard_skips_its_subscribers_and_the_others_still_run() {
    let log = Log::default();
    let app = ServiceManager::builder()
        .handler(Kick(log.clone()))
        .handler(KickAudit(log.clone()))
        .build()
        .unwrap();
    app.ingress()
        .on("connect", |socket: SocketRef, Data(auth): Data<Value>| {
            if auth["admin"] == true {
                Session::insert(&socket, Role("admin"));
            } else if auth["user"] == true {
                Session::insert(&socket, Role("user"));
            }
        })
        .owner("roles")
        .priority(1)
        .subscribe()
        .unwrap();
    let admin = TestClient::builder()
        .auth(json!({"admin": true}))
        .connect(&app)
        .await
        .unwrap();
    let user = TestClient::builder()
        .auth(json!({"user": true}))
        .connect(&app)
        .await
        .unwrap();

    assert_eq!(
        emit_ack(&admin, "kick", json!(["bob"])).await,
        json!(["bob was kicked"])
    );
    assert_eq!(log.take(), ["kicked bob", "audit bob"]);

    let refused = emit_ack(&user, "kick", json!(["ann"])).await;
    assert_eq!(
        refused,
        json!([{"error": {"handler": "kick", "kind": "forbidden", "message": "users may not"}}]),
        "no subscriber answered, so the ack says why the guarded one did not run"
    );
    assert_eq!(
        log.take(),
        ["audit ann"],
        "the unguarded subscriber still ran"
    );

    let table = app.print_event_table();
    let ban = table.lines().find(|l| l.contains(" ban ")).unwrap();
    assert!(
        ban.ends_with("guards=2"),
        "the event table shows the guards: {ban}"
    );

    // The handler's guard and the event's own guard both apply.
    let banned = emit_ack(&admin, "ban", json!([])).await;
    assert_eq!(banned[0]["error"]["kind"], "forbidden");
    assert_eq!(banned[0]["error"]["message"], "not allowed");
    assert!(log.take().is_empty());
    app.shutdown().await;
}

// ---- catch-all subscribers ----------------------------------------------------------------

struct Everything(Log);
#[handler(name = "everything", discover = false)]
impl Everything {
    #[on(any, priority = 50)]
    fn any(&self, Event(name): Event) {
        self.0.push(format!("any {name}"));
    }
}

#[tokio::test]
async fn catch_all_subscribers_run_in_priority_order_and_take_events_without_their_own() {
    let log = Log::default();
    let app = ServiceManager::builder()
        .handler(Everything(log.clone()))
        .build()
        .unwrap();
    let (early, late) = (log.clone(), log.clone());
    app.ingress()
        .on("greet", move || early.push("early greet"))
        .owner("early")
        .priority(10)
        .subscribe()
        .unwrap();
    app.ingress()
        .on("greet", move || {
            late.push("late greet");
            "hi"
        })
        .owner("late")
        .subscribe()
        .unwrap();
    let connects = log.clone();
    app.ingress()
        .on("connect", move || connects.push("connect"))
        .owner("conn")
        .subscribe()
        .unwrap();
    let client = TestClient::connect(&app).await.unwrap();
    assert_eq!(
        log.take(),
        ["connect"],
        "catch-all subscribers do not take connect"
    );

    assert_eq!(emit_ack(&client, "greet", json!([])).await, json!(["hi"]));
    assert_eq!(log.take(), ["early greet", "any greet", "late greet"]);

    // An event with no subscriber of its own goes to the catch-all: not unknown.
    assert_eq!(emit_ack(&client, "whatever", json!([])).await, json!([]));
    assert_eq!(log.take(), ["any whatever"]);

    let table = app.event_table();
    let star = table
        .iter()
        .find(|r| r.event == "*")
        .expect("the catch-all row");
    assert_eq!(star.subscribers[0].owner, "everything");

    // Direct catch-all subscriptions come and go like any other.
    let l = log.clone();
    let sub = app
        .ingress()
        .on_any(move |Event(name): Event| l.push(format!("spy {name}")))
        .owner("spy")
        .priority(200)
        .subscribe()
        .unwrap();
    emit_ack(&client, "greet", json!([])).await;
    assert_eq!(
        log.take(),
        ["early greet", "any greet", "late greet", "spy greet"]
    );
    assert!(sub.unsubscribe());
    emit_ack(&client, "whatever", json!([])).await;
    assert_eq!(log.take(), ["any whatever"]);
    app.shutdown().await;
}
