//! An emitted event arrives: its name read (in place when it can be), the bounds a
//! client meets before any of the app runs (lifecycle names, rate limits, unknown
//! events, the socket's queue in number and bytes), then its dispatch, at once or in the
//! socket's draining task.

use std::sync::Arc;

use socketioxide::handler::{FromMessageParts, Value};
use socketioxide_core::Str;
use tracing::Span;

use crate::adapter::Socket;
use crate::client_text::Shown;
use crate::ingress::inflight::InflightGuard;
use crate::ingress::interceptor::payload_len;
use crate::ingress::metrics;
use crate::ingress::namespace::Namespace;
use crate::ingress::socket_queue::{Admit, SocketQueue};
use crate::ingress::socketio::SocketGuards;
use crate::ingress::spans;
use crate::ingress::unknown_events::Budget;
use crate::subscriber::AckError;
use crate::subscriber::event_name::client_may_emit;
use crate::subscriber::extract::Decoded;

use super::verdict::Verdict;
use super::{Dispatch, Rest};

/// The event name of a text payload `["name",...]` whose name has no escapes, as a
/// slice of the payload (no copy); `None` sends the caller to the parser.
fn plain_event_name(data: &Value) -> Option<Str> {
    let Value::Str(text, _) = data else {
        return None;
    };
    let bytes = text.as_bytes();
    if !bytes.starts_with(b"[\"") {
        return None;
    }
    let len = bytes[2..].iter().position(|&b| b == b'"' || b == b'\\')?;
    (bytes[2 + len] == b'"').then(|| text.slice(2..2 + len))
}

/// The queue of a socket's ordered events.
pub(crate) type Queue = SocketQueue<Dispatch>;

/// Dispatches an emitted event of socket `s`, in arrival order with its socket's other
/// events unless it skips the queue: at once while subscribers answer at once, then in
/// a task, which then runs the events that queued meanwhile. Answers the ack at the end.
pub(crate) fn message(
    ns: &Arc<Namespace>,
    queue: &Arc<Queue>,
    guards: &SocketGuards,
    s: Arc<Socket>,
    mut data: Value,
    ack: Option<i64>,
) {
    let event = match plain_event_name(&data) {
        Some(name) => name,
        None => match socketioxide::extract::Event::from_message_parts(&s, &mut data, &None) {
            Ok(e) => Str::from(e.0),
            Err(e) => {
                tracing::warn!(namespace = %ns.path, socket = %s.id, error = %e, "unreadable event name");
                return;
            }
        },
    };
    if !client_may_emit(&event) {
        return protocol_violation(ns, s, &event);
    }
    let span = spans::dispatch(&ns.path, &event, &s);
    let (entries, interceptors) = ns.table.route(&event);
    // An event refused before any subscriber (over a rate limit, or nobody subscribes)
    // still owes its ack: it takes its turn in the queue like any other, so its answer
    // waits for room in order with the others, bounded by the same queue.
    let refusal = match guards
        .limits
        .check(&ns.settings, &event, entries.as_deref())
    {
        Err(limited) => {
            ns.delivery.count_rate_limited();
            tracing::debug!(namespace = %ns.path, socket = %s.id, event = ?Shown(&event), "event over its rate limit");
            Some(limited.into_error())
        }
        Ok(()) if entries.is_none() => {
            let budget = ns.settings.max_unknown_events;
            if guards.unknown.count(&ns.path, s.id, &event, budget) == Budget::Spent {
                // The ack, if asked for, is not answered: the socket is gone.
                let _ = s.disconnect();
                return;
            }
            Some(AckError::unknown_event(&event))
        }
        Ok(()) => None,
    };
    if refusal.is_some() && ack.is_none() {
        return;
    }
    let dispatch = Dispatch {
        ns: ns.clone(),
        decoded: Decoded::default(),
        socket: s,
        event,
        entries: entries.unwrap_or_else(|| ns.no_entries.clone()),
        data,
        ack,
        next: 0,
        interceptors: if refusal.is_some() {
            None
        } else {
            interceptors
        },
        verdict: refusal.map_or_else(Verdict::default, Verdict::Refused),
        started: None,
        passed: 0,
        span,
        current: Span::none(),
        sub_started: metrics::start(),
    };
    let max = ns.settings.max_queued_events;
    if dispatch.skips_queue() {
        if let Err(first) = queue.enter_concurrent(max) {
            return dispatch.refuse(first);
        }
        match dispatch.run_inline() {
            None => queue.leave_concurrent(),
            Some(rest) => {
                let (queue, inflight) = (queue.clone(), ns.inflight.enter());
                tokio::spawn(async move {
                    rest.finish().await;
                    queue.leave_concurrent();
                    drop(inflight);
                });
            }
        }
        return;
    }
    let max_bytes = ns.settings.max_queued_bytes;
    match queue.admit(dispatch, |d| payload_len(&d.data), max, max_bytes) {
        Admit::Run(dispatch) => {
            let rest = dispatch.run_inline();
            // Events wait only if socketioxide called in concurrently (long-polling).
            let next = if rest.is_none() { queue.next() } else { None };
            if rest.is_some() || next.is_some() {
                tokio::spawn(drain(queue.clone(), rest, next, ns.inflight.enter()));
            }
        }
        Admit::Queued => {}
        Admit::Refused { event, first } => event.refuse(first),
        Admit::OverBudget(event) => event.over_budget(),
    }
}

