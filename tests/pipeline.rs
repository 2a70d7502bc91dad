//! The dispatch pipeline through the in-process `TestClient`: the order of its stages
//! (rate limit, interceptors, then per subscriber guard, extraction, the call under its
//! timeout, then the ack), interceptors that refuse, rate limits exceeded and recovered, and
//! validation with field errors.

mod common;

use std::sync::Mutex;
use std::time::Duration;

use common::{Log, emit_ack};
use serde_json::{Value, json};
use specter::interceptor::{Done, EventInfo, Interceptor};
use specter::prelude::*;
use specter::testing::TestClient;
use specter::validate::Valid;
use specter::{DispatchSettings, EventCtx, EventKinds, ExtractError, FromEvent, Rate};

/// An interceptor that records what it sees.
struct Recorder(&'static str, Log);

impl Interceptor for Recorder {
    fn before(&self, event: &EventInfo<'_>) -> Result<(), String> {
        self.1.push(format!("{} before {}", self.0, event.event()));
        Ok(())
    }

    fn after(&self, _: &EventInfo<'_>, done: &Done) {
        self.1.push(format!("{} after {:?}", self.0, done.outcome));
    }

    fn name(&self) -> &str {
        self.0
    }
}

// ---- the order of the stages --------------------------------------------------------

static STAGES: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn stage(s: &str) {
    STAGES.lock().unwrap().push(s.to_owned());
}

fn stages() -> Vec<String> {
    std::mem::take(&mut STAGES.lock().unwrap())
}

/// An extractor that records when it runs.
struct Traced;

impl FromEvent for Traced {
    const KINDS: EventKinds = EventKinds::ALL;
    fn from_event(_: &mut EventCtx<'_>) -> Result<Self, ExtractError> {
        stage("extract");
        Ok(Traced)
    }
}

fn recorded_guard(_: SocketRef) -> bool {
    stage("guard");
    true
}

struct StageRecorder(&'static str);

impl Interceptor for StageRecorder {
    fn before(&self, event: &EventInfo<'_>) -> Result<(), String> {
        stage(&format!("{} before {}", self.0, event.event()));
        Ok(())
    }
    fn after(&self, _: &EventInfo<'_>, done: &Done) {
        stage(&format!("{} after {:?}", self.0, done.outcome));
    }
}

struct Staged;
#[handler(name = "staged", discover = false)]
impl Staged {
    #[on("step", rate = "2/10s", guard = recorded_guard, timeout = "1s")]
    async fn step(&self, _: Traced) -> &'static str {
        stage("call");
        "done"
    }
}

#[tokio::test]
async fn the_stages_run_in_the_documented_order() {
    let app = ServiceManager::builder()
        .handler(Staged)
        .interceptor(StageRecorder("app"))
        .interceptor_in("/", StageRecorder("namespace"))
        .build()
        .unwrap();
    let client = TestClient::connect(&app).await.unwrap();
    for _ in 0..2 {
        assert_eq!(emit_ack(&client, "step", json!([])).await, json!(["done"]));
        assert_eq!(
            stages(),
            [
                "app before step",
                "namespace before step",
                "guard",
                "extract",
                "call",
                "namespace after Answered",
                "app after Answered"
            ]
        );
    }
    // The third within 10 s is refused by the rate limit, the first stage: nothing
    // else sees it.
    let refused = emit_ack(&client, "step", json!([])).await;
    let error = &refused[0]["error"];
    assert_eq!(error["kind"], "rate_limited");
    assert_eq!(error["handler"], "staged");
    let wait = error["retry_after_ms"].as_u64().expect("the time to wait");
    assert!(
        (1..=5000).contains(&wait),
        "half the period at most: {wait}"
    );
    assert_eq!(
        error["message"],
        format!("more than 2 \"step\" events per 10s; retry in {wait} ms")
    );
    assert!(stages().is_empty());

    let table = app.print_event_table();
    let line = table.lines().find(|l| l.contains("step")).unwrap();
    assert!(
        line.ends_with("guards=1 timeout=1000ms rate=2/10s"),
        "the event table shows the options: {line}"
    );
    app.shutdown().await;
}

// ---- interceptors -----------------------------------------------------------------------

/// Refuses `secret` unless the payload says please.
struct Gate;

impl Interceptor for Gate {
    fn before(&self, event: &EventInfo<'_>) -> Result<(), String> {
        match (event.event(), event.payload_text()) {
            ("secret", Some(text)) if !text.contains("please") => Err("say please".into()),
            _ => Ok(()),
        }
    }
}

#[tokio::test]
async fn a_refusing_interceptor_runs_no_subscriber_and_the_interceptors_around_it_see_the_refusal()
{
    let log = Log::default();
    let app = ServiceManager::builder()
        .interceptor(Recorder("outer", log.clone()))
        .interceptor(Gate)
        .interceptor_in("/", Recorder("inner", log.clone()))
        // App-wide, added after the namespace's: it still wraps the namespace's own.
        .interceptor(Recorder("late", log.clone()))
        .build()
        .unwrap();
    let ran = log.clone();
    app.ingress()
        .on("secret", move |Data(word): Data<String>| {
            ran.push(format!("secret {word}"));
            "42"
        })
        .owner("vault")
        .subscribe()
        .unwrap();
    let client = TestClient::connect(&app).await.unwrap();

    let refused = emit_ack(&client, "secret", json!(["now"])).await;
    assert_eq!(
        refused,
        json!([{"error": {"handler": "Gate", "kind": "rejected", "message": "say please"}}])
    );
    assert_eq!(
        log.take(),
        ["outer before secret", "outer after Rejected"],
        "the inner interceptor and the subscriber never saw it"
    );

    assert_eq!(
        emit_ack(&client, "secret", json!(["please"])).await,
        json!(["42"])
    );
    assert_eq!(
        log.take(),
        [
            "outer before secret",
            "late before secret",
            "inner before secret",
            "secret please",
            "inner after Answered",
            "late after Answered",
            "outer after Answered"
        ],
        "app-wide interceptors wrap the namespace's own, even when added later"
    );
    app.shutdown().await;
}

/// Times each dispatch and records the outcome of failures.
struct Timing(Log);

impl Interceptor for Timing {
    fn after(&self, event: &EventInfo<'_>, done: &Done) {
        // Recorded, not asserted here: a panic in an interceptor is caught and logged.
        let slow_enough = done.elapsed >= Duration::from_millis(50);
        self.0.push(format!(
            "{} {:?} {slow_enough}",
            event.event(),
            done.outcome
        ));
    }
}

#[tokio::test]
async fn a_interceptor_sees_how_each_dispatch_ended_and_how_long_it_took() {
    let log = Log::default();
    let app = ServiceManager::builder()
        .interceptor(Timing(log.clone()))
        .build()
        .unwrap();
    let ingress = app.ingress();
    ingress
        .on("slow", async || {
            tokio::time::sleep(Duration::from_millis(50)).await
        })
        .owner("t")
        .subscribe()
        .unwrap();
    ingress
        .on("bad", || Err::<(), _>("no"))
        .owner("t")
        .subscribe()
        .unwrap();
    ingress
        .on("stop", || Reject::new("stop"))
        .owner("t")
        .subscribe()
        .unwrap();
    let client = TestClient::connect(&app).await.unwrap();
    for event in ["slow", "bad", "stop"] {
        emit_ack(&client, event, json!([])).await;
    }
    assert_eq!(
        log.take(),
        [
            "slow Nothing true",
            "bad Failed(Returned) false",
            "stop Rejected false"
        ],
        "the slow subscriber's 50 ms are in the elapsed time"
    );
    app.shutdown().await;
}

// ---- rate limits -------------------------------------------------------------------

struct Chatty(Log);
#[handler(name = "chatty", discover = false)]
impl Chatty {
    #[on("message", rate = "3/3s")]
    fn message(&self, Data(n): Data<u32>) -> u32 {
        self.0.push(format!("message {n}"));
        n
    }
}

fn kinds(acks: &[Value]) -> Vec<String> {
    acks.iter()
        .map(|a| match a[0]["error"]["kind"].as_str() {
            Some(kind) => kind.to_owned(),
            None => "ok".to_owned(),
        })
        .collect()
}

#[tokio::test]
async fn an_event_over_its_rate_limit_is_refused_for_that_socket_only_and_recovers() {
    let log = Log::default();
    let app = ServiceManager::builder()
        .handler(Chatty(log.clone()))
        .build()
        .unwrap();
    let flooder = TestClient::connect(&app).await.unwrap();
    let other = TestClient::connect(&app).await.unwrap();

    let mut acks = Vec::new();
    for n in 0..5 {
        acks.push(emit_ack(&flooder, "message", json!([n])).await);
    }
    assert_eq!(
        kinds(&acks),
        ["ok", "ok", "ok", "rate_limited", "rate_limited"]
    );
    assert_eq!(log.take(), ["message 0", "message 1", "message 2"]);
    assert_eq!(app.ingress().delivery_stats().rate_limited_events, 2);

    // Another socket has limiters of its own.
    let mut acks = Vec::new();
    for n in 10..13 {
        acks.push(emit_ack(&other, "message", json!([n])).await);
    }
    assert_eq!(kinds(&acks), ["ok", "ok", "ok"]);
    log.take();

    // After the time the ack gave, the flooder may send again. The limiters read
    // tokio's clock: paused from the refusal on, and moved on by exactly that wait.
    tokio::time::pause();
    let refused = emit_ack(&flooder, "message", json!([5])).await;
    let wait = refused[0]["error"]["retry_after_ms"].as_u64().unwrap();
    assert!((1..=1000).contains(&wait), "one event per second: {wait}");
    tokio::time::advance(Duration::from_millis(wait - 1)).await;
    let early = emit_ack(&flooder, "message", json!([6])).await;
    assert_eq!(early[0]["error"]["kind"], "rate_limited", "1 ms early");
    tokio::time::advance(Duration::from_millis(1)).await;
    tokio::time::resume();
    assert_eq!(emit_ack(&flooder, "message", json!([6])).await, json!([6]));
    assert_eq!(log.take(), ["message 6"]);
    app.shutdown().await;
}

#[tokio::test]
async fn the_app_limits_every_socket_over_all_events_and_each_event_without_its_own() {
    let log = Log::default();
    let app = ServiceManager::builder()
        .handler(Chatty(log.clone()))
        .dispatch(
            DispatchSettings::default()
                .rate_limit_per_socket("6/10s".parse().unwrap())
                .rate_limit_per_event(Rate::new(2, Duration::from_secs(10)).unwrap()),
        )
        .build()
        .unwrap();
    let ran = log.clone();
    app.ingress()
        .on("ping", move || ran.push("ping"))
        .owner("p")
        .subscribe()
        .unwrap();
    let client = TestClient::connect(&app).await.unwrap();

    let mut acks = Vec::new();
    for event in ["ping", "ping", "ping", "message", "message", "message"] {
        acks.push(emit_ack(&client, event, json!([1])).await);
    }
    assert_eq!(
        kinds(&acks),
        ["ok", "ok", "rate_limited", "ok", "ok", "ok"],
        "ping has the app's 2 per event; message keeps its own 3"
    );
    assert!(acks[2][0]["error"].get("handler").is_none());

    // Six events counted against the socket: the seventh, of any name, is refused.
    let seventh = emit_ack(&client, "nobody-listens", json!([])).await;
    assert_eq!(seventh[0]["error"]["kind"], "rate_limited");
    let message = seventh[0]["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("more than 6 events from this socket per 10s; retry in "),
        "{message}"
    );
    app.shutdown().await;
}

// ---- validation ----------------------------------------------------------------------

#[derive(serde::Deserialize, garde::Validate)]
struct Review {
    #[garde(length(min = 1, max = 20))]
    text: String,
    #[garde(range(min = 1, max = 5))]
    stars: u8,
}

struct Reviews(Log);
#[handler(name = "reviews", discover = false)]
impl Reviews {
    #[on("review")]
    fn review(&self, Valid(r): Valid<Review>) -> String {
        self.0.push(format!("{} stars", r.stars));
        r.text
    }
}

#[tokio::test]
async fn a_payload_that_breaks_its_rules_lists_each_field_and_runs_nothing() {
    let log = Log::default();
    let app = ServiceManager::builder()
        .handler(Reviews(log.clone()))
        .build()
        .unwrap();
    let client = TestClient::connect(&app).await.unwrap();

    assert_eq!(
        emit_ack(&client, "review", json!([{"text": "fine", "stars": 4}])).await,
        json!(["fine"])
    );
    assert_eq!(log.take(), ["4 stars"]);

    let invalid = emit_ack(&client, "review", json!([{"text": "", "stars": 9}])).await;
    let error = &invalid[0]["error"];
    assert_eq!(error["kind"], "invalid_payload");
    assert_eq!(error["handler"], "reviews");
    assert_eq!(
        error["fields"],
        json!([
            {"path": "stars", "message": "greater than 5"},
            {"path": "text", "message": "length is lower than 1"}
        ])
    );
    assert_eq!(
        error["message"],
        "stars: greater than 5; text: length is lower than 1"
    );

    // A payload of the wrong shape fails as any `Data<T>` does: what was expected where.
    let wrong = emit_ack(&client, "review", json!(["five stars"])).await;
    assert_eq!(wrong[0]["error"]["kind"], "invalid_payload");
    assert_eq!(wrong[0]["error"]["message"], "expected an object");
    assert_eq!(
        wrong[0]["error"]["fields"],
        json!([{"path": "", "message": "expected an object"}])
    );
    assert!(log.take().is_empty());
    app.shutdown().await;
}
