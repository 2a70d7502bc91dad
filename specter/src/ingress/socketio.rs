//! The socketioxide side of the ingress: a connect handler per namespace that runs the
//! `connect` subscribers as its middleware and, once the socket is in, registers the
//! namespace's one message listener (socketioxide's fallback handler, so events
//! subscribed later reach the socket too) and its disconnect listener.

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use socketioxide::handler::{ConnectHandler, DisconnectHandler, MessageHandler, Value};
use socketioxide::socket::DisconnectReason;

use crate::adapter::{Adapter, Socket};
use crate::ingress::dispatch::{self, Queue};
use crate::ingress::metrics;
use crate::ingress::namespace::Namespace;
use crate::ingress::rate_limit::SocketLimits;
use crate::ingress::recovering::Sessions;
use crate::ingress::unknown_events::UnknownEvents;
use crate::subscriber::event_name::CONNECTED;
use crate::subscriber::recovery::{Ended, Recovery};

/// Marker for socketioxide's handler traits: ours are structs, not closures.
pub(crate) enum Listener {}

/// The connect handler of a namespace.
#[derive(Clone)]
pub(crate) struct OnConnect(pub Arc<Namespace>);

/// The message listener of a socket: every event it emits, through its rate limits and
/// its queue. The limiters live as long as the listener, that is the socket.
struct OnMessage(Arc<Namespace>, Arc<Queue>, SocketGuards);

/// What bounds one socket's events before they are dispatched: its rate limiters and
/// its count of events nobody subscribes to.
#[derive(Default)]
pub(crate) struct SocketGuards {
    pub limits: SocketLimits,
    pub unknown: UnknownEvents,
}

/// The disconnect listener of a socket: runs after the socket's queued events, unless
/// a shutdown ended the socket first (its [`Connected`]).
struct OnDisconnect(Connected);

/// What ends a socket still connected when the server shuts down, kept in its
/// extensions: socketioxide's close forgets its namespaces before their transports
/// report closed, so their disconnect listeners would never run. Whichever of the
/// two comes first runs the `disconnect` subscribers, once.
#[derive(Clone)]
pub(crate) struct Connected {
    ns: Arc<Namespace>,
    queue: Arc<Queue>,
    /// Weak: the socket owns its extensions.
    socket: Weak<Socket>,
    ended: Arc<AtomicBool>,
}

impl Connected {
    /// The server shuts down: runs the socket's `disconnect` subscribers (told
    /// [`Recovery::Shutdown`]) after its queued events, unless its connection ended
    /// first. Counted as a dispatch under way until they return.
    pub fn shut_down(&self) {
        let Some(s) = self.socket.upgrade() else {
            return;
        };
        if self.ended.swap(true, Ordering::AcqRel) {
            return;
        }
        let (ns, queue) = (self.ns.clone(), self.queue.clone());
        let inflight = ns.inflight.enter();
        tokio::spawn(async move {
            let _inflight = inflight;
            queue.idle().await;
            s.extensions.insert(Ended(Recovery::Shutdown));
            // Its session ends with it (the server goes away); `Some`: the session was
            // taken over by the client's new socket, this one only leaves.
            let reason = DisconnectReason::ClosingServer;
            let moved = ns
                .recovery
                .as_ref()
                .and_then(|r| r.disconnected(&s, reason));
            if moved.is_some() {
                return gone(&ns, &s);
            }
            left(&ns, s, reason, None).await;
        });
    }
}

/// The socket is no longer counted nor delivered to.
fn gone(ns: &Namespace, s: &Socket) {
    metrics::connected(&ns.path, -1.0);
    ns.delivery.forget(s.id);
}

/// The socket's `disconnect` subscribers, then what forgets it; `defer` removes it
/// from socketioxide's namespace (none at a shutdown: closing the namespace does).
async fn left(
    ns: &Arc<Namespace>,
    s: Arc<Socket>,
    reason: DisconnectReason,
    defer: Option<fn(Arc<Socket>)>,
) {
    dispatch::disconnect(ns, s.clone(), reason).await;
    gone(ns, &s);
    let path = ns.dynamic.is_some().then(|| s.ns().to_owned());
    if let Some(defer) = defer {
        defer(s);
    }
    if let (Some(dynamic), Some(path)) = (&ns.dynamic, path) {
        dynamic.leave(&path);
    }
}

