//! A server under test: `bench-server specter|raw SUBSCRIBERS EVENTS`.
//!
//! Listens on a free loopback port, prints `listening on http://ADDR`, and serves until
//! its standard input closes.

use tokio::io::AsyncReadExt;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: bench-server specter|raw SUBSCRIBERS EVENTS";
    let kind = args.get(1).expect(usage).clone();
    let subscribers: usize = args.get(2).and_then(|a| a.parse().ok()).expect(usage);
    let events: usize = args.get(3).and_then(|a| a.parse().ok()).expect(usage);
    let (router, _keep) = match kind.as_str() {
        "specter" => {
            let (app, router) = specter_bench::apps::specter(subscribers, events).await;
            (router, Some(app))
        }
        "raw" => (specter_bench::apps::raw(subscribers, events).1, None),
        _ => panic!("{usage}"),
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
