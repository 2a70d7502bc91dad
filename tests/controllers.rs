//! Controllers, services and the ServiceManager through the in-process `TestClient`
//! (and its TCP mode for the graceful shutdown of a served app).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use common::{Log, TestServer, emit_ack, eventually};
use serde::Deserialize;
use serde_json::{Value, json};
use specter::ComponentKind;
use specter::prelude::*;
use specter::testing::TestClient;
use specter::{BoxError, Controller, Events, Hooks, Lifecycle, Service, Services, TryData};

// ---- fanout across a handler and two controllers -----------------------------------

struct Audit(Log);
#[handler(name = "audit", discover = false)]
impl Audit {
    #[on("message", priority = 10)]
    fn message(&self, Data(text): Data<String>) {
        self.0.push(format!("audit {text}"));
    }
}

#[derive(Controller)]
#[controller(name = "chat", route = "/chat", discover = false)]
struct Chat(Log);

impl Chat {
    async fn on_message(&self, socket: SocketRef, Data(text): Data<String>) -> String {
        self.0.push(format!("chat {text}"));
        socket.broadcast().emit("message", &text).await.ok();
        format!("delivered {text}")
    }

    fn on_typing(&self) -> &'static str {
        "typing seen"
    }
}

impl Controller for Chat {
    fn build_events(&self, events: &mut Events<Self>) {
        events.on("message", Self::on_message);
        events
            .on(specter::event!("typing"), Self::on_typing)
            .priority(5);
    }

    fn build_routes(&self, routes: Router<Arc<Self>>) -> Router<Arc<Self>> {
        routes.route(
            "/hello",
            axum::routing::get(
                async |axum::extract::State(this): axum::extract::State<Arc<Self>>| {
                    format!("hello after {} messages", this.0.snapshot().len())
                },
            ),
        )
    }
}

#[derive(Controller)]
#[controller(name = "metrics", discover = false)]
struct Metrics(Log);

impl Metrics {
    fn count(&self, Data(text): Data<String>) -> usize {
        self.0.push(format!("metrics {text}"));
        text.len()
    }
}

impl Controller for Metrics {
    fn build_events(&self, events: &mut Events<Self>) {
        events.on("message", Self::count).priority(100);
    }
}

#[derive(Controller)]
#[controller(name = "moderation", discover = false)]
struct Moderation(Log);

impl Moderation {
    fn check(&self, Data(text): Data<String>) -> Option<Reject> {
        self.0.push(format!("moderation {text}"));
        text.contains("spam").then(|| Reject::new("no spam"))
    }
}

impl Controller for Moderation {
    fn build_events(&self, events: &mut Events<Self>) {
        events.on("message", Self::check).priority(1);
    }
}

#[tokio::test]
async fn controllers_and_handlers_fan_out_together() {
    let log = Log::default();
    // Chat and metrics both have priority 100: chat subscribed first, so it runs first.
    let app = ServiceManager::builder()
        .controller(Chat(log.clone()))
        .controller(Metrics(log.clone()))
        .handler(Audit(log.clone()))
        .build()
        .unwrap();
    let s = TestClient::connect(&app).await.unwrap();

    let ack = emit_ack(&s, "message", json!(["hi"])).await;
    assert_eq!(log.take(), ["audit hi", "chat hi", "metrics hi"]);
    assert_eq!(ack, json!([2]), "metrics ran last and returned a value");
    let ack = emit_ack(&s, "typing", json!([])).await;
    assert_eq!(ack, json!(["typing seen"]));
    app.shutdown().await;
}