type MiddlewareFuture<'a> =
    Pin<Box<dyn Future<Output = Result<(), Box<dyn Display + Send>>> + Send + 'a>>;

impl ConnectHandler<Adapter, Listener> for OnConnect {
    // socketioxide calls this once the client has been sent its CONNECT answer.
    fn call(&self, s: Arc<Socket>, auth: Option<Value>) {
        // Synchronously, before socketioxide reads the socket's next packet.
        metrics::connected(&self.0.path, 1.0);
        let hooked = self.0.table.get(CONNECTED).is_some();
        // With a `connected` hook, the socket's events wait for it in the queue.
        let queue = Arc::new(if hooked {
            Queue::occupied()
        } else {
            Queue::default()
        });
        s.on_fallback(OnMessage(
            self.0.clone(),
            queue.clone(),
            SocketGuards::default(),
        ));
        let connected = Connected {
            ns: self.0.clone(),
            queue: queue.clone(),
            socket: Arc::downgrade(&s),
            ended: Arc::default(),
        };
        s.extensions.insert(connected.clone());
        s.on_disconnect(OnDisconnect(connected));
        if let Some(room) = self.0.delivery.node_room() {
            s.join(room.to_owned());
        }
        if let Some(sessions) = &self.0.recovery {
            if let Some(resume) = sessions.connected(&s, self.0.delivery.clone()) {
                tokio::spawn(resume);
            }
        }
        let auth = match &self.0.recovery {
            Some(_) => Sessions::strip(&auth),
            None => auth,
        };
        if hooked {
            let inflight = self.0.inflight.enter();
            tokio::spawn(dispatch::connected(
                self.0.clone(),
                s,
                auth,
                queue,
                inflight,
            ));
        }
    }

    fn call_middleware<'a>(
        &'a self,
        s: Arc<Socket>,
        auth: &'a Option<Value>,
    ) -> MiddlewareFuture<'a> {
        Box::pin(async move {
            let ns = &self.0;
            if let Some(dynamic) = &ns.dynamic {
                let max = ns.settings.max_dynamic_namespaces;
                if let Err(reason) = dynamic.admit(&s, max) {
                    tracing::info!(namespace = %ns.path, reason, "connection refused");
                    return Err(Box::new(reason) as Box<dyn Display + Send>);
                }
            }
            let asked;
            let auth = match &ns.recovery {
                Some(sessions) => {
                    asked = sessions.connecting(&s, auth, &ns.delivery).await;
                    &asked
                }
                None => auth,
            };
            let result = dispatch::connect(ns, s.clone(), auth).await;
            if let (Err(_), Some(sessions)) = (&result, &ns.recovery) {
                sessions.refused(&s);
            }
            if let (Err(_), Some(dynamic)) = (&result, &ns.dynamic) {
                dynamic.leave(s.ns());
            }
            result.map_err(|reason| Box::new(reason) as Box<dyn Display + Send>)
        })
    }
}

impl MessageHandler<Adapter, Listener> for OnMessage {
    fn call(&self, s: Arc<Socket>, v: Value, ack_id: Option<i64>) {
        dispatch::message(&self.0, &self.1, &self.2, s, v, ack_id);
    }
}

impl DisconnectHandler<Adapter, Listener> for OnDisconnect {
    fn call_with_defer(&self, s: Arc<Socket>, reason: DisconnectReason, defer: fn(Arc<Socket>)) {
        // A shutdown already ran its `disconnect` subscribers: it only leaves.
        if self.0.ended.swap(true, Ordering::AcqRel) {
            defer(s);
            return;
        }
        let (ns, queue) = (self.0.ns.clone(), self.0.queue.clone());
        let inflight = ns.inflight.enter();
        tokio::spawn(async move {
            let mut _inflight = inflight;
            queue.idle().await;
            // A lost connection with a recovery session waits for its client.
            let waiting = ns
                .recovery
                .as_ref()
                .and_then(|r| r.disconnected(&s, reason));
            if let Some(waiting) = waiting {
                drop(_inflight);
                let ended = waiting.await;
                _inflight = ns.inflight.enter();
                match ended {
                    Some(end) => {
                        s.extensions.insert(Ended(end));
                    }
                    // Taken over by the client's new socket: it only leaves.
                    None => {
                        gone(&ns, &s);
                        defer(s);
                        return;
                    }
                }
            }
            left(&ns, s, reason, Some(defer)).await;
        });
    }
}
