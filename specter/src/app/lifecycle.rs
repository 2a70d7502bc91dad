//! Idempotent setup and teardown with last-in-first-out cleanups, shared by handlers,
//! controllers and services.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::FutureExt;

use crate::error::Error;

type Cleanup = Box<dyn FnOnce() + Send>;

/// The up/down state of one component and its cleanup callbacks.
///
/// `setup` and `teardown` are idempotent, also when called concurrently: concurrent
/// callers wait for the one that runs, and only one runs. A component can be set up
/// again after a teardown.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use specter::Lifecycle;
/// use std::sync::{Arc, Mutex};
///
/// let lifecycle = Lifecycle::new();
/// let log = Arc::new(Mutex::new(Vec::new()));
/// let l = log.clone();
/// let ran = lifecycle.setup(async || {
///     for name in ["first", "second"] {
///         let l = l.clone();
///         lifecycle.add_cleanup(move || l.lock().unwrap().push(name));
///     }
///     Ok(())
/// }).await.unwrap();
/// assert!(ran);
/// assert!(!lifecycle.setup(async || Ok(())).await.unwrap()); // already up
/// assert!(lifecycle.teardown(async || Ok(())).await);
/// assert!(!lifecycle.teardown(async || Ok(())).await); // already down
/// assert_eq!(*log.lock().unwrap(), ["second", "first"]); // last in, first out
/// # });
/// ```
#[derive(Default)]
pub struct Lifecycle {
    gate: tokio::sync::Mutex<()>,
    up: AtomicBool,
    cleanups: Mutex<Vec<Cleanup>>,
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
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether setup ran and teardown has not run since.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    /// Adds a callback that teardown runs; callbacks run last-in-first-out.
    pub fn add_cleanup(&self, cleanup: impl FnOnce() + Send + 'static) {
        self.cleanups.lock().unwrap().push(Box::new(cleanup));
    }

    /// Runs `setup` unless the component is up. Returns whether it ran. When `setup`
    /// fails, the cleanups it added run at once and the component stays down.
    pub async fn setup(
        &self,
        setup: impl AsyncFnOnce() -> Result<(), Error>,
    ) -> Result<bool, Error> {
        let _gate = self.gate.lock().await;
        if self.is_up() {
            return Ok(false);
        }
        match guarded(setup()).await {
            Ok(Ok(())) => {
                self.up.store(true, Ordering::Release);
                Ok(true)
            }
            Ok(Err(e)) => {
                self.run_cleanups();
                Err(e)
            }
            Err(panic) => {
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
    pub async fn teardown(&self, teardown: impl AsyncFnOnce() -> Result<(), Error>) -> bool {
        let _gate = self.gate.lock().await;
        if !self.is_up() {
            return false;
        }
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
