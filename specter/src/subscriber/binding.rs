//! A binding: one subscriber bound to one event, with its options. Every way of
//! subscribing (`#[on]`, `Events::on`, `SocketIngress::on`) builds one, and the
//! ingress adds them all through one function.

use std::borrow::Cow;
use std::time::Duration;

use crate::subscriber::guard::{Guard, IntoGuard};
use crate::subscriber::rate::Rate;
use crate::subscriber::source::Source;
use crate::subscriber::subscriber::Subscriber;

/// The priority of a subscriber that does not give one. Lower runs first.
pub const DEFAULT_PRIORITY: i32 = 100;

/// The namespace of a handler or controller that does not give one.
pub const DEFAULT_NAMESPACE: &str = "/";

/// One subscriber bound to one event, with its options; what
/// [`Events::on`](crate::Events::on) returns, to set them:
/// `events.on("heartbeat", Self::heartbeat).priority(10)`.
#[derive(Debug, Clone)]
pub struct Binding {
    pub(crate) event: Cow<'static, str>,
    pub(crate) priority: i32,
    pub(crate) source: Source,
    pub(crate) subscriber: Subscriber,
    pub(crate) concurrent: bool,
    pub(crate) timeout: Option<Duration>,
    pub(crate) guards: Vec<Guard>,
    pub(crate) rate: Option<Rate>,
    /// A catch-all binding: every emitted event, under no name of its own.
    pub(crate) any: bool,
}

impl Binding {
    /// `subscriber` bound to `event` at the [`DEFAULT_PRIORITY`], declared at `source`.
    pub(crate) fn new(
        event: impl Into<Cow<'static, str>>,
        subscriber: Subscriber,
        source: Source,
    ) -> Self {
        Self {
            event: event.into(),
            priority: DEFAULT_PRIORITY,
            source,
            subscriber,
            concurrent: false,
            timeout: None,
            guards: Vec::new(),
            rate: None,
            any: false,
        }
    }

    /// `subscriber` bound to every emitted event (not `connect` or `disconnect`): a
    /// catch-all binding, see [`SocketIngress::on_any`](crate::SocketIngress::on_any).
    pub(crate) fn any(subscriber: Subscriber, source: Source) -> Self {
        Self {
            any: true,
            ..Self::new("", subscriber, source)
        }
    }

    /// Sets the priority: lower runs first; ties run in subscription order.
    pub fn priority(&mut self, priority: i32) -> &mut Self {
        self.priority = priority;
        self
    }

    /// How long the subscriber may run (when it is async; a plain function runs to its
    /// end). Past it, it is dropped, logged, handed to the error subscribers as kind
    /// `timeout`, and the dispatch goes on; on `connect` it refuses the connection.
    /// Overrides [`DispatchSettings::subscriber_timeout`](crate::DispatchSettings::subscriber_timeout).
    pub fn timeout(&mut self, timeout: Duration) -> &mut Self {
        self.timeout = Some(timeout);
        self
    }

    /// Adds a guard: a check run before the subscriber, which skips it when it refuses
    /// (see [`Guard`]). Guards run in the order they are added.
    pub fn guard<M>(&mut self, guard: impl IntoGuard<M>) -> &mut Self {
        self.guards.push(guard.into_guard());
        self
    }

    /// Limits how often one socket may send the event: past `rate`, the event runs no
    /// subscriber and its ack is an error of kind `rate_limited` with the milliseconds
    /// to wait. Checked as the event arrives, before it waits in its socket's queue.
    /// Every limit bound to an event applies; a catch-all subscriber's limit counts
    /// every event it takes. The limiter lives and dies with the socket.
    pub fn rate_limit(&mut self, rate: Rate) -> &mut Self {
        self.rate = Some(rate);
        self
    }

    /// Lets the event skip its socket's queue when every subscriber of it says so: it
    /// is dispatched at once, even while an earlier event of the same socket is still
    /// running, and the next events do not wait for it. For events whose order does not
    /// matter (a typing indicator, a metrics ping) and whose subscribers are slow.
    pub fn concurrent(&mut self) -> &mut Self {
        self.concurrent = true;
        self
    }
}
