//! Running an app: background work owned by a lifecycle (stopped by teardown, its
//! panics reported by health), the health route over HTTP, spans of a dispatch, and the
//! presence example's sweep of silent users.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{Client, Log, emit_ack, eventually, example, start, terminate};
use serde_json::{Value, json};
use specter::prelude::*;
use specter::testing::TestClient;
use specter::{BoxError, Hooks, Lifecycle};
use tower::ServiceExt;

/// GET `path` on the app's router: (status, JSON body).
async fn get(app: &ServiceManager, path: &str) -> (u16, Value) {
    let response = app
        .router()
        .oneshot(
            axum::http::Request::get(path)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap();
    (status, serde_json::from_slice(&body).unwrap())
}

// ---- background work -------------------------------------------------------------------

#[derive(Default)]
struct Ticker {
    ticks: Arc<AtomicUsize>,
    log: Log,
    /// Whether it also starts a task that panics.
    doomed: bool,
}

#[handler(name = "ticker", discover = false)]
impl Ticker {
    #[on("ticks")]
    fn ticks(&self) -> usize {
        self.ticks.load(Ordering::SeqCst)
    }
}

impl Hooks for Ticker {
    async fn on_setup(&self, lifecycle: &Lifecycle) -> Result<(), BoxError> {
        let ticks = self.ticks.clone();
        lifecycle.every("tick", Duration::from_millis(20), move || {
            let ticks = ticks.clone();
            async move {
                ticks.fetch_add(1, Ordering::SeqCst);
            }
        });
        let log = self.log.clone();
        let stopping = lifecycle.stopping();
        lifecycle.spawn("worker", async move {
            stopping.await;
            log.push("worker saw teardown");
        });
        if self.doomed {
            lifecycle.spawn("doomed", async {
                tokio::time::sleep(Duration::from_millis(10)).await;
                panic!("the queue is gone");
            });
        }
        Ok(())
    }
}

#[tokio::test]
async fn background_work_runs_until_teardown_and_its_panic_shows_in_health() {
    let ticker = Ticker {
        doomed: true,
        ..Ticker::default()
    };
    let (ticks, log) = (ticker.ticks.clone(), ticker.log.clone());
    let app = ServiceManager::builder()
        .handler(ticker)
        .health_route("/health")
        .build()
        .unwrap();
    app.boot().await.unwrap();
    eventually("three ticks", || ticks.load(Ordering::SeqCst) >= 3).await;
    eventually("the panic recorded", || {
        !app.health().components[0].task_failures.is_empty()
    })
    .await;

    // The app goes on: events are still answered.
    let client = TestClient::connect(&app).await.unwrap();
    let answer = emit_ack(&client, "ticks", json!([])).await;
    assert!(answer[0].as_u64().unwrap() >= 3, "{answer}");

    let (status, health) = get(&app, "/health").await;
    assert_eq!(
        status, 503,
        "a failed background task makes the node unhealthy"
    );
    assert_eq!(health["status"], "degraded");
    // Anyone may ask: the route says how many tasks failed, the log and `health()` why.
    assert_eq!(health["components"][0]["failed_tasks"], 1);
    assert!(
        health["components"][0].get("task_failures").is_none(),
        "{health}"
    );
    assert_eq!(
        app.health().components[0].task_failures,
        ["doomed: the queue is gone"]
    );

    app.shutdown().await;
    assert_eq!(log.take(), ["worker saw teardown"]);
    let after = ticks.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        ticks.load(Ordering::SeqCst),
        after,
        "no tick after teardown"
    );
}

#[tokio::test]
async fn health_is_200_when_up_and_503_when_shutting_down_or_down() {
    let app = ServiceManager::builder()
        .handler(Ticker::default())
        .health_route("/health")
        .build()
        .unwrap();
    let (status, health) = get(&app, "/health").await;
    assert_eq!((status, health["status"].as_str()), (503, Some("down")));
    app.boot().await.unwrap();
    let (status, health) = get(&app, "/health").await;
    assert_eq!((status, health["status"].as_str()), (200, Some("up")));
    assert_eq!(health["components"][0]["state"], "up");
    assert_eq!(health["components"][0]["subscriptions"], 1);
    // A shutdown under way: the signal came, the components are still up.
    app.start_draining();
    let (status, health) = get(&app, "/health").await;
    assert_eq!(
        (status, health["status"].as_str()),
        (503, Some("shutting_down"))
    );
    app.shutdown().await;
    let (status, health) = get(&app, "/health").await;
    assert_eq!((status, health["status"].as_str()), (503, Some("down")));
}

// ---- the presence example ---------------------------------------------------------------

#[tokio::test]
async fn presence_drops_a_silent_user_and_tells_the_others() {
    let (child, url) = start(&example("presence"), &[("PRESENCE_STALE_MS", "300")]).await;
    let mut node = Client::node().await;
    let ann = node.connect(&url).await.unwrap();
    let bob = node.connect(&url).await.unwrap();
    let ack = node
        .emit_ack(&ann, "heartbeat", json!([{"user": "ann"}]))
        .await;
    assert_eq!(ack[0]["present"], 1);
    // Ann stays silent: within a few sweeps (every 150 ms) bob hears she left.
    assert_eq!(
        node.next_event(&bob, "left").await,
        json!([{"user": "ann"}])
    );
    let ack = node
        .emit_ack(&bob, "heartbeat", json!([{"user": "bob"}]))
        .await;
    assert_eq!(ack[0]["present"], 1, "ann is gone, bob is here");
    terminate(child).await;
}