#[tokio::test]
async fn moderation_rejects_a_message_before_the_broadcast() {
    let log = Log::default();
    let app = ServiceManager::builder()
        .controller(Chat(log.clone()))
        .controller(Moderation(log.clone()))
        .build()
        .unwrap();
    let sender = TestClient::connect(&app).await.unwrap();
    let mut reader = TestClient::connect(&app).await.unwrap();

    let ack = emit_ack(&sender, "message", json!(["buy spam"])).await;
    assert_eq!(
        ack,
        json!([{"error": {"handler": "moderation", "kind": "rejected", "message": "no spam"}}])
    );
    assert_eq!(log.take(), ["moderation buy spam"], "chat never saw it");

    let ack = emit_ack(&sender, "message", json!(["hello"])).await;
    assert_eq!(ack, json!(["delivered hello"]));
    assert_eq!(log.take(), ["moderation hello", "chat hello"]);
    let first = reader.recv().await.unwrap();
    assert_eq!(
        (first.event.as_str(), first.args),
        ("message", vec![json!("hello")]),
        "the reader's first message is the accepted one"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn controller_routes_are_mounted_under_their_prefix() {
    use tower::ServiceExt;
    let app = ServiceManager::builder()
        .controller(Chat(Log::default()))
        .build()
        .unwrap();
    let response = app
        .router()
        .oneshot(
            axum::http::Request::get("/chat/hello")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = axum::body::to_bytes(response.into_body(), 1024)
        .await
        .unwrap();
    assert_eq!(&body[..], b"hello after 0 messages");
}

// ---- lifecycle of the whole app ------------------------------------------------------

#[derive(Default)]
struct Counters {
    log: Log,
    calls: AtomicUsize,
}

struct Store(Arc<Counters>);

impl Service for Store {
    fn name(&self) -> &str {
        "store"
    }
    async fn on_start(&self, lifecycle: &Lifecycle) -> Result<(), BoxError> {
        self.0.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.0.log.push("store start");
        let log = self.0.log.clone();
        lifecycle.add_cleanup(move || log.push("store cleanup"));
        Ok(())
    }
    async fn on_stop(&self, _: &Lifecycle) -> Result<(), BoxError> {
        self.0.calls.fetch_add(1, Ordering::SeqCst);
        self.0.log.push("store stop");
        Ok(())
    }
}

struct Hooked(Arc<Counters>);
#[handler(name = "hooked", discover = false)]
impl Hooked {
    #[on("x")]
    fn x(&self) {}
}

impl Hooks for Hooked {
    async fn on_setup(&self, _: &Lifecycle) -> Result<(), BoxError> {
        self.0.calls.fetch_add(1, Ordering::SeqCst);
        self.0.log.push("hooked setup");
        Ok(())
    }

    async fn on_teardown(&self, _: &Lifecycle) -> Result<(), BoxError> {
        self.0.calls.fetch_add(1, Ordering::SeqCst);
        self.0.log.push("hooked teardown");
        Ok(())
    }
}

#[derive(Controller)]
#[controller(name = "panel", route = "/panel", discover = false)]
struct Panel(Arc<Counters>);

impl Controller for Panel {
    fn build_events(&self, events: &mut Events<Self>) {
        events.on("y", |_: &Self| ());
    }
}

impl Hooks for Panel {
    async fn on_setup(&self, _: &Lifecycle) -> Result<(), BoxError> {
        self.0.calls.fetch_add(1, Ordering::SeqCst);
        self.0.log.push("panel setup");
        Ok(())
    }
    async fn on_teardown(&self, _: &Lifecycle) -> Result<(), BoxError> {
        self.0.calls.fetch_add(1, Ordering::SeqCst);
        self.0.log.push("panel teardown");
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boot_and_shutdown_run_every_hook_once_under_concurrent_calls() {
    let counters = Arc::new(Counters::default());
    // Registered out of order: services still start first and stop last.
    let app = ServiceManager::builder()
        .handler(Hooked(counters.clone()))
        .service(Store(counters.clone()))
        .controller(Panel(counters.clone()))
        .build()
        .unwrap();

    let boots: Vec<_> = (0..8)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { app.boot().await })
        })
        .collect();
    for b in boots {
        b.await.unwrap().unwrap();
    }
    assert_eq!(counters.calls.load(Ordering::SeqCst), 3);
    assert_eq!(
        counters.log.take(),
        ["store start", "hooked setup", "panel setup"]
    );

    let health = app.health();
    assert_eq!(health.status, "up");
    let summary: Vec<_> = health
        .components
        .iter()
        .map(|c| (c.name.as_str(), c.kind, c.state, c.subscriptions))
        .collect();
    assert_eq!(
        summary,
        [
            ("hooked", ComponentKind::Handler, "up", 1),
            ("store", ComponentKind::Service, "up", 0),
            ("panel", ComponentKind::Controller, "up", 1),
        ]
    );

    let stops: Vec<_> = (0..8)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { app.shutdown().await })
        })
        .collect();
    for s in stops {
        s.await.unwrap();
    }
    assert_eq!(counters.calls.load(Ordering::SeqCst), 6);
    assert_eq!(
        counters.log.take(),
        [
            "panel teardown",
            "hooked teardown",
            "store stop",
            "store cleanup"
        ]
    );
    assert!(app.event_table().is_empty());
    assert_eq!(app.health().status, "down");
}

