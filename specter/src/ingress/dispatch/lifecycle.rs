//! `connect` and `disconnect`: every subscriber in order, on the socket's lifecycle
//! rather than a client's event. Both walk one loop; they differ in what a failure
//! does (it refuses a connection, and does not stop a disconnect's other subscribers)
//! and neither has an ack, so values returned are dropped.

use std::sync::Arc;

use socketioxide::handler::Value;
use socketioxide::socket::DisconnectReason;
use tracing::{Instrument, Span};

use crate::adapter::Socket;
use crate::ingress::inflight::InflightGuard;
use crate::ingress::namespace::Namespace;
use crate::ingress::spans;
use crate::subscriber::event_name::CONNECTED;
use crate::subscriber::extract::{Decoded, Payload};
use crate::subscriber::{EventCtx, Outcome};

use super::Queue;
use super::arrival::drain;
use super::call::{guards_allow, run_traced};
use super::verdict::Verdict;

/// Runs the `connect` subscribers; the first that fails or rejects refuses the
/// connection with its text. A failure is also logged and handed to the error
/// subscribers, as on any other event.
pub(crate) async fn connect(
    ns: &Namespace,
    s: Arc<Socket>,
    auth: &Option<Value>,
) -> Result<(), String> {
    let verdict = traced(ns, &s, "connect", Payload::Connect(auth), true).await;
    match verdict.connect_refusal() {
        None => Ok(()),
        Some((owner, refusal)) => {
            tracing::info!(namespace = %ns.path, handler = %owner, reason = %refusal, "connection refused");
            Err(refusal)
        }
    }
}

/// Runs every `disconnect` subscriber in order: a failure or a rejection does not stop
/// the others.
pub(crate) async fn disconnect(ns: &Namespace, s: Arc<Socket>, reason: DisconnectReason) {
    traced(ns, &s, "disconnect", Payload::Disconnect(reason), false).await;
}

/// Runs the `connected` subscribers, once the client has been told it is connected,
/// then the socket's events that arrived meanwhile (`queue` was occupied for the hook):
/// whatever the hook emits reaches the client before any answer to its own events.
/// A failure is logged and handed to the error subscribers; it stops nothing.
pub(crate) async fn connected(
    ns: Arc<Namespace>,
    s: Arc<Socket>,
    auth: Option<Value>,
    queue: Arc<Queue>,
    inflight: InflightGuard,
) {
    traced(&ns, &s, CONNECTED, Payload::Connect(&auth), false).await;
    drain(queue, None, None, inflight).await;
}

/// [`fanout`] inside the event's dispatch span, when that one is on.
async fn traced(
    ns: &Namespace,
    s: &Arc<Socket>,
    event: &'static str,
    payload: Payload<'_>,
    refuses: bool,
) -> Verdict {
    let span = spans::dispatch(&ns.path, event, s);
    if span.is_disabled() {
        return fanout(ns, s, event, payload, refuses, &span).await;
    }
    let verdict = fanout(ns, s, event, payload, refuses, &span)
        .instrument(span.clone())
        .await;
    verdict.record(&span);
    verdict
}

/// Runs `event`'s subscribers in order; with `refuses`, the first failure or rejection
/// ends the walk.
async fn fanout(
    ns: &Namespace,
    s: &Arc<Socket>,
    event: &'static str,
    payload: Payload<'_>,
    refuses: bool,
    span: &Span,
) -> Verdict {
    let mut verdict = Verdict::default();
    let Some(entries) = ns.table.get(event) else {
        return verdict;
    };
    let decoded = Decoded::default();
    for entry in entries.iter() {
        let ctx = || EventCtx {
            socket: s,
            event,
            payload,
            decoded: &decoded,
            delivery: &ns.delivery,
        };
        // A refused guard skips its subscriber, as on any event.
        if let Err(reason) = guards_allow(entry, ctx) {
            verdict.forbid(&entry.owner, reason);
            continue;
        }
        match run_traced(span, entry, ctx(), ns.settings.subscriber_timeout).await {
            Outcome::Nothing | Outcome::Reply(_) => continue,
            Outcome::Rejected(reason) => verdict.reject(entry.owner.clone(), reason),
            Outcome::Failed(mut f) => {
                ns.log_failure(event, entry, &mut f);
                ns.report(s, event, entry, &f).await;
                verdict.fail(&entry.owner, &f);
            }
        }
        if refuses {
            break;
        }
    }
    verdict
}
