//! What every example does around its app: logs (`RUST_LOG`, default `info`), the
//! address (`SPECTER_ADDR`, default 127.0.0.1:3000), Redis when built with
//! `--features redis` (`SPECTER_REDIS_URL`, or `SPECTER_REDIS_CLUSTER`: the comma-separated
//! URLs of some nodes of a Redis Cluster; `SPECTER_REDIS_SENTINEL`, those of sentinels,
//! and `SPECTER_REDIS_PRIMARY`, the name they know the primary by; `SPECTER_REDIS_HELD`: how many messages for
//! other nodes are held while Redis is away), `SPECTER_HEALTH_DETAILS=1` (the health
//! route tells why and which nodes, not only states), and the ready line
//! `listening on http://ADDR`, printed once the app is booted. With the arguments
//! `contract DIR`, it writes the app's contract (TypeScript event maps and an AsyncAPI
//! document) into DIR instead of serving.

use specter::contract::Contract;
use specter::{Error, ServiceManagerBuilder};

/// Builds, boots and serves the app until Ctrl-C or SIGTERM.
pub async fn serve(builder: ServiceManagerBuilder) -> Result<(), Error> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    // Built with `--features redis`: every node sharing this Redis is one app.
    #[cfg(feature = "redis")]
    let builder = {
        use specter::adapter::{
            connect_redis_cluster_with, connect_redis_sentinel_with, connect_redis_with,
        };
        // How many messages for other nodes are held while Redis is away (default 10,000).
        let mut settings = specter::adapter::redis_link::LinkSettings::default();
        if let Some(n) = std::env::var("SPECTER_REDIS_HELD")
            .ok()
            .and_then(|n| n.parse().ok())
        {
            settings.held_messages = n;
        }
        let cluster = std::env::var("SPECTER_REDIS_CLUSTER");
        let sentinel = std::env::var("SPECTER_REDIS_SENTINEL");
        let redis = match (cluster, sentinel) {
            (Ok(nodes), _) => {
                let nodes: Vec<&str> = nodes.split(',').collect();
                connect_redis_cluster_with(&nodes, settings).await?
            }
            (_, Ok(sentinels)) => {
                let sentinels: Vec<&str> = sentinels.split(',').collect();
                let name = std::env::var("SPECTER_REDIS_PRIMARY").unwrap_or("mymaster".into());
                connect_redis_sentinel_with(&sentinels, &name, settings).await?
            }
            _ => {
                let url = std::env::var("SPECTER_REDIS_URL")
                    .unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
                connect_redis_with(&url, settings).await?
            }
        };
        builder.redis(redis)
    };
    let details = std::env::var("SPECTER_HEALTH_DETAILS").is_ok_and(|v| v == "1");
    let app = builder.health_details(details).build()?;
    app.boot().await?; // subscribed before the first client can connect
    // `cargo run --example NAME -- contract DIR`: write the app's contract and stop.
    let args: Vec<String> = std::env::args().collect();
    if let [_, command, dir] = &args[..] {
        if command == "contract" {
            let contract = Contract::of(&app, env!("CARGO_CRATE_NAME"), env!("CARGO_PKG_VERSION"));
            contract.write(dir)?;
            for finding in contract.lint() {
                eprintln!("{finding}");
            }
            println!("wrote {dir}/socket-events.d.ts and {dir}/asyncapi.json");
            app.shutdown().await;
            return Ok(());
        }
    }
    let addr = std::env::var("SPECTER_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = match tokio::net::TcpListener::bind(&addr).await {
        Ok(listener) => listener,
        Err(e) => {
            app.shutdown().await; // the components started: stop them
            return Err(e.into());
        }
    };
    print!("{}", app.print_event_table());
    println!("listening on http://{}", listener.local_addr()?);
    app.serve_listener(listener).await
}