struct Broken;
impl Service for Broken {
    fn name(&self) -> &str {
        "broken"
    }
    async fn on_start(&self, _: &Lifecycle) -> Result<(), BoxError> {
        Err("database unreachable".into())
    }
}

struct Exploding;
impl Service for Exploding {
    fn name(&self) -> &str {
        "exploding"
    }
    async fn on_start(&self, _: &Lifecycle) -> Result<(), BoxError> {
        panic!("deliberate panic in on_start")
    }
}

#[tokio::test]
async fn a_failing_hook_does_not_stop_the_others() {
    let counters = Arc::new(Counters::default());
    let app = ServiceManager::builder()
        .service(Broken)
        .service(Exploding)
        .handler(Hooked(counters.clone()))
        .build()
        .unwrap();
    let err = app.boot().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "2 component(s) failed to boot; `broken`: on_start failed: database unreachable; \
         `exploding`: setup failed: panicked: deliberate panic in on_start"
    );
    assert_eq!(counters.log.take(), ["hooked setup"]);
    let health = app.health();
    assert_eq!(health.status, "degraded");
    let states: Vec<_> = health
        .components
        .iter()
        .map(|c| (c.name.as_str(), c.state))
        .collect();
    assert_eq!(
        states,
        [
            ("broken", "failed"),
            ("exploding", "failed"),
            ("hooked", "up")
        ]
    );
    assert_eq!(
        serde_json::to_value(&health.components[0]).unwrap(),
        json!({"name": "broken", "kind": "service", "state": "failed",
               "error": "`broken`: on_start failed: database unreachable", "subscriptions": 0,
               "failed_tasks": 0})
    );
}

// ---- services from subscribers -------------------------------------------------------

#[derive(Default)]
struct Greeting(String);
impl Service for Greeting {}

struct Greeter;
#[handler(name = "greeter", discover = false)]
impl Greeter {
    #[on("greet")]
    fn greet(
        &self,
        State(greeting): State<Arc<Greeting>>,
        State(services): State<Services>,
    ) -> String {
        let missing = services.require::<Counters>().err().unwrap();
        format!("{} / {missing}", greeting.0)
    }
}

#[tokio::test]
async fn subscribers_reach_services_by_type() {
    let app = ServiceManager::builder()
        .service(Greeting("hello".into()))
        .handler(Greeter)
        .build()
        .unwrap();
    let s = TestClient::connect(&app).await.unwrap();
    assert_eq!(
        emit_ack(&s, "greet", json!([])).await,
        json!(["hello / no service of type `controllers::Counters` is registered"])
    );
    app.shutdown().await;
}

// ---- registration after boot, bad names, duplicates --------------------------------------

#[tokio::test]
async fn components_registered_after_boot_start_at_once() {
    let app = ServiceManager::builder().build().unwrap();
    let s = TestClient::connect(&app).await.unwrap();
    let counters = Arc::new(Counters::default());
    app.register_service(Store(counters.clone())).await.unwrap();
    app.register_handler(Greeter).await.unwrap();
    assert_eq!(counters.log.take(), ["store start"]);
    let err = app.register_handler(Greeter).await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("two components are named \"greeter\""),
        "{err}"
    );
    let ack = emit_ack(&s, "greet", json!([])).await;
    // A server's mistake: the client reads that something failed and the id of the log
    // line that says what.
    let error = &ack[0]["error"];
    assert_eq!(
        (&error["handler"], &error["kind"], &error["message"]),
        (
            &json!("greeter"),
            &json!("missing_state"),
            &json!("internal error")
        ),
        "no Greeting service: {ack}"
    );
    let id = error["id"].as_str().expect("an id");
    assert!(
        id.len() == 12 && id.chars().all(|c| c.is_ascii_hexdigit()),
        "{id}"
    );
    app.shutdown().await;
    assert_eq!(counters.log.take(), ["store stop", "store cleanup"]);
}