/// An event from a client with a name only the server may use (`connect`,
/// `disconnect`, ...): a protocol violation, as node's parser has it. Nothing of the app
/// runs; the socket is disconnected (its `disconnect` subscribers run once, for the
/// socket that really goes).
#[cold]
fn protocol_violation(ns: &Namespace, s: Arc<Socket>, event: &str) {
    tracing::warn!(
        namespace = %ns.path,
        socket = %s.id,
        event = ?Shown(event),
        "a client emitted an event with a reserved name: disconnecting it"
    );
    let _ = s.disconnect();
}

/// Finishes what the inline run left, then runs the socket's waiting events one after
/// the other until none is left (and the socket is free).
pub(super) async fn drain(
    queue: Arc<Queue>,
    rest: Option<Rest>,
    next: Option<Dispatch>,
    inflight: InflightGuard,
) {
    let turn = Turn(Some((queue.clone(), inflight)));
    if let Some(rest) = rest {
        rest.finish().await;
    }
    let mut next = next.or_else(|| queue.next());
    while let Some(dispatch) = next {
        dispatch.run_to_end().await;
        next = queue.next();
    }
    turn.end();
}

/// The draining task's hold on its socket's queue. Dropped before [`end`](Turn::end)
/// (the task panicked or was cancelled), it hands the socket's waiting events to a new
/// task, or, when no runtime is left to run one, frees the queue: either way the socket
/// is not left busy, and its `disconnect` subscribers still run.
struct Turn(Option<(Arc<Queue>, InflightGuard)>);

impl Turn {
    fn end(mut self) {
        self.0 = None;
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let Some((queue, inflight)) = self.0.take() else {
            return;
        };
        tracing::error!(
            "a dispatch ended without finishing: going on with its socket's next events"
        );
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(drain(queue, None, None, inflight));
            }
            Err(_) => while queue.next().is_some() {},
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &'static str) -> Value {
        Value::Str(Str::from(s), None)
    }

    #[test]
    fn event_names_without_escapes_are_read_in_place() {
        assert_eq!(
            plain_event_name(&text(r#"["héllo",1]"#)).as_deref(),
            Some("héllo")
        );
        assert_eq!(plain_event_name(&text(r#"["a"]"#)).as_deref(), Some("a"));
        assert_eq!(
            plain_event_name(&text(r#"["a\"b",1]"#)),
            None,
            "escapes go to the parser"
        );
        assert_eq!(plain_event_name(&text(r#"["unterminated"#)), None);
        assert_eq!(plain_event_name(&text("[1]")), None);
    }
}
