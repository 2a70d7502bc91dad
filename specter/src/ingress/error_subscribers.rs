//! The error subscribers: callbacks that every failing subscriber, of every namespace,
//! is handed to (`SocketIngress::on_error`).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use futures_util::FutureExt;

use crate::adapter::SocketRef;
use crate::ingress::sorted::{self, Keyed};
use crate::subscriber::{Failure, Source};

/// What the error subscribers receive when a subscriber fails.
#[derive(Clone, Debug)]
pub struct ErrorEvent {
    /// The namespace of the event.
    pub namespace: Arc<str>,
    /// The event (`connect` and `disconnect` included).
    pub event: String,
    /// The failing subscriber's owner: a handler's or controller's name, or the owner
    /// given to [`Subscribe::owner`](crate::Subscribe::owner).
    pub owner: Arc<str>,
    /// Where the failing subscriber was declared.
    pub source: Source,
    /// What went wrong.
    pub failure: Failure,
    /// The socket the event came from.
    pub socket: SocketRef,
}

pub(crate) type ErrorCallback =
    dyn Fn(ErrorEvent) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync;

#[derive(Clone)]
pub(crate) struct ErrorEntry {
    pub seq: u64,
    pub priority: i32,
    pub callback: Arc<ErrorCallback>,
}

impl Keyed for ErrorEntry {
    fn priority(&self) -> i32 {
        self.priority
    }
    fn seq(&self) -> u64 {
        self.seq
    }
}

/// The error subscribers in (priority, subscription order).
#[derive(Default)]
pub(crate) struct ErrorTable {
    list: RwLock<Arc<[ErrorEntry]>>,
}

impl std::fmt::Debug for ErrorTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ErrorTable")
    }
}

impl ErrorTable {
    pub fn insert(&self, entry: ErrorEntry) {
        let mut list = self.list.write().unwrap();
        *list = sorted::merged(&list, vec![entry]);
    }

    pub fn remove(&self, seq: u64) -> bool {
        let mut list = self.list.write().unwrap();
        let (next, removed) = sorted::without(&list, &[seq]);
        *list = next;
        removed == 1
    }

    pub fn is_empty(&self) -> bool {
        self.list.read().unwrap().is_empty()
    }

    /// Hands `event` to every error subscriber in order; one that panics is logged and
    /// the others still run.
    pub async fn report(&self, event: ErrorEvent) {
        let subscribers = self.list.read().unwrap().clone();
        for sub in subscribers.iter() {
            let run = std::panic::catch_unwind(AssertUnwindSafe(|| (sub.callback)(event.clone())));
            let ok = match run {
                Ok(fut) => AssertUnwindSafe(fut).catch_unwind().await.is_ok(),
                Err(_) => false,
            };
            if !ok {
                tracing::error!(namespace = %event.namespace, event = %event.event, "error subscriber panicked");
            }
        }
    }
}