#[derive(Controller)]
#[controller(name = "sloppy", discover = false)]
struct Sloppy;

impl Controller for Sloppy {
    fn build_events(&self, events: &mut Events<Self>) {
        events.on("fine", |_: &Self| ());
        events.on("trailing space ", |_: &Self| ());
    }
}

#[tokio::test]
async fn a_bad_event_name_at_run_time_fails_boot_naming_the_controller() {
    let app = ServiceManager::builder()
        .controller(Sloppy)
        .build()
        .unwrap();
    let err = app.boot().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "1 component(s) failed to boot; `sloppy` cannot subscribe to \"trailing space \": \
         event name must not start or end with white space"
    );
    assert!(
        app.event_table().is_empty(),
        "the valid event was rolled back too"
    );
}

// ---- controller-wide guards ---------------------------------------------------------------

fn staff_only(Data(who): Data<Value>) -> Result<(), String> {
    match who["staff"].as_bool() {
        Some(true) => Ok(()),
        _ => Err("staff only".into()),
    }
}

fn not_on_sunday(_: SocketRef) -> bool {
    true
}

#[derive(Controller)]
#[controller(name = "backoffice", discover = false, guard = staff_only, guard = not_on_sunday)]
struct Backoffice(Log);

impl Backoffice {
    fn refund(&self, Data(who): Data<Value>) -> &'static str {
        self.0.push(format!("refund by {}", who["name"]));
        "refunded"
    }
    fn audit(&self) {
        self.0.push("audit");
    }
}

impl Controller for Backoffice {
    fn build_events(&self, events: &mut Events<Self>) {
        events.on("refund", Self::refund);
        events.on("audit", Self::audit);
    }
}

#[tokio::test]
async fn a_controller_wide_guard_guards_every_event_of_the_controller() {
    let log = Log::default();
    let app = ServiceManager::builder()
        .controller(Backoffice(log.clone()))
        .build()
        .unwrap();
    let client = TestClient::connect(&app).await.unwrap();
    let staff = json!([{"name": "kim", "staff": true}]);
    assert_eq!(
        emit_ack(&client, "refund", staff).await,
        json!(["refunded"])
    );
    assert_eq!(log.take(), ["refund by \"kim\""]);

    for event in ["refund", "audit"] {
        let refused = emit_ack(&client, event, json!([{"name": "eve"}])).await;
        assert_eq!(
            refused,
            json!([{"error": {"handler": "backoffice", "kind": "forbidden", "message": "staff only"}}]),
            "{event}"
        );
    }
    assert!(log.take().is_empty());
    let table = app.print_event_table();
    assert!(
        table.lines().all(|l| l.ends_with("guards=2")),
        "both guards on every event:\n{table}"
    );
    app.shutdown().await;
}

// ---- graceful shutdown ------------------------------------------------------------------

#[derive(Deserialize)]
struct Nothing {}

struct Mismatched;
#[handler(name = "mismatched", discover = false)]
impl Mismatched {
    #[on("disconnect")]
    fn gone(&self, _: TryData<Nothing>) {}
}

#[tokio::test]
async fn an_argument_its_event_cannot_provide_fails_boot() {
    let app = ServiceManager::builder()
        .handler(Mismatched)
        .build()
        .unwrap();
    let err = app.boot().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "1 component(s) failed to boot; `mismatched` cannot subscribe to \"disconnect\": \
         one of its arguments is not available in a Disconnect event"
    );
}

