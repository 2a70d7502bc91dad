//! [`SocketIngress`]: one socketioxide listener per namespace, fanout to ordered
//! subscribers, isolation of failures, and the ack rule.

use std::any::type_name;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};

use serde::Serialize;
use socketioxide_core::adapter::Spawnable;

use crate::adapter::{SocketIo, SocketRef};

use crate::error::Error;
use crate::event_name::check_event_name;
use crate::extract::EventKind;
use crate::glue;
use crate::outcome::Failure;
use crate::subscriber::{IntoSubscriber, Subscriber};
use crate::table::{Entry, NsTable, Source};

/// The priority of a subscriber that does not give one. Lower runs first.
pub const DEFAULT_PRIORITY: i32 = 100;

/// The shared entry point of socket events: registers exactly one socketioxide listener
/// per namespace (a fallback message handler, plus the connect middleware and the
/// disconnect handler) and fans every event out to its subscribers.
///
/// * Subscribers run one after the other in (priority, subscription order): lower
///   priority first, ties in the order they subscribed.
/// * A subscriber that returns `Err`, whose arguments cannot be extracted (a payload
///   that does not deserialize into its `Data<T>`), or that panics is logged with
///   `tracing` (namespace, event, owner, error), handed to the error subscribers, and the
///   next subscriber still runs.
/// * **Ack rule.** When the client asked for an ack, it is always answered, once, after
///   every subscriber ran: with the value returned by the *last* subscriber that
///   returned one; else, when a subscriber failed, with
///   `{"error": {"handler", "kind", "message"}}` describing the first failure; else with
///   no value. An event nobody subscribes to is answered with an error of kind
///   `unknown_event`.
/// * `connect` subscribers run before the client is told it is connected; the first
///   one that fails refuses the connection and the client receives `connect_error` with
///   the error's text. `disconnect` subscribers all run, in order.
/// * Subscribing and unsubscribing take effect at once, also for sockets that are
///   already connected.
///
/// ```
/// use specter::prelude::*;
///
/// let (_layer, io) = specter::SocketIo::new_layer();
/// let ingress = SocketIngress::new(io);
/// let audit = ingress.subscribe("message", async |Data(text): Data<String>| {
///     println!("audit: {text}");
/// }, 10)?;
/// ingress.subscribe("message", |Data(text): Data<String>| text.len(), 100)?;
/// assert_eq!(ingress.table()[0].subscribers.len(), 2);
/// audit.unsubscribe(); // dropping a Subscription instead keeps it subscribed
/// # Ok::<(), specter::Error>(())
/// ```
#[derive(Clone)]
pub struct SocketIngress {
    shared: Arc<Shared>,
}

struct Shared {
    io: SocketIo,
    namespaces: Mutex<HashMap<String, Arc<Namespace>>>,
    errors: Arc<ErrorTable>,
    inflight: Arc<Inflight>,
    seq: AtomicU64,
}

/// One namespace: its event table, the shared error subscribers and the count of
/// dispatches under way.
pub(crate) struct Namespace {
    pub(crate) path: Arc<str>,
    pub(crate) table: NsTable,
    pub(crate) errors: Arc<ErrorTable>,
    pub(crate) inflight: Arc<Inflight>,
}

/// The number of dispatches under way, to wait for them at shutdown.
#[derive(Default)]
pub(crate) struct Inflight {
    count: AtomicUsize,
    idle: tokio::sync::Notify,
}

impl Inflight {
    pub(crate) fn enter(&self) {
        self.count.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn leave(&self) {
        if self.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.idle.notify_waiters();
        }
    }

    async fn idle(&self) {
        loop {
            let idle = self.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.count.load(Ordering::Acquire) == 0 {
                return;
            }
            idle.await;
        }
    }
}

type ErrorCallback = dyn Fn(ErrorEvent) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync;

#[derive(Clone)]
pub(crate) struct ErrorEntry {
    seq: u64,
    priority: i32,
    pub(crate) callback: Arc<ErrorCallback>,
}

#[derive(Default)]
pub(crate) struct ErrorTable {
    pub(crate) list: RwLock<Arc<[ErrorEntry]>>,
}