// ---- spans ---------------------------------------------------------------------------

mod capture {
    //! A `tracing` layer that keeps every span (name, fields, parent) and every event
    //! (message, the span it is in).

    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Subscriber};
    use tracing_subscriber::layer::Context;
    use tracing_subscriber::registry::LookupSpan;

    #[derive(Debug, Clone, Default)]
    pub struct Captured {
        pub name: String,
        pub fields: BTreeMap<String, String>,
        pub parent: Option<String>,
    }

    /// An event's message and the id of the span it happened in.
    pub type LoggedEvent = (String, Option<u64>);

    #[derive(Clone, Default)]
    pub struct Spans {
        pub spans: Arc<Mutex<Vec<(u64, Captured)>>>,
        pub events: Arc<Mutex<Vec<LoggedEvent>>>,
    }

    struct Fields<'a>(&'a mut BTreeMap<String, String>);

    impl Visit for Fields<'_> {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.0.insert(
                field.name().to_owned(),
                format!("{value:?}").trim_matches('"').to_owned(),
            );
        }
        fn record_str(&mut self, field: &Field, value: &str) {
            self.0.insert(field.name().to_owned(), value.to_owned());
        }
    }

    impl<S: Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Spans {
        fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
            let mut captured = Captured {
                name: attrs.metadata().name().to_owned(),
                ..Captured::default()
            };
            attrs.record(&mut Fields(&mut captured.fields));
            captured.parent = ctx
                .span(id)
                .and_then(|s| s.parent())
                .map(|p| format!("{}#{}", p.name(), p.id().into_u64()));
            self.spans.lock().unwrap().push((id.into_u64(), captured));
        }

        fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
            let mut spans = self.spans.lock().unwrap();
            if let Some((_, c)) = spans.iter_mut().rev().find(|(i, _)| *i == id.into_u64()) {
                values.record(&mut Fields(&mut c.fields));
            }
        }

        fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
            let mut fields = BTreeMap::new();
            event.record(&mut Fields(&mut fields));
            let message = fields.remove("message").unwrap_or_default();
            let span = ctx.event_span(event).map(|s| s.id().into_u64());
            self.events.lock().unwrap().push((message, span));
        }
    }
}

struct Traced;
#[handler(name = "traced", discover = false)]
impl Traced {
    #[on("ping", priority = 10)]
    fn first(&self) {
        tracing::info!("inside the first");
    }
}

struct TracedToo;
#[handler(name = "traced too", discover = false)]
impl TracedToo {
    #[on("ping")]
    async fn second(&self) -> &'static str {
        tokio::task::yield_now().await;
        tracing::info!("inside the second");
        "pong"
    }
}

#[tokio::test]
async fn a_dispatch_has_a_span_and_each_subscriber_one_inside_it() {
    use tracing_subscriber::layer::SubscriberExt;
    let capture = capture::Spans::default();
    let _default =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    let app = ServiceManager::builder()
        .handler(Traced)
        .handler(TracedToo)
        .build()
        .unwrap();
    let client = TestClient::connect(&app).await.unwrap();
    assert_eq!(emit_ack(&client, "ping", json!([])).await, json!(["pong"]));
    app.shutdown().await;

    let spans = capture.spans.lock().unwrap().clone();
    let (dispatch_id, dispatch) = spans
        .iter()
        .find(|(_, s)| {
            s.name == "dispatch" && s.fields.get("event").map(String::as_str) == Some("ping")
        })
        .cloned()
        .expect("a dispatch span");
    assert_eq!(dispatch.fields["namespace"], "/");
    assert_eq!(dispatch.fields["socket"], client.id());
    assert_eq!(dispatch.fields["transport"], "Websocket");
    assert_eq!(dispatch.fields["outcome"], "answered");

    assert!(
        spans.iter().any(|(_, s)| s.name == "dispatch"
            && s.fields.get("event").map(String::as_str) == Some("connect")
            && s.fields.get("outcome").map(String::as_str) == Some("nothing")),
        "connect has its dispatch span too"
    );
    let subscribers: Vec<&capture::Captured> = spans
        .iter()
        .filter(|(_, s)| s.name == "subscriber")
        .map(|(_, s)| s)
        .collect();
    let summary: Vec<(&str, &str, &str)> = subscribers
        .iter()
        .map(|s| {
            (
                s.fields["owner"].as_str(),
                s.fields["priority"].as_str(),
                s.fields["outcome"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("traced", "10", "nothing"),
            ("traced too", "100", "answered")
        ]
    );
    for s in &subscribers {
        assert_eq!(
            s.parent.as_deref(),
            Some(format!("dispatch#{dispatch_id}").as_str())
        );
        assert!(
            s.fields["source"].starts_with("tests/operations.rs:"),
            "{:?}",
            s.fields
        );
    }
    // A subscriber's own events are inside its span, sync or async.
    let events = capture.events.lock().unwrap().clone();
    for (message, priority) in [("inside the first", "10"), ("inside the second", "100")] {
        let (_, span) = events
            .iter()
            .find(|(m, _)| m == message)
            .unwrap_or_else(|| panic!("{message} not logged: {events:?}"));
        let (_, within) = spans
            .iter()
            .find(|(id, _)| Some(*id) == *span)
            .expect("inside a span");
        assert_eq!(
            (within.name.as_str(), within.fields["priority"].as_str()),
            ("subscriber", priority)
        );
    }
}
