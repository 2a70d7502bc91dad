//! [`SocketIngress`]: one socketioxide listener per namespace, fanout to ordered
//! subscribers, isolation of failures, and the ack rule.
//!
//! `mod.rs` is the API; [`table`] holds each namespace's subscribers, [`namespace`] what a
//! dispatch in one namespace shares, [`dispatch`] runs one event through its
//! subscribers, [`socketio`] is the listeners registered with socketioxide.

mod answer;
mod dispatch;
pub(crate) mod dynamic;
mod error_subscribers;
#[cfg(feature = "redis")]
pub(crate) mod handover;
mod inflight;
pub mod interceptor;
mod metrics;
mod namespace;
mod rate_limit;
pub(crate) mod recovering;
pub(crate) mod settings;
mod socket_queue;
mod socketio;
mod sorted;
mod spans;
mod subscribe;
mod subscription;
mod table;
mod unknown_events;

use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use dynamic::{Dynamic, Pattern};
use settings::DispatchSettings;

use crate::adapter::SocketIo;
use crate::error::Error;
use crate::subscriber::event_name::check_event_name;
use crate::subscriber::{
    Binding, Delivery, DeliveryStats, EventKind, IntoSubscriber, Outbox, Source,
};

pub use error_subscribers::ErrorEvent;
use error_subscribers::{ErrorCallback, ErrorEntry, ErrorTable};
use inflight::Inflight;
use interceptor::Interceptor;
use namespace::Namespace;
pub use subscribe::{DEFAULT_OWNER, OnError, Subscribe};
pub use subscription::Subscription;
use subscription::Target;
pub(crate) use table::format_table;
use table::{Entry, EventTable};
pub use table::{EventRow, SubscriberRow};

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
///   an [`AckError`](crate::AckError) describing the first failure; else with no value.
///   An event nobody subscribes to is answered with an error of kind `unknown_event`.
/// * `connect` subscribers run before the client is told it is connected; the first
///   one that fails or rejects refuses the connection and the client receives
///   `connect_error` with the rejection's reason (or what [`Failure::told`](crate::Failure::told) says). `disconnect` subscribers all run, in order,
///   whatever each of them returns.
/// * Subscribing and unsubscribing take effect at once, also for sockets that are
///   already connected.
///
/// ```
/// use specter::prelude::*;
/// use specter::{SocketIngress, Subscription};
///
/// let (_layer, io) = specter::SocketIo::new_layer();
/// let ingress = SocketIngress::new(io);
/// let audit = ingress
///     .on("message", async |Data(text): Data<String>| println!("audit: {text}"))
///     .owner("audit")
///     .priority(10)
///     .subscribe()?;
/// ingress.on("message", |Data(text): Data<String>| text.len()).subscribe()?;
/// assert_eq!(ingress.event_table()[0].subscribers.len(), 2);
/// audit.unsubscribe(); // dropping a Subscription instead keeps it subscribed
/// # Ok::<(), specter::Error>(())
/// ```
#[derive(Clone)]
pub struct SocketIngress {
    shared: Arc<Shared>,
}

