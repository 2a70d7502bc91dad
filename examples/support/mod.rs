//! What every example does around its app: logs (`RUST_LOG`, default `info`), the
//! address (`SPECTER_ADDR`, default 127.0.0.1:3000), Redis when built with
//! `--features redis` (`SPECTER_REDIS_URL`), and the ready line
//! `listening on http://ADDR`, printed once the app is booted.

use specter::{Error, ServiceManagerBuilder};

/// Builds, boots and serves the app until Ctrl-C or SIGTERM.
pub async fn serve(builder: ServiceManagerBuilder) -> Result<(), Error> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let addr = std::env::var("SPECTER_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    // Built with `--features redis`: every node sharing this Redis server is one app.
    #[cfg(feature = "redis")]
    let builder = {
        let url =
            std::env::var("SPECTER_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        builder.redis(specter::adapter::connect_redis(&url).await?)
    };
    let app = builder.build()?;
    app.boot().await?; // subscribed before the first client can connect
    print!("{}", app.print_event_table());
    println!("listening on http://{}", listener.local_addr()?);
    app.serve_listener(listener).await
}
