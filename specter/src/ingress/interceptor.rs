//! Interceptors: code around the dispatch of every emitted event of the app, or of one
//! namespace. An interceptor sees the event before its first subscriber and how the
//! dispatch went after its last one; it may refuse the event, time it, or record it.
//!
//! They nest: app-wide interceptors wrap the namespace's own, the first added is the
//! outermost; `before` runs outside-in, `after` inside-out, and an interceptor whose
//! `before` did not run (an outer one refused) gets no `after`.
//!
//! **Why two synchronous calls and not an async middleware** (an `async fn(event, next)`
//! in the manner of axum's `from_fn`): a middleware that awaits `next` must own the rest
//! of the dispatch as a future, which means one boxed future per event and per
//! middleware, and lets a middleware change the payload or the ack, or hold the socket's
//! queue across an await. What apps put here (counting, timing, refusing by size or
//! origin, recording for the Admin UI) needs none of that; what needs to await or to
//! answer belongs in a [`Guard`](crate::Guard) (async, per subscriber or controller) or
//! a subscriber. So an interceptor costs no allocation and no task, and an app without
//! one pays one branch per event. It is not tower's `Layer` (hence the name): it wraps
//! Specter's dispatch of one event, not a service.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use socketioxide::handler::Value;
use socketioxide::socket::Sid;

use crate::adapter::{Socket, SocketRef};
use crate::subscriber::ErrorKind;

/// Code around the dispatch of every event of the app
/// ([`ServiceManagerBuilder::interceptor`](crate::ServiceManagerBuilder::interceptor)) or
/// of one namespace ([`interceptor_in`](crate::ServiceManagerBuilder::interceptor_in)).
/// Interceptors see emitted events that have subscribers, not `connect` or `disconnect`.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use specter::interceptor::{Done, EventInfo, Interceptor};
///
/// /// Counts events, and refuses any whose payload is larger than 64 KiB.
/// #[derive(Default)]
/// struct Audit { events: AtomicU64 }
///
/// impl Interceptor for Audit {
///     fn before(&self, event: &EventInfo<'_>) -> Result<(), String> {
///         self.events.fetch_add(1, Ordering::Relaxed);
///         match event.payload_len() {
///             n if n > 64 * 1024 => Err(format!("payload of {n} bytes is too large")),
///             _ => Ok(()),
///         }
///     }
///
///     fn after(&self, event: &EventInfo<'_>, done: &Done) {
///         tracing::debug!(event = event.event(), outcome = ?done.outcome, elapsed = ?done.elapsed);
///     }
/// }
/// ```
pub trait Interceptor: Send + Sync + 'static {
    /// Runs before the event's first subscriber (after its rate limits, once it is its
    /// turn in the socket's queue). `Err(reason)` refuses the event: no subscriber runs
    /// and the ack is an error of kind `rejected` with the reason, under the interceptor's
    /// [`name`](Self::name).
    fn before(&self, event: &EventInfo<'_>) -> Result<(), String> {
        let _ = event;
        Ok(())
    }

    /// Runs after the event's last subscriber, before the ack is sent.
    fn after(&self, event: &EventInfo<'_>, done: &Done) {
        let _ = (event, done);
    }

    /// The interceptor's name, for ack errors and logs: its type's name by default.
    fn name(&self) -> &str {
        let path = std::any::type_name::<Self>();
        path.rsplit("::").next().unwrap_or(path)
    }
}

/// The event a [`Interceptor`] sees.
pub struct EventInfo<'a> {
    pub(crate) namespace: &'a str,
    pub(crate) event: &'a str,
    pub(crate) socket: &'a Arc<Socket>,
    pub(crate) payload: &'a Value,
}

impl EventInfo<'_> {
    /// The namespace's path.
    pub fn namespace(&self) -> &str {
        self.namespace
    }

    /// The event's name.
    pub fn event(&self) -> &str {
        self.event
    }

    /// The id of the socket that sent it.
    pub fn socket_id(&self) -> Sid {
        self.socket.id
    }

    /// The socket that sent it.
    pub fn socket(&self) -> SocketRef {
        SocketRef::from(self.socket.clone())
    }

    /// The packet's payload as it arrived: the JSON array `["event", args..]` for a
    /// text packet, `None` for a binary one.
    pub fn payload_text(&self) -> Option<&str> {
        match self.payload {
            Value::Str(text, _) => Some(text),
            Value::Bytes(_) => None,
        }
    }

    /// The payload's size in bytes, binary attachments included.
    pub fn payload_len(&self) -> usize {
        payload_len(self.payload)
    }
}

/// A packet's payload size in bytes: its text and its binary attachments.
pub(crate) fn payload_len(payload: &Value) -> usize {
    match payload {
        Value::Str(text, bins) => {
            text.len() + bins.as_ref().map_or(0, |b| b.iter().map(|b| b.len()).sum())
        }
        Value::Bytes(b) => b.len(),
    }
}

/// How a dispatch went, for [`Interceptor::after`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Done {
    /// From the first interceptor's `before` to the last subscriber's end.
    pub elapsed: Duration,
    /// What the ack says (or would say, when none was asked for).
    pub outcome: DispatchOutcome,
}

/// How a dispatch ended, by the ack rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DispatchOutcome {
    /// A subscriber returned a value.
    Answered,
    /// No subscriber returned a value or failed.
    Nothing,
    /// A subscriber failed, and none returned a value: the first failure's kind.
    Failed(ErrorKind),
    /// A subscriber returned `Reject`, or an inner interceptor refused the event.
    Rejected,
    /// Guards skipped the subscribers that could have answered.
    Forbidden,
}

/// The interceptors of one namespace: the app's, then the namespace's own.
pub(crate) type Interceptors = Arc<[Arc<dyn Interceptor>]>;

/// Runs the `before` of each interceptor, outermost first: how many passed, and the refusal
/// (interceptor name, reason) of the one that refused, if any. A panic is a refusal.
pub(crate) fn before_all(
    interceptors: &Interceptors,
    info: &EventInfo<'_>,
) -> (usize, Option<(Arc<str>, String)>) {
    for (i, interceptor) in interceptors.iter().enumerate() {
        let verdict = std::panic::catch_unwind(AssertUnwindSafe(|| interceptor.before(info)))
            .unwrap_or_else(|_| {
                tracing::error!(
                    namespace = info.namespace,
                    event = info.event,
                    interceptor = interceptor.name(),
                    "interceptor panicked"
                );
                Err("internal error".to_owned())
            });
        if let Err(reason) = verdict {
            tracing::info!(
                namespace = info.namespace,
                event = info.event,
                interceptor = interceptor.name(),
                reason,
                "event refused by an interceptor"
            );
            return (i, Some((Arc::from(interceptor.name()), reason)));
        }
    }
    (interceptors.len(), None)
}

/// Runs the `after` of the first `passed` interceptors, innermost first.
pub(crate) fn after_all(
    interceptors: &Interceptors,
    passed: usize,
    info: &EventInfo<'_>,
    done: &Done,
) {
    for interceptor in interceptors[..passed].iter().rev() {
        if std::panic::catch_unwind(AssertUnwindSafe(|| interceptor.after(info, done))).is_err() {
            tracing::error!(
                namespace = info.namespace,
                event = info.event,
                interceptor = interceptor.name(),
                "interceptor panicked"
            );
        }
    }
}
