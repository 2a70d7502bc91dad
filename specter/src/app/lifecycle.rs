//! Idempotent setup and teardown with last-in-first-out cleanups, shared by handlers,
//! controllers and services.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;

use crate::adapter::SocketIo;
use crate::adapter::node_bus::Listener;
use crate::app::background::{TASK_GRACE, Tasks};
use crate::error::Error;
use crate::subscriber::Outbox;

type Cleanup = Box<dyn FnOnce() + Send>;

/// The up/down state of one component (a handler, a controller, a service), its
/// cleanup callbacks and its background work. The manager sets it up and tears it down,
/// each idempotent (concurrent callers wait for the one that runs); a component's
/// hooks receive it to register what teardown undoes and what runs meanwhile.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::sync::Arc;
/// use specter::prelude::*;
/// use specter::{BoxError, Hooks, Lifecycle};
///
/// #[derive(Default)]
/// struct Ticker(Arc<AtomicU64>);
///
/// #[handler(name = "ticker", discover = false)]
/// impl Ticker {
///     #[on("ping")]
///     fn ping(&self) -> u64 {
///         self.0.load(Ordering::Relaxed)
///     }
/// }
///
/// impl Hooks for Ticker {
///     async fn on_setup(&self, lifecycle: &Lifecycle) -> Result<(), BoxError> {
///         let ticks = self.0.clone();
///         // runs every second until teardown
///         lifecycle.every("tick", std::time::Duration::from_secs(1), move || {
///             let ticks = ticks.clone();
///             async move {
///                 ticks.fetch_add(1, Ordering::Relaxed);
///             }
///         });
///         let stopping = lifecycle.stopping();
///         lifecycle.spawn("worker", async move {
///             stopping.await; // works until teardown begins
///         });
///         // undone at teardown, last in first out
///         lifecycle.add_cleanup(|| println!("ticker down"));
///         Ok(())
///     }
/// }
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let app = ServiceManager::builder().handler(Ticker::default()).build().unwrap();
/// app.boot().await.unwrap();
/// app.shutdown().await; // stops the tick and the worker, then runs the cleanup
/// # });
/// ```
#[derive(Default)]
pub struct Lifecycle {
    gate: tokio::sync::Mutex<()>,
    up: AtomicBool,
    cleanups: Mutex<Vec<Cleanup>>,
    tasks: Tasks,
    outbox: std::sync::OnceLock<Outbox>,
}

impl std::fmt::Debug for Lifecycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lifecycle")
            .field("up", &self.is_up())
            .finish()
    }
}

impl Lifecycle {
    /// A component that is down, with no cleanups.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Whether setup ran and teardown has not run since.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    /// Runs `fut` in the background. At teardown, [`stopping`](Self::stopping)
    /// resolves and the task has 2 s to finish; then it is aborted (logged at `warn`).
    /// A panic is logged and reported by `ServiceManager::health()`; the app goes on.
    pub fn spawn(&self, name: &str, fut: impl Future<Output = ()> + Send + 'static) {
        self.tasks.spawn(name, fut);
    }

    /// Calls `tick` every `period` (first after one period) until teardown; a tick
    /// runs to its end before the next. A panicking tick is logged and reported by
    /// `health()`, and the next tick still comes.
    pub fn every<F, Fut>(&self, name: &str, period: Duration, tick: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.tasks.every(name, period, tick);
    }

