//! The accept loop of `ServiceManager::serve`: each TCP connection gets TCP_NODELAY, a
//! place under the connection caps (or a 503), the edge stream (write timeout, close at
//! shutdown) and hyper's HTTP/1 with a header read timeout and a bound on the head's size.
//!
//! hyper's header read timeout runs whenever a connection waits for a request's head: a
//! connection that sends nothing, stops in the middle of its headers, or idles between
//! requests without upgrading, is closed when it expires. A websocket, once upgraded,
//! leaves hyper and is bounded by engine.io's heartbeat instead.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceBuilder;

use super::caps::{Caps, Full};
use super::settings::EdgeLimits;
use super::stream::EdgeStream;

/// The smallest read buffer hyper accepts.
const HYPER_MIN_BUF: usize = 8192;

/// What the accept loop leaves for shutdown: the HTTP connections to drain, and the
/// switch that ends every connection still open.
pub(crate) struct Accepted {
    /// The tasks serving HTTP connections (until they upgrade or end).
    pub connections: TaskTracker,
    /// Asks each HTTP connection to finish its request in flight and close.
    pub drain: CancellationToken,
    /// Ends every connection still open, upgraded websockets too.
    pub close_all: CancellationToken,
}

impl Accepted {
    /// Asks every HTTP connection to close once its request in flight is answered, and
    /// waits until they have.
    pub async fn drain(&self) {
        self.connections.close();
        self.drain.cancel();
        self.connections.wait().await;
    }
}

/// Accepts connections on `listener` until `stop` is cancelled.
pub(crate) async fn accept_until(
    listener: TcpListener,
    router: Router,
    limits: EdgeLimits,
    write_timeout: Duration,
    caps: Arc<Caps>,
    stop: CancellationToken,
) -> Accepted {
    let connections = TaskTracker::new();
    let drain = CancellationToken::new();
    let close_all = CancellationToken::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes.max(HYPER_MIN_BUF));
    loop {
        let (tcp, address) = tokio::select! {
            biased;
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, or a connection reset before it was accepted:
                    // wait a moment rather than spin.
                    tracing::debug!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Small frames (acks, pings) leave at once instead of waiting for more.
        let _ = tcp.set_nodelay(true);
        let permit = match caps.admit(
            address.ip(),
            limits.max_connections,
            limits.max_connections_per_address,
        ) {
            Ok(permit) => permit,
            Err(full) => {
                tokio::spawn(refuse(tcp, full));
                continue;
            }
        };
        let io = EdgeStream::new(tcp, write_timeout, permit, close_all.clone());
        let service = ServiceBuilder::new()
            .map_request(move |mut req: axum::http::Request<Incoming>| {
                req.extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(address));
                req
            })
            .service(router.clone());
        let conn = http
            .serve_connection(TokioIo::new(io), TowerToHyperService::new(service))
            .with_upgrades();
        let draining = drain.clone();
        connections.spawn(async move {
            tokio::pin!(conn);
            let ended = tokio::select! {
                ended = conn.as_mut() => ended,
                () = draining.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = ended {
                tracing::trace!(error = %e, "connection ended with an error");
            }
        });
    }
    Accepted {
        connections,
        drain,
        close_all,
    }
}

/// Answers a connection over a cap with a 503 and closes it.
async fn refuse(mut tcp: TcpStream, full: Full) {
    let body = match full {
        Full::Total => "the server holds as many connections as it may",
        Full::Address => "too many connections from this address",
    };
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\nretry-after: 5\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = tcp.write_all(answer.as_bytes()).await;
        let _ = tcp.shutdown().await;
    })
    .await;
}