/// What the error subscribers receive when a subscriber fails.
#[derive(Clone, Debug)]
pub struct ErrorEvent {
    /// The namespace of the event.
    pub namespace: Arc<str>,
    /// The event (`connect` and `disconnect` included).
    pub event: String,
    /// The failing subscriber's owner: a handler's or controller's name, or the type of
    /// a callback subscribed directly.
    pub owner: Arc<str>,
    /// Where the failing subscriber was declared.
    pub source: Source,
    /// What went wrong.
    pub failure: Failure,
    /// The socket the event came from.
    pub socket: SocketRef,
}

/// A subscription to an event (or to the error subscribers) of a [`SocketIngress`].
///
/// Dropping it keeps the subscriber subscribed: most subscriptions live as long as the
/// app. [`unsubscribe`](Self::unsubscribe) removes it.
#[derive(Debug)]
pub struct Subscription {
    target: Target,
    seq: u64,
}

#[derive(Debug)]
enum Target {
    Event {
        ns: Weak<Namespace>,
        event: Arc<str>,
    },
    Error(Weak<ErrorTable>),
}

impl std::fmt::Debug for Namespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.path)
    }
}

impl std::fmt::Debug for ErrorTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ErrorTable")
    }
}

impl Subscription {
    /// Removes the subscriber. Returns false when it was already removed.
    pub fn unsubscribe(self) -> bool {
        match &self.target {
            Target::Event { ns, event } => ns
                .upgrade()
                .is_some_and(|ns| ns.table.remove(event, self.seq)),
            Target::Error(table) => table.upgrade().is_some_and(|t| t.remove(self.seq)),
        }
    }

    /// Removes many subscriptions, each event's list copied once however many of its
    /// subscriptions go. Returns how many were still there.
    pub fn unsubscribe_all(subscriptions: Vec<Subscription>) -> usize {
        let mut removed = 0;
        // (namespace, event) -> the seqs to remove from that event's list
        type Key = (*const Namespace, Arc<str>);
        let mut groups: HashMap<Key, (Arc<Namespace>, Vec<u64>)> = HashMap::new();
        for sub in subscriptions {
            match &sub.target {
                Target::Event { ns, event } => {
                    let Some(ns) = ns.upgrade() else { continue };
                    groups
                        .entry((Arc::as_ptr(&ns), event.clone()))
                        .or_insert_with(|| (ns, Vec::new()))
                        .1
                        .push(sub.seq);
                }
                Target::Error(_) => removed += usize::from(sub.unsubscribe()),
            }
        }
        for ((_, event), (ns, mut seqs)) in groups {
            seqs.sort_unstable();
            removed += ns.table.remove_many(&event, &seqs);
        }
        removed
    }

    /// The subscribed event, `None` for an error subscription.
    pub fn event(&self) -> Option<&str> {
        match &self.target {
            Target::Event { event, .. } => Some(event),
            Target::Error(_) => None,
        }
    }
}

/// One row of [`SocketIngress::table`]: an event and its subscribers in dispatch order.
#[derive(Debug, Clone, Serialize)]
pub struct EventRow {
    /// The namespace.
    pub namespace: String,
    /// The event.
    pub event: String,
    /// Its subscribers, in the order they run.
    pub subscribers: Vec<SubscriberRow>,
}

/// A subscriber as [`SocketIngress::table`] shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SubscriberRow {
    /// The handler or controller that owns it, or the callback's type.
    pub owner: String,
    /// Its priority (lower runs first).
    pub priority: i32,
    /// Its subscription order (breaks priority ties).
    pub order: u64,
    /// Where it was declared.
    pub source: Source,
}

impl SocketIngress {
    /// An ingress that owns the namespaces of `io`; `/` is bound at once, any other
    /// namespace when something first subscribes to it. A connect handler registered
    /// on `io` for one of those namespaces is replaced.
    pub fn new(io: SocketIo) -> Self {
        let ingress = Self {
            shared: Arc::new(Shared {
                io,
                namespaces: Mutex::default(),
                errors: Arc::default(),
                inflight: Arc::default(),
                seq: AtomicU64::new(0),
            }),
        };
        ingress.namespace("/");
        ingress
    }

