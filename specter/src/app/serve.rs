//! `ServiceManager::serve`: boots the app, accepts connections through the edge
//! ([`accept`](crate::app::edge::accept)) until a signal, then shuts down gracefully, every phase
//! within one deadline.

use std::time::Duration;

use tokio::net::{TcpListener, ToSocketAddrs};

use crate::app::edge::accept::{self, Accepted};
use crate::app::manager::ServiceManager;
use crate::error::Error;

/// How long a graceful shutdown keeps reading and dispatching after its signal, so that
/// events sent before the signal, still unread, are answered.
const SETTLE: Duration = Duration::from_millis(300);

/// How long a graceful shutdown lets the connections' writers send what is queued
/// (the last acks) before closing the sessions.
const FLUSH: Duration = Duration::from_millis(100);

impl ServiceManager {
    /// Binds `addr`, then [`serve_listener`](Self::serve_listener).
    pub async fn serve(self, addr: impl ToSocketAddrs) -> Result<(), Error> {
        let listener = TcpListener::bind(addr).await?;
        self.serve_listener(listener).await
    }

    /// Boots, serves until Ctrl-C or SIGTERM, then shuts down gracefully.
    pub async fn serve_listener(self, listener: TcpListener) -> Result<(), Error> {
        self.serve_until(listener, shutdown_signal()).await
    }

    /// Boots and serves until `stop` completes; then shuts down gracefully, every phase
    /// within one deadline ([`shutdown_deadline`](crate::ServiceManagerBuilder::shutdown_deadline)):
    /// new handshakes are answered 503, events that arrived are dispatched and their acks
    /// sent, every client's `disconnect` subscribers run (told
    /// [`Recovery::Shutdown`](crate::Recovery::Shutdown)) and it is disconnected (sessions
    /// that never joined a namespace too), and [`shutdown`](Self::shutdown) runs.
    pub async fn serve_until(
        self,
        listener: TcpListener,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        if let Err(e) = self.boot().await {
            self.shutdown().await;
            return Err(e);
        }
        tracing::info!("listening on http://{}", listener.local_addr()?);
        let ingress = self.inner.ingress.clone();
        let stop_accepting = tokio_util::sync::CancellationToken::new();
        let accepting = tokio::spawn(accept::accept_until(
            listener,
            self.router(),
            self.inner.edge,
            self.inner.edge.write_timeout,
            self.inner.caps.clone(),
            stop_accepting.clone(),
        ));
        stop.await;
        let deadline = tokio::time::Instant::now() + self.inner.edge.shutdown_deadline;
        let left = || deadline.saturating_duration_since(tokio::time::Instant::now());
        self.start_draining();
        self.inner
            .origin_gate
            .closed
            .store(true, std::sync::atomic::Ordering::Relaxed);
        tracing::info!("shutting down: finishing dispatches under way");
        // Events a client sent before the signal may still be on their way or unread:
        // keep reading and dispatching for a moment before draining.
        tokio::time::sleep(SETTLE.min(left())).await;
        // Sessions whose clients are away end now (recovery): their `disconnect`
        // subscribers run while the namespaces are open.
        ingress.end_sessions();
        if !ingress.drain(left()).await {
            tracing::warn!("dispatches still under way at the shutdown deadline");
        }
        // Then those of the clients still connected, while their namespaces are open.
        ingress.end_connected();
        if !ingress.drain(left()).await {
            tracing::warn!("disconnect subscribers still running at the shutdown deadline");
        }
        // Acks just answered sit in the connections' outgoing buffers: let the writers
        // send them before the sessions close.
        tokio::time::sleep(FLUSH.min(left())).await;
        if tokio::time::timeout(left(), ingress.io().close())
            .await
            .is_err()
        {
            tracing::warn!("clients still being closed at the shutdown deadline");
        }
        stop_accepting.cancel();
        let accepted: Accepted = accepting
            .await
            .map_err(|e| Error::Io(std::io::Error::other(e)))?;
        if tokio::time::timeout(left(), accepted.drain())
            .await
            .is_err()
        {
            tracing::warn!("HTTP connections still open at the shutdown deadline: closing them");
        }
        // What is still open (a websocket that never joined a namespace, a request held
        // past the deadline) reads end-of-file and closes.
        accepted.close_all.cancel();
        // Disconnect subscribers of clients that left meanwhile.
        ingress.drain(left()).await;
        if tokio::time::timeout(left(), self.shutdown()).await.is_err() {
            tracing::warn!(
                "components still stopping at the shutdown deadline: not waiting for them"
            );
        }
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
