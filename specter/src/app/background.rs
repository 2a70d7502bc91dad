//! Background work owned by a lifecycle: tasks and intervals that a component starts
//! (in its setup hook) and that stop with it. A panic in one is logged and kept for
//! `health()`; it never takes the app down.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::subscriber::Failure;

/// How long a teardown waits for background tasks to finish before aborting them.
pub const TASK_GRACE: Duration = Duration::from_secs(2);

/// The background tasks of one lifecycle.
pub(crate) struct Tasks {
    running: Mutex<Vec<(String, JoinHandle<()>)>>,
    /// `true` once teardown began: tasks may watch it to finish on their own.
    stop: watch::Sender<bool>,
    /// `name: message` of every task that panicked.
    failures: Arc<Mutex<Vec<String>>>,
}

impl Default for Tasks {
    fn default() -> Self {
        Self {
            running: Mutex::default(),
            stop: watch::channel(false).0,
            failures: Arc::default(),
        }
    }
}

/// Runs `fut`, turning a panic into a log line and a recorded failure.
async fn guarded(name: &str, failures: &Mutex<Vec<String>>, fut: impl Future<Output = ()>) {
    if let Err(panic) = AssertUnwindSafe(fut).catch_unwind().await {
        let message = Failure::from_panic(panic).message;
        tracing::error!(task = name, panic = %message, "background task panicked");
        failures.lock().unwrap().push(format!("{name}: {message}"));
    }
}

/// Resolves once `stop` says `true` (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

impl Tasks {
    /// Starts a new round: a lifecycle set up again runs its tasks again.
    pub fn reset(&self) {
        self.stop.send_replace(false);
    }

    pub fn spawn(&self, name: &str, fut: impl Future<Output = ()> + Send + 'static) {
        let (task, failures) = (name.to_owned(), self.failures.clone());
        let handle = tokio::spawn(async move { guarded(&task, &failures, fut).await });
        self.running.lock().unwrap().push((name.to_owned(), handle));
    }

    pub fn every<F, Fut>(&self, name: &str, period: Duration, mut tick: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (task, failures) = (name.to_owned(), self.failures.clone());
        let mut stop = self.stop.subscribe();
        let handle = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await; // the first tick is immediate: wait one period first
            loop {
                tokio::select! {
                    _ = ticks.tick() => guarded(&task, &failures, tick()).await,
                    _ = stopped(&mut stop) => break,
                }
            }
        });
        self.running.lock().unwrap().push((name.to_owned(), handle));
    }

    /// Resolves once teardown began.
    pub fn stopping(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut stop = self.stop.subscribe();
        async move {
            stopped(&mut stop).await;
        }
    }

    /// Tells every task to stop, waits up to `grace` for each, aborts the rest.
    pub async fn stop(&self, grace: Duration) {
        self.stop.send_replace(true);
        let running = std::mem::take(&mut *self.running.lock().unwrap());
        let deadline = tokio::time::Instant::now() + grace;
        for (name, mut handle) in running {
            if tokio::time::timeout_at(deadline, &mut handle)
                .await
                .is_err()
            {
                handle.abort();
                tracing::warn!(task = %name, ?grace, "background task did not stop in time: aborted");
            }
        }
    }

    pub fn failures(&self) -> Vec<String> {
        self.failures.lock().unwrap().clone()
    }
}