struct Shared {
    io: SocketIo,
    settings: DispatchSettings,
    namespaces: Mutex<HashMap<String, Arc<Namespace>>>,
    errors: Arc<ErrorTable>,
    inflight: Arc<Inflight>,
    delivery: Arc<Delivery>,
    seq: AtomicU64,
    /// The app-wide interceptors, outermost first.
    interceptors: Mutex<Vec<Arc<dyn Interceptor>>>,
    /// Namespaces a remote adapter is still initializing ([`SocketIngress::ready`]).
    #[cfg(feature = "redis")]
    initializing: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl SocketIngress {
    /// An ingress that owns the namespaces of `io`; `/` is bound at once, any other
    /// namespace when something first subscribes to it. A connect handler registered
    /// on `io` for one of those namespaces is replaced.
    pub fn new(io: SocketIo) -> Self {
        Self::with_settings(io, DispatchSettings::default())
    }

    /// [`new`](Self::new) with its dispatch settings: per-socket order, what may wait
    /// per socket, budgets and rate limits, timeouts.
    pub fn with_settings(io: SocketIo, settings: DispatchSettings) -> Self {
        let ingress = Self {
            shared: Arc::new(Shared {
                io,
                settings,
                namespaces: Mutex::default(),
                errors: Arc::default(),
                inflight: Arc::default(),
                delivery: Arc::new(Delivery::new(settings.send_timeout)),
                seq: AtomicU64::new(0),
                interceptors: Mutex::default(),
                #[cfg(feature = "redis")]
                initializing: Mutex::default(),
            }),
        };
        if settings.recovery.is_some() {
            ingress.shared.delivery.set_recovering();
        }
        ingress.namespace("/");
        ingress
    }

    /// Its dispatch settings.
    #[cfg_attr(not(feature = "contract"), allow(dead_code))]
    pub(crate) fn settings(&self) -> &DispatchSettings {
        &self.shared.settings
    }

    /// What delivery had to give up since the app started: dropped acks and emits,
    /// stalled clients, refused events.
    pub fn delivery_stats(&self) -> DeliveryStats {
        self.shared.delivery.stats()
    }

    /// The socketioxide instance, to emit to rooms or namespaces.
    pub fn io(&self) -> &SocketIo {
        &self.shared.io
    }

    /// Emits with [`Deliver`](crate::Deliver)'s rules, for code outside subscribers.
    pub fn outbox(&self) -> Outbox {
        Outbox::new(self.shared.io.clone(), self.shared.delivery.clone())
    }

    /// An app that recovers connections on several nodes: every socket of this node
    /// joins this node's room, and the broadcasts of other nodes that `link` hears are
    /// delivered through the sockets' logs (`adapter::remote_broadcast`).
    #[cfg(feature = "redis")]
    pub(crate) fn recover_across(
        &self,
        link: &crate::adapter::redis_link::Link,
        driver: crate::adapter::redis_link::LinkDriver,
    ) {
        let uid = self.io().config().server_id;
        let delivery = &self.shared.delivery;
        let shared = Arc::downgrade(&self.shared);
        // A namespace by its path, or the dynamic one whose pattern it matches.
        let sessions = Box::new(move |path: &str| {
            let shared = shared.upgrade()?;
            let namespaces = shared.namespaces.lock().unwrap();
            let ns = namespaces.get(path).or_else(|| {
                let mut dynamic = namespaces.values();
                dynamic.find(|ns| {
                    ns.dynamic
                        .as_ref()
                        .is_some_and(|d| d.pattern.params(path).is_some())
                })
            })?;
            ns.recovery.clone()
        });
        let io = self.io().clone();
        let across = handover::Across::start(link, driver, uid, io, delivery, sessions);
        delivery.set_across(across);
    }

    /// Links the app's node events to the other nodes.
    #[cfg(feature = "redis")]
    pub(crate) fn set_nodes(&self, nodes: Arc<crate::adapter::node_bus::NodeBus>) {
        self.shared.delivery.set_nodes(nodes);
    }

    /// Says whether every socket's packets are JSON text (not MessagePack).
    pub(crate) fn set_text_wire(&self, text: bool) {
        self.shared.delivery.set_text_wire(text);
    }

    /// Subscribes `callback` to `event` (of `/`, at the default priority, on behalf of
    /// `"app"`, until the returned [`Subscribe`] says otherwise): a function or closure,
    /// async or not, taking extractors ([`FromEvent`](crate::FromEvent)) and returning
    /// an ack value ([`IntoOutcome`](crate::IntoOutcome)). Nothing is subscribed until
    /// [`Subscribe::subscribe`].
    #[track_caller]
    pub fn on<M>(
        &self,
        event: impl Into<Cow<'static, str>>,
        callback: impl IntoSubscriber<M>,
    ) -> Subscribe<'_> {
        let binding = Binding::new(event, callback.into_subscriber(), Source::caller());
        Subscribe::new(self, binding)
    }