    /// The socketioxide instance, to emit to rooms or namespaces.
    pub fn io(&self) -> &SocketIo {
        &self.shared.io
    }

    /// Subscribes `callback` to `event` of the `/` namespace at `priority`.
    ///
    /// The callback is a function or closure, async or not, taking extractors
    /// ([`FromEvent`](crate::FromEvent)) and returning an ack value
    /// ([`IntoOutcome`](crate::IntoOutcome)). Fails when the event name breaks the
    /// [rule](crate::event_name::check_event_name), or when the event cannot provide
    /// one of the callback's arguments.
    #[track_caller]
    pub fn subscribe<M>(
        &self,
        event: &str,
        callback: impl IntoSubscriber<M>,
        priority: i32,
    ) -> Result<Subscription, Error> {
        self.subscribe_in("/", event, callback, priority)
    }

    /// [`subscribe`](Self::subscribe) for an event of `namespace`.
    #[track_caller]
    pub fn subscribe_in<C: IntoSubscriber<M>, M>(
        &self,
        namespace: &str,
        event: &str,
        callback: C,
        priority: i32,
    ) -> Result<Subscription, Error> {
        self.add(
            namespace,
            event,
            Arc::from(type_name::<C>()),
            priority,
            Source::caller(),
            callback.into_subscriber(),
        )
    }

