//! The socketioxide side of the ingress: a connect handler per namespace that runs the
//! `connect` subscribers as its middleware and, once the socket is in, registers the
//! namespace's one message listener (socketioxide's fallback handler, so events
//! subscribed later reach the socket too) and its disconnect listener.

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

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
use crate::subscriber::recovery::Ended;

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

/// The disconnect listener of a socket: runs after the socket's queued events.
struct OnDisconnect(Arc<Namespace>, Arc<Queue>);

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
        s.on_disconnect(OnDisconnect(self.0.clone(), queue.clone()));
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
        let (ns, queue) = (self.0.clone(), self.1.clone());
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
                        metrics::connected(&ns.path, -1.0);
                        ns.delivery.forget(s.id);
                        defer(s);
                        return;
                    }
                }
            }
            dispatch::disconnect(&ns, s.clone(), reason).await;
            metrics::connected(&ns.path, -1.0);
            ns.delivery.forget(s.id);
            let path = ns.dynamic.is_some().then(|| s.ns().to_owned());
            defer(s);
            if let (Some(dynamic), Some(path)) = (&ns.dynamic, path) {
                dynamic.leave(&path);
            }
        });
    }
}
