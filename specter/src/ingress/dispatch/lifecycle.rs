//! `connect` and `disconnect`: every subscriber in order, on the socket's lifecycle
//! rather than a client's event.

use std::sync::Arc;

use socketioxide::handler::Value;
use socketioxide::socket::DisconnectReason;
use tracing::{Instrument, Span};

use crate::adapter::Socket;
use crate::ingress::namespace::Namespace;
use crate::ingress::spans;
use crate::subscriber::extract::{Decoded, Payload};
use crate::subscriber::{EventCtx, Outcome};

use super::call::{guards_allow, run_traced};

/// Runs the `connect` subscribers; the first that fails or rejects refuses the
/// connection with its text. A failure is also logged and handed to the error
/// subscribers, as on any other event.
pub(crate) async fn connect(
    ns: &Namespace,
    s: Arc<Socket>,
    auth: &Option<Value>,
) -> Result<(), String> {
    let span = spans::dispatch(&ns.path, "connect", &s);
    if span.is_disabled() {
        return connect_in(ns, s, auth, &span).await;
    }
    let result = connect_in(ns, s, auth, &span)
        .instrument(span.clone())
        .await;
    span.record(
        "outcome",
        if result.is_ok() {
            "nothing"
        } else {
            "rejected"
        },
    );
    result
}

async fn connect_in(
    ns: &Namespace,
    s: Arc<Socket>,
    auth: &Option<Value>,
    span: &Span,
) -> Result<(), String> {
    let Some(entries) = ns.table.get("connect") else {
        return Ok(());
    };
    let decoded = Decoded::default();
    for entry in entries.iter() {
        let ctx = || EventCtx {
            socket: &s,
            event: "connect",
            payload: Payload::Connect(auth),
            decoded: &decoded,
            delivery: &ns.delivery,
        };
        // A refused guard skips its subscriber, as on any event.
        if guards_allow(entry, ctx).is_err() {
            continue;
        }
        let outcome = run_traced(span, entry, ctx()).await;
        let refusal = match outcome {
            Outcome::Nothing | Outcome::Reply(_) => continue,
            Outcome::Rejected(reason) => reason,
            Outcome::Failed(mut f) => {
                ns.log_failure("connect", entry, &mut f);
                ns.report(&s, "connect", entry, &f).await;
                f.refusal()
            }
        };
        tracing::info!(namespace = %ns.path, handler = %entry.owner, reason = %refusal, "connection refused");
        return Err(refusal);
    }
    Ok(())
}

/// Runs every `disconnect` subscriber in order: a failure or a rejection does not stop
/// the others.
pub(crate) async fn disconnect(ns: &Namespace, s: Arc<Socket>, reason: DisconnectReason) {
    let span = spans::dispatch(&ns.path, "disconnect", &s);
    if span.is_disabled() {
        return disconnect_in(ns, s, reason, &span).await;
    }
    disconnect_in(ns, s, reason, &span)
        .instrument(span.clone())
        .await;
    span.record("outcome", "nothing");
}

async fn disconnect_in(ns: &Namespace, s: Arc<Socket>, reason: DisconnectReason, span: &Span) {
    let Some(entries) = ns.table.get("disconnect") else {
        return;
    };
    let decoded = Decoded::default();
    for entry in entries.iter() {
        let ctx = || EventCtx {
            socket: &s,
            event: "disconnect",
            payload: Payload::Disconnect(reason),
            decoded: &decoded,
            delivery: &ns.delivery,
        };
        if guards_allow(entry, ctx).is_err() {
            continue;
        }
        if let Outcome::Failed(mut f) = run_traced(span, entry, ctx()).await {
            ns.log_failure("disconnect", entry, &mut f);
            ns.report(&s, "disconnect", entry, &f).await;
        }
    }
}