    /// Subscribes `callback` to every event (not `connect` or `disconnect`): a catch-all
    /// subscriber. It runs with each event's own subscribers in (priority, subscription
    /// order), and also takes events that have no subscriber of their own (which are
    /// then not unknown events). The `Event` argument gives the name. The event table
    /// shows catch-all subscribers under `*`.
    #[track_caller]
    pub fn on_any<M>(&self, callback: impl IntoSubscriber<M>) -> Subscribe<'_> {
        let binding = Binding::any(callback.into_subscriber(), Source::caller());
        Subscribe::new(self, binding)
    }

    /// Subscribes to the failures of every subscriber in every namespace, ordered by
    /// (priority, subscription order) like event subscribers.
    ///
    /// ```
    /// # let (_layer, io) = specter::SocketIo::new_layer();
    /// # let ingress = specter::SocketIngress::new(io);
    /// ingress
    ///     .on_error(async |e: specter::ErrorEvent| eprintln!("{} failed: {}", e.owner, e.failure))
    ///     .priority(10)
    ///     .subscribe();
    /// ```
    pub fn on_error<F, Fut>(&self, callback: F) -> OnError<'_, F>
    where
        F: Fn(ErrorEvent) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        OnError::new(self, callback)
    }

    pub(crate) fn add_error<F, Fut>(&self, callback: F, priority: i32) -> Subscription
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

    /// Adds an interceptor around the dispatch of every emitted event of every
    /// namespace, inside the app-wide ones added before it and outside every
    /// namespace's own.
    pub(crate) fn add_interceptor(&self, interceptor: Arc<dyn Interceptor>) {
        self.shared.interceptors.lock().unwrap().push(interceptor);
        for ns in self.namespaces() {
            self.refresh_interceptors(&ns);
        }
    }

    /// The namespaces open now.
    fn namespaces(&self) -> Vec<Arc<Namespace>> {
        let map = self.shared.namespaces.lock().unwrap();
        map.values().cloned().collect()
    }

    /// Adds an interceptor around the dispatch of every emitted event of `namespace`,
    /// inside the app-wide ones and the namespace's added before it.
    pub(crate) fn add_interceptor_in(
        &self,
        namespace: &str,
        interceptor: Arc<dyn Interceptor>,
    ) -> Result<(), Error> {
        check_namespace(namespace)?;
        let ns = self.namespace(namespace);
        ns.own_interceptors.lock().unwrap().push(interceptor);
        self.refresh_interceptors(&ns);
        Ok(())
    }

    /// Gives the table of `ns` the app's interceptors, then its own.
    fn refresh_interceptors(&self, ns: &Namespace) {
        let mut interceptors = self.shared.interceptors.lock().unwrap().clone();
        interceptors.extend(ns.own_interceptors.lock().unwrap().iter().cloned());
        ns.table.set_interceptors(interceptors);
    }

    /// Ends every recovery session whose client is away (the server shuts down):
    /// their `disconnect` subscribers run, and [`drain`](Self::drain) waits for them.
    pub(crate) fn end_sessions(&self) {
        for ns in self.namespaces() {
            if let Some(sessions) = &ns.recovery {
                sessions.end_all();
            }
        }
    }

    /// Runs the `disconnect` subscribers of every socket still connected (the server
    /// shuts down), each after its queued events and told
    /// [`Recovery::Shutdown`](crate::Recovery::Shutdown); [`drain`](Self::drain) waits
    /// for them.
    pub(crate) fn end_connected(&self) {
        for namespace in self.shared.io.nsps() {
            for s in namespace.sockets() {
                if let Some(connected) = s.extensions.get::<socketio::Connected>() {
                    connected.shut_down();
                }
            }
        }
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
    pub fn event_table(&self) -> Vec<EventRow> {
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
                    event: event.map_or_else(|| "*".to_owned(), |e| e.to_string()),
                    subscribers: entries
                        .iter()
                        .map(|e| SubscriberRow {
                            owner: e.owner.to_string(),
                            priority: e.priority,
                            order: e.seq,
                            source: e.source,
                            guards: e.guards.as_ref().map_or(0, |g| g.len()),
                            timeout_ms: e.timeout.map(|t| t.as_millis()),
                            concurrent: e.concurrent,
                            rate: e.rate.map(|r| r.to_string()),
                            callable: e.subscriber.callable(),
                        })
                        .collect(),
                });
            }
        }
        rows
    }

    /// The one place subscriptions are added: checks every binding first (so a bad one
    /// adds none), then inserts each event's bindings with one copy of its list.
    pub(crate) fn add_all(
        &self,
        namespace: &str,
        owner: Arc<str>,
        bindings: Vec<Binding>,
    ) -> Result<Vec<Subscription>, Error> {
        check_namespace(namespace)?;
        for b in &bindings {
            // A catch-all binding has no name of its own.
            let named = if b.any {
                Ok(())
            } else {
                check_event_name(&b.event)
            };
            if let Err(reason) = named {
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
        let mut groups: Vec<(Option<Arc<str>>, Vec<Entry>)> = Vec::with_capacity(bindings.len());
        let mut index: HashMap<Option<Arc<str>>, usize> = HashMap::with_capacity(bindings.len());
        for b in bindings {
            let seq = self.next_seq();
            // `None`: a catch-all subscriber, of every emitted event.
            let event: Option<Arc<str>> = (!b.any).then(|| Arc::from(&*b.event));
            tracing::debug!(namespace, event = event.as_deref().unwrap_or("*"), owner = %owner, priority = b.priority, source = %b.source, "subscribed");
            subscriptions.push(Subscription {
                target: Target::Event {
                    ns: Arc::downgrade(&ns),
                    event: event.clone(),
                },
                seq,
            });
            let at = *index.entry(event.clone()).or_insert_with(|| {
                groups.push((event.clone(), Vec::new()));
                groups.len() - 1
            });
            groups[at].1.push(Entry {
                seq,
                priority: b.priority,
                owner: owner.clone(),
                source: b.source,
                subscriber: b.subscriber,
                concurrent: b.concurrent,
                timeout: b.timeout,
                guards: (!b.guards.is_empty()).then(|| Arc::from(b.guards)),
                rate: b.rate,
                event,
                metrics: Default::default(),
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
        // Checked by `check_namespace` before.
        let pattern = Pattern::parse(path).ok().flatten();
        let io = &self.shared.io;
        let ns = Arc::new(Namespace {
            path: Arc::from(path),
            table: EventTable::default(),
            errors: self.shared.errors.clone(),
            inflight: self.shared.inflight.clone(),
            delivery: self.shared.delivery.clone(),
            settings: self.shared.settings,
            no_entries: Arc::from([]),
            own_interceptors: Mutex::default(),
            dynamic: pattern.map(|p| Dynamic::new(p, io.clone())),
            recovery: self
                .shared
                .settings
                .recovery
                .map(|settings| Arc::new(recovering::Sessions::new(settings))),
        });
        ns.table
            .set_interceptors(self.shared.interceptors.lock().unwrap().clone());
        if ns.dynamic.is_some() {
            if let Err(e) = io.dyn_ns(path.to_owned(), socketio::OnConnect(ns.clone())) {
                tracing::error!(namespace = path, error = %e, "the dynamic namespace could not be added");
            }
            map.insert(path.to_owned(), ns.clone());
            return ns;
        }
        let on_connect = socketio::OnConnect(ns.clone());
        #[cfg(not(feature = "redis"))]
        self.shared.io.ns(path.to_owned(), on_connect);
        #[cfg(feature = "redis")]
        let init = self.shared.io.ns(path.to_owned(), on_connect);
        // A remote adapter (Redis) subscribes to the namespace's channels first: until
        // then socketioxide refuses its clients (`Invalid namespace`), so `boot` waits
        // for it ([`Self::ready`]). The local adapter has nothing to do.
        #[cfg(feature = "redis")]
        {
            let path = path.to_owned();
            let init = tokio::spawn(async move {
                if let Err(e) = init.await {
                    tracing::error!(namespace = path, error = %e, "the namespace could not subscribe to Redis");
                }
            });
            self.shared.initializing.lock().unwrap().push(init);
        }
        map.insert(path.to_owned(), ns.clone());
        ns
    }
}

impl SocketIngress {
    /// Returns once every namespace bound so far takes clients: on Redis, once the
    /// adapter subscribed to its channels (each subscription bounded by the link's
    /// command timeout).
    pub(crate) async fn ready(&self) {
        #[cfg(feature = "redis")]
        loop {
            let pending = std::mem::take(&mut *self.shared.initializing.lock().unwrap());
            if pending.is_empty() {
                return;
            }
            futures_util::future::join_all(pending).await;
        }
    }
}

/// A namespace the app may bind: a path from `/`, or a pattern of one (`/tenant/{id}`).
fn check_namespace(namespace: &str) -> Result<(), Error> {
    if !namespace.starts_with('/') {
        return Err(Error::InvalidNamespace(namespace.to_owned()));
    }
    Pattern::parse(namespace)
        .map(drop)
        .map_err(|reason| Error::InvalidPattern {
            namespace: namespace.to_owned(),
            reason,
        })
}
