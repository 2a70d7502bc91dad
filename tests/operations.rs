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
        lifecycle.spawn("doomed", async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            panic!("the queue is gone");
        });
        Ok(())
    }
}

#[tokio::test]
async fn background_work_runs_until_teardown_and_its_panic_shows_in_health() {
    let ticker = Ticker::default();
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
    assert_eq!(
        health["components"][0]["task_failures"],
        json!(["doomed: the queue is gone"])
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
async fn health_is_200_when_up_and_503_once_shutting_down() {
    let app = ServiceManager::builder()
        .handler(Ticker::default())
        .health_route("/health")
        .build()
        .unwrap();
    let (status, health) = get(&app, "/health").await;
    assert_eq!((status, health["status"].as_str()), (503, Some("down")));
    app.boot().await.unwrap();
    let (status, health) = get(&app, "/health").await;
    // The doomed task may not have panicked yet, or may have: both are honest.
    if health["components"][0]["task_failures"].is_null() {
        assert_eq!((status, health["status"].as_str()), (200, Some("up")));
        assert_eq!(health["components"][0]["state"], "up");
        assert_eq!(health["components"][0]["subscriptions"], 1);
    }
    app.shutdown().await;
    let (status, health) = get(&app, "/health").await;
    assert_eq!(
        (status, health["status"].as_str()),
        (503, Some("shutting_down"))
    );
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
