//! The `tracing` spans of a dispatch: one per emitted event (`dispatch`: namespace,
//! event, socket, transport, outcome) and one per subscriber inside it (`subscriber`:
//! owner, priority, source, outcome), so that a subscriber's own `tracing` events nest
//! under both. Both are `info` spans: with that level disabled, creating one is a
//! check of a cached flag, and nothing is allocated or recorded.

use tracing::Span;
use tracing::field::Empty;

use crate::adapter::Socket;
use crate::client_text::Shown;
use crate::ingress::table::Entry;
use crate::subscriber::Outcome;

/// The span of one emitted event.
#[inline]
pub(crate) fn dispatch(namespace: &str, event: &str, socket: &Socket) -> Span {
    tracing::info_span!(
        "dispatch",
        namespace,
        event = ?Shown(event),
        socket = %socket.id,
        transport = ?socket.transport_type(),
        outcome = Empty,
        error_kind = Empty,
    )
}

/// The span of one subscriber, inside its dispatch's.
#[inline]
pub(crate) fn subscriber(parent: &Span, entry: &Entry) -> Span {
    tracing::info_span!(
        parent: parent,
        "subscriber",
        owner = %entry.owner,
        priority = entry.priority,
        source = %entry.source,
        outcome = Empty,
        error_kind = Empty,
    )
}

/// Records how a subscriber ended.
#[inline]
pub(crate) fn record_outcome(span: &Span, outcome: &Outcome) {
    if span.is_disabled() {
        return;
    }
    match outcome {
        Outcome::Nothing => span.record("outcome", "nothing"),
        Outcome::Reply(_) => span.record("outcome", "answered"),
        Outcome::Rejected(_) => span.record("outcome", "rejected"),
        Outcome::Failed(f) => span
            .record("outcome", "failed")
            .record("error_kind", f.kind.as_str()),
    };
}