    /// Resolves once teardown begins: a background task's cue to finish.
    pub fn stopping(&self) -> impl Future<Output = ()> + Send + 'static {
        self.tasks.stopping()
    }

    /// The background tasks that panicked, as `name: message`.
    pub fn task_failures(&self) -> Vec<String> {
        self.tasks.failures()
    }

    /// The app's socketioxide instance (to select recipients from background work),
    /// once the manager has started this component.
    pub fn io(&self) -> Option<&SocketIo> {
        self.outbox.get().map(Outbox::io)
    }

    /// The app's [`Outbox`] (to emit from background work), once the manager has
    /// started this component.
    pub fn outbox(&self) -> Option<&Outbox> {
        self.outbox.get()
    }

    /// Runs `listener` with each `E` another node of the app tells
    /// ([`NodeEvent`](crate::NodeEvent)), until teardown. A node's listeners of one event
    /// run in the order they listened, one event after the other; a payload that does
    /// not deserialize into `E` is logged and skipped, a panic logged and isolated.
    pub fn on_node_event<E, F, Fut>(&self, listener: F)
    where
        E: crate::NodeEvent,
        F: Fn(E) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let Some(outbox) = self.outbox.get() else {
            tracing::error!(
                event = E::NAME,
                "on_node_event before the component started: ignored"
            );
            return;
        };
        let nodes = outbox.nodes().clone();
        let erased: Arc<Listener> = Arc::new(move |data| match serde_json::from_value::<E>(data) {
            Ok(event) => Box::pin(listener(event)),
            Err(e) => {
                tracing::warn!(event = E::NAME, error = %e, "a node event that does not deserialize was skipped");
                Box::pin(async {})
            }
        });
        let id = nodes.listen(E::NAME, erased);
        self.add_cleanup(move || nodes.unlisten(E::NAME, id));
    }

    pub(crate) fn set_outbox(&self, outbox: Outbox) {
        let _ = self.outbox.set(outbox);
    }

    /// Adds a callback that teardown runs; callbacks run last-in-first-out.
    pub fn add_cleanup(&self, cleanup: impl FnOnce() + Send + 'static) {
        self.cleanups.lock().unwrap().push(Box::new(cleanup));
    }

    /// Runs `setup` unless the component is up. Returns whether it ran. When `setup`
    /// fails, the cleanups it added run at once and the component stays down.
    pub(crate) async fn setup(
        &self,
        setup: impl AsyncFnOnce() -> Result<(), Error>,
    ) -> Result<bool, Error> {
        let _gate = self.gate.lock().await;
        if self.is_up() {
            return Ok(false);
        }
        self.tasks.reset();
        match guarded(setup()).await {
            Ok(Ok(())) => {
                self.up.store(true, Ordering::Release);
                Ok(true)
            }
            Ok(Err(e)) => {
                self.tasks.stop(TASK_GRACE).await;
                self.run_cleanups();
                Err(e)
            }
            Err(panic) => {
                self.tasks.stop(TASK_GRACE).await;
                self.run_cleanups();
                Err(Error::Hook {
                    owner: String::new(),
                    hook: "setup",
                    message: format!("panicked: {panic}"),
                })
            }
        }
    }

    /// Runs `teardown`, then the cleanups last-in-first-out, unless the component is
    /// down. Returns whether it ran. A failing or panicking hook or cleanup is logged
    /// and the rest still run.
    pub(crate) async fn teardown(&self, teardown: impl AsyncFnOnce() -> Result<(), Error>) -> bool {
        let _gate = self.gate.lock().await;
        if !self.is_up() {
            return false;
        }
        // Background work stops first: the hook may free what it uses.
        self.tasks.stop(TASK_GRACE).await;
        match guarded(teardown()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "teardown hook failed"),
            Err(panic) => tracing::error!(panic, "teardown hook panicked"),
        }
        self.run_cleanups();
        self.up.store(false, Ordering::Release);
        true
    }

    fn run_cleanups(&self) {
        let cleanups = std::mem::take(&mut *self.cleanups.lock().unwrap());
        for cleanup in cleanups.into_iter().rev() {
            if std::panic::catch_unwind(AssertUnwindSafe(cleanup)).is_err() {
                tracing::error!("cleanup callback panicked");
            }
        }
    }
}

/// Awaits `fut`, turning a panic into its message.
pub(crate) async fn guarded<T>(fut: impl Future<Output = T>) -> Result<T, String> {
    AssertUnwindSafe(fut)
        .catch_unwind()
        .await
        .map_err(|p| crate::subscriber::Failure::from_panic(p).message)
}
