//! [`ServiceManager`]: builds the app from discovered and registered components, boots
//! it, serves it and shuts it down.

use std::sync::{Arc, Mutex};

use axum::Router;
use socketioxide::{SocketIo, layer::SocketIoLayer};
use tokio::net::{TcpListener, ToSocketAddrs};

use crate::error::Error;
use crate::handler::{Handler, Mounted};
use crate::ingress::SocketIngress;
use crate::registry;
use crate::table::Source;

/// Builds a [`ServiceManager`]. Components are set up in the order they are added;
/// [`discover`](Self::discover) adds every discovered handler at that point, sorted by
/// name.
#[derive(Default)]
#[must_use]
pub struct ServiceManagerBuilder {
    steps: Vec<Step>,
    max_payload: Option<u64>,
}

enum Step {
    Discover,
    Handler(Arc<dyn Handler>),
}

impl ServiceManagerBuilder {
    /// Adds every `#[handler]` linked into the program, sorted by name (see
    /// [`registry`](crate::registry)). Handlers declared with `discover = false` are
    /// not among them: register an instance with [`handler`](Self::handler).
    pub fn discover(mut self) -> Self {
        self.steps.push(Step::Discover);
        self
    }

    /// Adds a handler instance: for handlers that need state, or are not discovered.
    pub fn handler(mut self, handler: impl Handler) -> Self {
        self.steps.push(Step::Handler(Arc::new(handler)));
        self
    }

    /// The largest payload a client may send, in bytes (socketioxide's default: 100 kB).
    pub fn max_payload(mut self, bytes: u64) -> Self {
        self.max_payload = Some(bytes);
        self
    }

    /// Checks the components (names must be unique) and builds the app; nothing is
    /// subscribed until [`ServiceManager::boot`].
    pub fn build(self) -> Result<ServiceManager, Error> {
        let mut handlers: Vec<Arc<dyn Handler>> = Vec::new();
        for step in self.steps {
            match step {
                Step::Discover => {
                    handlers.extend(registry::handlers().into_iter().map(|r| (r.construct)()))
                }
                Step::Handler(h) => handlers.push(h),
            }
        }
        check_unique(handlers.iter().map(|h| (h.name(), h.source())))?;

        let mut io = SocketIo::builder();
        if let Some(bytes) = self.max_payload {
            io = io.max_payload(bytes);
        }
        let (layer, io) = io.build_layer();
        let ingress = SocketIngress::new(io);
        Ok(ServiceManager {
            inner: Arc::new(Inner {
                layer,
                ingress,
                handlers: Mutex::new(handlers.into_iter().map(Mounted::new).collect()),
            }),
        })
    }
}

/// Fails on the first name used twice, naming both places.
fn check_unique<'a>(names: impl Iterator<Item = (&'a str, Source)>) -> Result<(), Error> {
    let mut seen: std::collections::HashMap<&str, Source> = Default::default();
    for (name, source) in names {
        if let Some(first) = seen.insert(name, source) {
            return Err(Error::DuplicateName {
                name: name.to_owned(),
                first,
                second: source,
            });
        }
    }
    Ok(())
}

/// The app: its ingress, its components and their lifecycles.
#[derive(Clone)]
pub struct ServiceManager {
    inner: Arc<Inner>,
}

struct Inner {
    layer: SocketIoLayer,
    ingress: SocketIngress,
    handlers: Mutex<Vec<Mounted>>,
}

impl ServiceManager {
    /// Starts building an app.
    pub fn builder() -> ServiceManagerBuilder {
        ServiceManagerBuilder::default()
    }

    /// The ingress every component subscribes through.
    pub fn ingress(&self) -> &SocketIngress {
        &self.inner.ingress
    }

    /// The socketioxide instance.
    pub fn io(&self) -> &SocketIo {
        self.inner.ingress.io()
    }

    /// The mounted handlers, in setup order.
    pub fn handlers(&self) -> Vec<Mounted> {
        self.inner.handlers.lock().unwrap().clone()
    }

    /// Sets up every handler in order. Idempotent: a handler already set up is skipped.
    pub async fn boot(&self) -> Result<(), Error> {
        for h in self.handlers() {
            h.setup(&self.inner.ingress).await?;
        }
        if tracing::enabled!(tracing::Level::DEBUG) {
            tracing::debug!("event table:\n{}", crate::ingress::format_table(&self.inner.ingress.table()));
        }
        Ok(())
    }

    /// Tears every handler down in reverse order. Idempotent.
    pub async fn shutdown(&self) {
        for h in self.handlers().iter().rev() {
            h.teardown().await;
        }
    }

    /// An axum router carrying the Socket.IO layer, to serve or merge into an app.
    pub fn router(&self) -> Router {
        Router::new().layer(self.inner.layer.clone())
    }

    /// Binds `addr`, then [`serve_listener`](Self::serve_listener).
    pub async fn serve(self, addr: impl ToSocketAddrs) -> Result<(), Error> {
        let listener = TcpListener::bind(addr).await?;
        self.serve_listener(listener).await
    }

    /// Boots, serves until Ctrl-C or SIGTERM, then disconnects every client and shuts
    /// down.
    pub async fn serve_listener(self, listener: TcpListener) -> Result<(), Error> {
        self.serve_until(listener, shutdown_signal()).await
    }

    /// Boots, serves until `stop` completes, then disconnects every client and shuts
    /// down: the form for tests and for apps with their own shutdown trigger.
    pub async fn serve_until(
        self,
        listener: TcpListener,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        self.boot().await?;
        tracing::info!("listening on http://{}", listener.local_addr()?);
        let io = self.io().clone();
        axum::serve(listener, self.router())
            .with_graceful_shutdown(async move {
                stop.await;
                io.close().await;
            })
            .await?;
        self.shutdown().await;
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