/// An app whose `slow` subscriber takes 100 ms, logging when it starts and ends.
fn slow_app(log: &Log) -> ServiceManager {
    let app = ServiceManager::builder().build().unwrap();
    let l = log.clone();
    app.ingress()
        .on("slow", move |Data(i): Data<u32>| {
            let l = l.clone();
            async move {
                l.push(format!("started {i}"));
                tokio::time::sleep(Duration::from_millis(100)).await;
                l.push(format!("slow {i}"));
                i
            }
        })
        .owner("slow_worker")
        .subscribe()
        .unwrap();
    app
}

/// One client of `server` emits `slow` with 0..n, all at once: a task that waits for
/// their acks.
async fn emit_slow(server: &TestServer, n: u32) -> tokio::task::JoinHandle<Vec<Vec<Value>>> {
    let client = Arc::new(
        TestClient::builder()
            .connect_url(&server.url)
            .await
            .unwrap(),
    );
    let acks: Vec<_> = (0..n)
        .map(|i| {
            let c = client.clone();
            tokio::spawn(async move { c.emit_with_ack("slow", i).await })
        })
        .collect();
    tokio::spawn(async move {
        let mut answered = Vec::new();
        for a in acks {
            answered.push(a.await.unwrap().unwrap());
        }
        answered
    })
}

#[tokio::test]
async fn shutdown_answers_acks_under_way() {
    let log = Log::default();
    let server = TestServer::start(slow_app(&log)).await;
    let acks = emit_slow(&server, 5).await;
    // One is under way, the other four wait in the socket's queue: shutdown answers all.
    eventually("a dispatch under way", || !log.snapshot().is_empty()).await;
    server.stop().await;
    assert_eq!(
        acks.await.unwrap(),
        [[json!(0)], [json!(1)], [json!(2)], [json!(3)], [json!(4)]]
    );
}

/// A shutdown ends the clients still connected as a lost connection does: each one's
/// `disconnect` subscribers run, after its events, told the server is closing.
#[tokio::test]
async fn shutdown_runs_the_disconnect_subscribers_of_connected_clients_after_their_events() {
    let log = Log::default();
    let app = slow_app(&log);
    let l = log.clone();
    app.ingress()
        .on(
            "disconnect",
            move |reason: specter::DisconnectReason, recovery: specter::Recovery| {
                l.push(format!("gone {reason:?} {recovery:?}"));
            },
        )
        .owner("presence")
        .subscribe()
        .unwrap();
    let server = TestServer::start(app).await;
    let acks = emit_slow(&server, 3).await;
    // The first is under way, the other two wait in the socket's queue.
    eventually("a dispatch under way", || !log.snapshot().is_empty()).await;
    server.stop().await;
    acks.await.unwrap();
    assert_eq!(
        log.snapshot(),
        [
            "started 0",
            "slow 0",
            "started 1",
            "slow 1",
            "started 2",
            "slow 2",
            "gone ClosingServer Shutdown"
        ]
    );
}

// ---- the event table ----------------------------------------------------------------------

#[test]
fn the_event_table_lists_subscribers_in_dispatch_order_with_their_sources() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let log = Log::default();
        let app = ServiceManager::builder()
            .controller(Chat(log.clone()))
            .controller(Moderation(log.clone()))
            .handler(Audit(log.clone()))
            .build()
            .unwrap();
        app.boot().await.unwrap();
        let table = app.event_table();
        let message = table.iter().find(|r| r.event == "message").unwrap();
        let rows: Vec<_> = message
            .subscribers
            .iter()
            .map(|s| {
                (
                    s.owner.as_str(),
                    s.priority,
                    s.source.file.ends_with("tests/controllers.rs"),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("moderation", 1, true),
                ("audit", 10, true),
                ("chat", 100, true)
            ]
        );
        let text = app.print_event_table();
        let lines: Vec<_> = text.lines().collect();
        assert!(lines[0].starts_with("/        message"), "{text}");
        assert!(lines[0].contains("moderation"), "{text}");
        assert_eq!(
            serde_json::to_value(&table).unwrap()[0]["subscribers"][0]["owner"],
            Value::from("moderation")
        );
    });
}
