//! A server under test, run by the `bench` binary itself as
//! `bench serve KIND SUBSCRIBERS EVENTS` (one binary: `cargo run --release -p
//! specter-bench --bin bench` builds everything the benchmark starts).
//!
//! Listens on a free loopback port, prints `listening on http://ADDR`, and serves until
//! its standard input closes.

use tokio::io::AsyncReadExt;

/// Serves the server that `args` (`specter|raw|fanout-(specter|raw)|pipeline|limited|order-(sync|async)-(on|off)|emit-recovery-(on|off)
/// SUBSCRIBERS EVENTS`) names.
pub async fn serve(args: &[String]) {
    let usage = "usage: bench serve specter|raw|fanout-(specter|raw)|pipeline|limited|order-(sync|async)-(on|off)|emit-recovery-(on|off) SUBSCRIBERS EVENTS";
    let kind = args.first().expect(usage).clone();
    let subscribers: usize = args.get(1).and_then(|a| a.parse().ok()).expect(usage);
    let events: usize = args.get(2).and_then(|a| a.parse().ok()).expect(usage);
    let (router, _keep) = match kind.as_str() {
        "specter" => {
            let (app, router) = crate::apps::specter(subscribers, events).await;
            (router, Some(app))
        }
        "raw" => (crate::apps::raw(subscribers, events).1, None),
        // The broadcast benchmark's servers (`fanout`).
        "fanout-specter" => {
            let (app, router) = crate::fanout::specter().await;
            (router, Some(app))
        }
        "fanout-raw" => (crate::fanout::raw().1, None),
        // The pipeline in use, with a rate limit that never trips, or one of 1,000
        // events a second per socket (`limited`, for the flood).
        "pipeline" | "limited" => {
            let rate = match kind.as_str() {
                "pipeline" => specter::Rate::new(u32::MAX, std::time::Duration::from_secs(1)),
                _ => specter::Rate::new(1000, std::time::Duration::from_secs(1)),
            };
            let (app, router) =
                crate::apps::specter_pipeline(subscribers, rate.expect("a rate")).await;
            (router, Some(app))
        }
        // An emit per event, with connection state recovery on or off.
        "emit-recovery-on" | "emit-recovery-off" => {
            let (app, router) = crate::apps::specter_emit(kind == "emit-recovery-on").await;
            (router, Some(app))
        }
        // `order-sync-on` with a Prometheus recorder installed (build with
        // `--features metrics`).
        #[cfg(feature = "metrics")]
        "metrics" => {
            let recorder = metrics_exporter_prometheus::PrometheusBuilder::new()
                .install_recorder()
                .expect("one recorder");
            std::mem::forget(recorder);
            let (app, router) = crate::apps::specter_order(subscribers, false, true).await;
            (router, Some(app))
        }
        order => {
            // `order-sync-on`, `order-async-off`, ...: see `apps::specter_order`.
            let mut parts = order.split('-').skip(1);
            let asynchronous = parts.next() == Some("async");
            let ordered = parts.next() == Some("on");
            let (app, router) =
                crate::apps::specter_order(subscribers, asynchronous, ordered).await;
            (router, Some(app))
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("listening on http://{}", listener.local_addr().unwrap());
    let stop = async {
        let mut sink = Vec::new();
        let _ = tokio::io::stdin().read_to_end(&mut sink).await;
    };
    axum::serve(listener, router)
        .with_graceful_shutdown(stop)
        .await
        .unwrap();
}