    /// Subscribes to the failures of every subscriber in every namespace, ordered by
    /// (priority, subscription order) like event subscribers.
    #[track_caller]
    pub fn subscribe_error_default<F, Fut>(&self, callback: F, priority: i32) -> Subscription
    where
        F: Fn(ErrorEvent) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let seq = self.next_seq();
        let callback: Arc<ErrorCallback> = Arc::new(move |e| Box::pin(callback(e)));
        self.shared.errors.insert(ErrorEntry {
            seq,
            priority,
            callback,
        });
        Subscription {
            target: Target::Error(Arc::downgrade(&self.shared.errors)),
            seq,
        }
    }

    /// [`subscribe_error_default`](Self::subscribe_error_default) at the default priority.
    #[track_caller]
    pub fn on_error_default<F, Fut>(&self, callback: F) -> Subscription
    where
        F: Fn(ErrorEvent) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.subscribe_error_default(callback, DEFAULT_PRIORITY)
    }

    /// Waits until no dispatch is under way, or `limit` passed; returns whether every
    /// dispatch finished. Events that arrive meanwhile are dispatched and waited for too.
    pub async fn drain(&self, limit: std::time::Duration) -> bool {
        tokio::time::timeout(limit, self.shared.inflight.idle())
            .await
            .is_ok()
    }

    /// Every event of every namespace with its subscribers in dispatch order, sorted by
    /// namespace and event: the answer to "why does X run before Y".
    pub fn table(&self) -> Vec<EventRow> {
        let mut namespaces: Vec<_> = {
            let map = self.shared.namespaces.lock().unwrap();
            map.values().cloned().collect()
        };
        namespaces.sort_by(|a, b| a.path.cmp(&b.path));
        let mut rows = Vec::new();
        for ns in namespaces {
            for (event, entries) in ns.table.snapshot() {
                rows.push(EventRow {
                    namespace: ns.path.to_string(),
                    event: event.to_string(),
                    subscribers: entries
                        .iter()
                        .map(|e| SubscriberRow {
                            owner: e.owner.to_string(),
                            priority: e.priority,
                            order: e.seq,
                            source: e.source,
                        })
                        .collect(),
                });
            }
        }
        rows
    }

    /// Adds one subscription.
    pub(crate) fn add(
        &self,
        namespace: &str,
        event: &str,
        owner: Arc<str>,
        priority: i32,
        source: Source,
        subscriber: Subscriber,
    ) -> Result<Subscription, Error> {
        let binding = crate::Binding {
            event: event.to_owned().into(),
            priority,
            source,
            subscriber,
        };
        let mut subs = self.add_all(namespace, owner, vec![binding])?;
        Ok(subs.pop().expect("one binding, one subscription"))
    }

    /// The one place subscriptions are added: checks every binding first (so a bad one
    /// adds none), then inserts each event's bindings with one copy of its list.
    pub(crate) fn add_all(
        &self,
        namespace: &str,
        owner: Arc<str>,
        bindings: Vec<crate::Binding>,
    ) -> Result<Vec<Subscription>, Error> {
        if !namespace.starts_with('/') {
            return Err(Error::InvalidNamespace(namespace.to_owned()));
        }
        for b in &bindings {
            if let Err(reason) = check_event_name(&b.event) {
                return Err(Error::InvalidEventName {
                    event: b.event.to_string(),
                    owner: owner.to_string(),
                    reason,
                });
            }
            let kind = EventKind::of(&b.event);
            if !b.subscriber.kinds().contains(kind) {
                return Err(Error::UnavailableExtractor {
                    event: b.event.to_string(),
                    owner: owner.to_string(),
                    kind,
                });
            }
        }
        let ns = self.namespace(namespace);
        let mut subscriptions = Vec::with_capacity(bindings.len());
        let mut groups: Vec<(Arc<str>, Vec<Entry>)> = Vec::with_capacity(bindings.len());
        let mut index: HashMap<Arc<str>, usize> = HashMap::with_capacity(bindings.len());
        for b in bindings {
            let seq = self.next_seq();
            let event: Arc<str> = Arc::from(&*b.event);
            tracing::debug!(namespace, event = %event, owner = %owner, priority = b.priority, source = %b.source, "subscribed");
            subscriptions.push(Subscription {
                target: Target::Event {
                    ns: Arc::downgrade(&ns),
                    event: event.clone(),
                },
                seq,
            });
            let at = *index.entry(event.clone()).or_insert_with(|| {
                groups.push((event, Vec::new()));
                groups.len() - 1
            });
            groups[at].1.push(Entry {
                seq,
                priority: b.priority,
                owner: owner.clone(),
                source: b.source,
                subscriber: b.subscriber,
            });
        }
        ns.table.insert(groups);
        Ok(subscriptions)
    }

    fn next_seq(&self) -> u64 {
        self.shared.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The namespace `path`, bound to socketioxide on first use.
    fn namespace(&self, path: &str) -> Arc<Namespace> {
        let mut map = self.shared.namespaces.lock().unwrap();
        if let Some(ns) = map.get(path) {
            return ns.clone();
        }
        let ns = Arc::new(Namespace {
            path: Arc::from(path),
            table: NsTable::default(),
            errors: self.shared.errors.clone(),
            inflight: self.shared.inflight.clone(),
        });
        // A remote adapter (Redis) initializes the namespace in the background; the
        // local one has nothing to do.
        #[allow(clippy::unit_arg)] // `()` with the local adapter
        Spawnable::spawn(
            self.shared
                .io
                .ns(path.to_owned(), glue::NsConnect(ns.clone())),
        );
        map.insert(path.to_owned(), ns.clone());
        ns
    }
}

impl ErrorTable {
    fn insert(&self, entry: ErrorEntry) {
        let mut list = self.list.write().unwrap();
        let mut next = list.to_vec();
        let at = next.partition_point(|e| (e.priority, e.seq) <= (entry.priority, entry.seq));
        next.insert(at, entry);
        *list = next.into();
    }

    fn remove(&self, seq: u64) -> bool {
        let mut list = self.list.write().unwrap();
        let before = list.len();
        let next: Vec<_> = list.iter().filter(|e| e.seq != seq).cloned().collect();
        let removed = next.len() != before;
        *list = next.into();
        removed
    }
}

/// The event table as text: one line per subscriber, in dispatch order.
///
/// ```text
/// /  heartbeat  10  presence     src/presence.rs:21
///               100 audit        src/audit.rs:9
/// ```
pub fn format_table(rows: &[EventRow]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for row in rows {
        for (i, s) in row.subscribers.iter().enumerate() {
            let (ns, ev) = if i == 0 {
                (row.namespace.as_str(), row.event.as_str())
            } else {
                ("", "")
            };
            let _ = writeln!(
                out,
                "{ns:<8} {ev:<20} {:>5}  {:<24} {}",
                s.priority, s.owner, s.source
            );
        }
    }
    out
}
