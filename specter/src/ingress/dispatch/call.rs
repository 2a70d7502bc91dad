//! Calling one subscriber: its guards, the call with panics caught, its future under
//! its timeout.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures_util::FutureExt;
use tracing::{Instrument, Span};

use crate::ingress::spans;
use crate::ingress::table::Entry;
use crate::subscriber::{BoxOutcomeFuture, Call, ErrorKind, EventCtx, Failure, Outcome};

/// Calls one subscriber, turning a panic into a failure; an async one runs under its
/// own timeout, else the app's (`default`).
pub(super) fn call(entry: &Entry, ctx: EventCtx<'_>, default: Option<Duration>) -> Call {
    let limit = entry.timeout.or(default);
    let call = match std::panic::catch_unwind(AssertUnwindSafe(|| entry.subscriber.call(ctx))) {
        Ok(call) => call,
        Err(panic) => return Call::Ready(Outcome::Failed(Failure::from_panic(panic))),
    };
    match (call, limit) {
        (Call::Pending(fut), Some(limit)) => Call::Pending(Box::pin(within(limit, fut))),
        (call, _) => call,
    }
}

/// Runs the guards of `entry`, in order, each with a fresh context: the first refusal's
/// reason, or `Ok` (also when there are none).
pub(super) fn guards_allow<'a>(
    entry: &Entry,
    ctx: impl Fn() -> EventCtx<'a>,
) -> Result<(), String> {
    match &entry.guards {
        None => Ok(()),
        Some(guards) => guards.iter().try_for_each(|g| g.check(ctx())),
    }
}

/// A subscriber's future, dropped when it runs past `limit`.
async fn within(limit: Duration, fut: BoxOutcomeFuture) -> Outcome {
    match tokio::time::timeout(limit, fut).await {
        Ok(outcome) => outcome,
        Err(_) => Outcome::Failed(Failure::new(
            ErrorKind::Timeout,
            format_args!("did not finish within {limit:?}"),
        )),
    }
}

/// Awaits a subscriber's future, turning a panic into a failure.
pub(super) async fn finish(fut: BoxOutcomeFuture) -> Outcome {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(outcome) => outcome,
        Err(panic) => Outcome::Failed(Failure::from_panic(panic)),
    }
}

/// Runs one subscriber to its end.
async fn run(entry: &Entry, ctx: EventCtx<'_>, default: Option<Duration>) -> Outcome {
    match call(entry, ctx, default) {
        Call::Ready(outcome) => outcome,
        Call::Pending(fut) => finish(fut).await,
    }
}

/// [`run`] inside a subscriber span of `parent`, when that one is on.
pub(super) async fn run_traced(
    parent: &Span,
    entry: &Entry,
    ctx: EventCtx<'_>,
    default: Option<Duration>,
) -> Outcome {
    if parent.is_disabled() {
        return run(entry, ctx, default).await;
    }
    let span = spans::subscriber(parent, entry);
    let outcome = run(entry, ctx, default).instrument(span.clone()).await;
    spans::record_outcome(&span, &outcome);
    outcome
}
