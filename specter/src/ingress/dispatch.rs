//! Dispatch of one event to its subscribers, in order, with failures isolated and the
//! ack answered: emitted events, `connect` and `disconnect`.
//!
//! A message event runs on the caller's stack (socketioxide's handler call) as long as
//! its subscribers are plain functions and its ack finds room: no task is spawned. At
//! the first subscriber that is async (or whose failure goes to async error
//! subscribers), or when the ack must wait for room, the rest of the dispatch moves to
//! a task, and the socket's next events wait in its queue (`socket_queue`) until that
//! task runs them. Order and semantics are the same either way.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use socketioxide::handler::{FromMessageParts, Value};
use socketioxide::socket::DisconnectReason;
use socketioxide_core::Str;
use tracing::{Instrument, Span};

use crate::adapter::Socket;
use crate::client_text::Shown;
use crate::ingress::answer::{Answer, Owed};
use crate::ingress::inflight::InflightGuard;
use crate::ingress::layer::{self, DispatchOutcome, Done, EventInfo, Layers};
use crate::ingress::metrics;
use crate::ingress::namespace::Namespace;
use crate::ingress::socket_queue::{Admit, SocketQueue};
use crate::ingress::socketio::SocketGuards;
use crate::ingress::spans;
use crate::ingress::table::Entry;
use crate::ingress::unknown_events::Verdict;
use crate::subscriber::Delivery;
use crate::subscriber::event_name::client_may_emit;
use crate::subscriber::extract::{Decoded, Payload};
use crate::subscriber::{
    AckError, BoxOutcomeFuture, Call, ErrorKind, EventCtx, Failure, Outcome, Reply,
};

/// Calls one subscriber, turning a panic into a failure.
fn call(entry: &Entry, ctx: EventCtx<'_>) -> Call {
    let limit = entry.timeout.or(ctx.delivery.policy.subscriber_timeout);
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
fn guards_allow<'a>(entry: &Entry, ctx: impl Fn() -> EventCtx<'a>) -> Result<(), String> {
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
async fn finish(fut: BoxOutcomeFuture) -> Outcome {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(outcome) => outcome,
        Err(panic) => Outcome::Failed(Failure::from_panic(panic)),
    }
}

/// Runs one subscriber to its end.
async fn run(entry: &Entry, ctx: EventCtx<'_>) -> Outcome {
    match call(entry, ctx) {
        Call::Ready(outcome) => outcome,
        Call::Pending(fut) => finish(fut).await,
    }
}

/// [`run`] inside a subscriber span of `parent`, when that one is on.
async fn run_traced(parent: &Span, entry: &Entry, ctx: EventCtx<'_>) -> Outcome {
    if parent.is_disabled() {
        return run(entry, ctx).await;
    }
    let span = spans::subscriber(parent, entry);
    let outcome = run(entry, ctx).instrument(span.clone()).await;
    spans::record_outcome(&span, &outcome);
    outcome
}

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

/// One emitted event on its way through its subscribers.
pub(crate) struct Dispatch {
    ns: Arc<Namespace>,
    /// Payloads decoded once for every subscriber (`SharedData<T>`).
    decoded: Decoded,
    socket: Arc<Socket>,
    event: Str,
    entries: Arc<[Entry]>,
    /// The payload; a subscriber that reads it decodes from a copy of it.
    data: Value,
    ack: Option<i64>,
    /// The next subscriber to run.
    next: usize,
    reply: Option<Reply>,
    failed: Option<(Arc<str>, Failure)>,
    rejected: Option<(Arc<str>, String)>,
    /// The first subscriber a guard skipped, and the guard's reason.
    forbidden: Option<(Arc<str>, String)>,
    /// The layers around the dispatch, when the namespace has any.
    layers: Option<Layers>,
    /// When the layers' `before` ran, and how many of them passed.
    started: Option<Instant>,
    passed: usize,
    /// The answer of an event refused before any subscriber: none of them runs.
    refusal: Option<AckError>,
    /// The dispatch's span, and the span of the subscriber in flight.
    span: Span,
    current: Span,
    /// When the subscriber in flight was called (feature `metrics`).
    sub_started: metrics::Started,
}

/// Why a dispatch cannot go on synchronously.
enum Blocked {
    /// The subscriber `next - 1` returned a future.
    Pending(BoxOutcomeFuture),
    /// The subscriber `next - 1` failed and there are error subscribers to run.
    Report(Failure),
}

impl Dispatch {
    /// Calls subscribers while they answer at once; stops at the first that does not.
    fn run_ready(&mut self) -> Option<Blocked> {
        while self.next < self.entries.len() {
            let i = self.next;
            self.next += 1;
            let ctx = || EventCtx {
                socket: &self.socket,
                event: &self.event,
                payload: Payload::Message(&self.data),
                decoded: &self.decoded,
                delivery: &self.ns.delivery,
            };
            // Subscriber spans live inside a dispatch span: when that one is off (its
            // level disabled), none is made.
            let span = if self.span.is_disabled() {
                Span::none()
            } else {
                spans::subscriber(&self.span, &self.entries[i])
            };
            if let Err(reason) = guards_allow(&self.entries[i], ctx) {
                if !span.is_disabled() {
                    span.record("outcome", "forbidden");
                }
                let owner = self.entries[i].owner.clone();
                self.forbidden.get_or_insert((owner, reason));
                continue;
            }
            let started = metrics::start();
            let called = if span.is_disabled() {
                call(&self.entries[i], ctx())
            } else {
                let _entered = span.enter();
                call(&self.entries[i], ctx())
            };
            match called {
                Call::Ready(outcome) => {
                    spans::record_outcome(&span, &outcome);
                    let took = metrics::elapsed(started);
                    metrics::subscriber_done(&self.ns.path, &self.entries[i], &outcome, took);
                    if let Some(blocked) = self.record(outcome) {
                        return Some(blocked);
                    }
                }
                Call::Pending(fut) => {
                    // Only a traced future pays for the wrapper.
                    let fut = if span.is_disabled() {
                        fut
                    } else {
                        Box::pin(fut.instrument(span.clone()))
                    };
                    self.current = span;
                    self.sub_started = started;
                    return Some(Blocked::Pending(fut));
                }
            }
        }
        None
    }

    /// Takes in the outcome of subscriber `next - 1`.
    fn record(&mut self, outcome: Outcome) -> Option<Blocked> {
        let entry = &self.entries[self.next - 1];
        match outcome {
            Outcome::Nothing => None,
            Outcome::Reply(v) => {
                self.reply = Some(v);
                None
            }
            Outcome::Failed(mut f) => {
                self.ns.log_failure(&self.event, entry, &mut f);
                self.failed.get_or_insert((entry.owner.clone(), f.clone()));
                self.ns
                    .has_error_subscribers()
                    .then_some(Blocked::Report(f))
            }
            Outcome::Rejected(reason) => {
                tracing::info!(namespace = %self.ns.path, event = ?Shown(&self.event), handler = %entry.owner, reason, "event rejected");
                self.rejected = Some((entry.owner.clone(), reason));
                self.next = self.entries.len();
                None
            }
        }
    }

    /// Goes on from `blocked` to the last subscriber.
    async fn run_async(&mut self, mut blocked: Blocked) {
        loop {
            match blocked {
                Blocked::Pending(fut) => {
                    let outcome = finish(fut).await;
                    spans::record_outcome(&self.current, &outcome);
                    let took = metrics::elapsed(self.sub_started);
                    let entry = &self.entries[self.next - 1];
                    metrics::subscriber_done(&self.ns.path, entry, &outcome, took);
                    if let Some(b) = self.record(outcome) {
                        blocked = b;
                        continue;
                    }
                }
                Blocked::Report(failure) => {
                    let entry = &self.entries[self.next - 1];
                    self.ns
                        .report(&self.socket, &self.event, entry, &failure)
                        .await;
                }
            }
            match self.run_ready() {
                Some(b) => blocked = b,
                None => break,
            }
        }
    }

    /// The ack owed to the client, when it asked for one, with the namespace (moved out,
    /// not cloned: this is on every dispatch's path).
    fn owed(self) -> (Arc<Namespace>, Option<Owed>) {
        if self.layers.is_some() {
            self.layers_after();
        }
        match &self.refusal {
            Some(error) => spans::record_refusal(&self.span, error.kind),
            None => {
                metrics::finished();
                if !self.span.is_disabled() {
                    spans::record_dispatch(&self.span, self.outcome());
                }
            }
        }
        let Some(id) = self.ack else {
            return (self.ns, None);
        };
        if let Some(error) = self.refusal {
            let owed = Owed {
                socket: self.socket,
                id,
                answer: Answer::Error(error),
            };
            return (self.ns, Some(owed));
        }
        let answer = match (self.rejected, self.reply, self.failed, self.forbidden) {
            (Some((owner, reason)), ..) => {
                Answer::Error(AckError::new(ErrorKind::Rejected, reason).with_handler(&*owner))
            }
            (None, Some(v), ..) => Answer::Reply(v),
            (None, None, Some((owner, f)), _) => Answer::Error(AckError::from_failure(&owner, &f)),
            (None, None, None, Some((owner, reason))) => {
                Answer::Error(AckError::new(ErrorKind::Forbidden, reason).with_handler(&*owner))
            }
            (None, None, None, None) => Answer::Empty,
        };
        let owed = Owed {
            socket: self.socket,
            id,
            answer,
        };
        (self.ns, Some(owed))
    }

    /// The namespace's view of the event, for layers.
    fn info(&self) -> EventInfo<'_> {
        EventInfo {
            namespace: &self.ns.path,
            event: &self.event,
            socket: &self.socket,
            payload: &self.data,
        }
    }

    /// Runs the layers' `before`; a refusal skips every subscriber.
    fn layers_before(&mut self, layers: &Layers) {
        self.started = Some(Instant::now());
        let (passed, refusal) = layer::before_all(layers, &self.info());
        self.passed = passed;
        if let Some(refusal) = refusal {
            self.rejected = Some(refusal);
            self.next = self.entries.len();
        }
    }

    /// Runs the `after` of the layers whose `before` passed.
    fn layers_after(&self) {
        let Some(layers) = &self.layers else { return };
        let done = Done {
            elapsed: self.started.map_or(Duration::ZERO, |t| t.elapsed()),
            outcome: self.outcome(),
        };
        layer::after_all(layers, self.passed, &self.info(), &done);
    }

    /// How the dispatch ended, by the ack rule.
    fn outcome(&self) -> DispatchOutcome {
        match (&self.rejected, &self.reply, &self.failed, &self.forbidden) {
            (Some(_), ..) => DispatchOutcome::Rejected,
            (None, Some(_), ..) => DispatchOutcome::Answered,
            (None, None, Some((_, f)), _) => DispatchOutcome::Failed(f.kind),
            (None, None, None, Some(_)) => DispatchOutcome::Forbidden,
            (None, None, None, None) => DispatchOutcome::Nothing,
        }
    }

    /// Whether the event may skip its socket's queue: every subscriber said
    /// `concurrent`, or the app does not order events.
    fn skips_queue(&self) -> bool {
        let ordered = self.ns.delivery.policy.ordered;
        !ordered || (self.refusal.is_none() && self.entries.iter().all(|e| e.concurrent))
    }

    /// Runs the subscribers that answer at once and sends the ack if it can; what is
    /// left to do (an async subscriber, an ack waiting for room) comes back as a `Rest`.
    fn run_inline(mut self) -> Option<Rest> {
        let span = (!self.span.is_disabled()).then(|| self.span.clone());
        let _entered = span.as_ref().map(Span::enter);
        if let Some(layers) = self.layers.clone() {
            self.layers_before(&layers);
        }
        match &self.refusal {
            Some(error) => {
                metrics::refused(&self.ns.path, error.kind);
                self.next = self.entries.len();
            }
            None => metrics::dispatched(&self.ns.path, &self.entries),
        }
        if let Some(blocked) = self.run_ready() {
            return Some(Rest::Blocked(self, blocked));
        }
        let (ns, owed) = self.owed();
        let unsent = owed?.try_send(&ns.delivery)?;
        Some(Rest::Unsent(unsent, ns.delivery.clone()))
    }

    /// Runs the whole dispatch, waiting where it must.
    async fn run_to_end(self) {
        if let Some(rest) = self.run_inline() {
            rest.finish().await;
        }
    }

    /// Refuses the event: its socket has too many waiting. The ack, if asked for, is
    /// answered with kind `overloaded` if the buffer has room (the client is flooding).
    fn refuse(self, first: bool) {
        let delivery = self.ns.delivery.clone();
        delivery.count_overloaded();
        metrics::refused(&self.ns.path, ErrorKind::Overloaded);
        let max = delivery.policy.max_queued_events;
        if first {
            tracing::warn!(
                namespace = %self.ns.path,
                socket = %self.socket.id,
                event = ?Shown(&self.event),
                max,
                "too many events of this socket are waiting: refusing the next ones"
            );
        }
        if let Some(id) = self.ack {
            let error = AckError::new(
                ErrorKind::Overloaded,
                format!(
                    "more than {max} events of this socket are waiting; this one was not dispatched"
                ),
            );
            let owed = Owed {
                socket: self.socket,
                id,
                answer: Answer::Error(error),
            };
            // Not waited for: the client sends faster than it reads, and waiting for
            // each refusal is what the bound is against. Counted as a dropped ack.
            if owed.try_send(&delivery).is_some() {
                delivery.count_ack_dropped();
            }
        }
    }
}

impl Dispatch {
    /// Refuses the event and disconnects its socket: the payloads waiting for the one in
    /// flight would pass their byte budget. A client that sends that much faster than
    /// it is served is flooding; its acks are not answered.
    #[cold]
    fn over_budget(self) {
        self.ns.delivery.count_overloaded();
        metrics::refused(&self.ns.path, ErrorKind::Overloaded);
        tracing::warn!(
            namespace = %self.ns.path,
            socket = %self.socket.id,
            max_bytes = self.ns.delivery.policy.max_queued_bytes,
            "the events this socket has waiting pass their byte budget: disconnecting it"
        );
        let _ = self.socket.disconnect();
    }
}

/// What is left of a dispatch that could not finish at once.
// It moves into the task's future, which is on the heap already: boxing the large
// variant would only add an allocation per async dispatch.
#[allow(clippy::large_enum_variant)]
enum Rest {
    /// Subscribers still to run, from an async one.
    Blocked(Dispatch, Blocked),
    /// The ack, waiting for room in the connection's buffer.
    Unsent(Owed, Arc<Delivery>),
}

impl Rest {
    async fn finish(self) {
        match self {
            Rest::Blocked(mut dispatch, blocked) => {
                let span = dispatch.span.clone();
                let rest = async move {
                    dispatch.run_async(blocked).await;
                    if let (ns, Some(owed)) = dispatch.owed() {
                        owed.send(&ns.delivery).await;
                    }
                };
                if span.is_disabled() {
                    rest.await
                } else {
                    rest.instrument(span).await
                }
            }
            Rest::Unsent(owed, delivery) => owed.send(&delivery).await,
        }
    }
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
    let (entries, layers) = ns.table.route(&event);
    // An event refused before any subscriber (over a rate limit, or nobody subscribes)
    // still owes its ack: it takes its turn in the queue like any other, so its answer
    // waits for room in order with the others, bounded by the same queue.
    let refusal = match guards
        .limits
        .check(&ns.delivery.policy, &event, entries.as_deref())
    {
        Err(limited) => {
            ns.delivery.count_rate_limited();
            tracing::debug!(namespace = %ns.path, socket = %s.id, event = ?Shown(&event), "event over its rate limit");
            Some(limited.into_error())
        }
        Ok(()) if entries.is_none() => {
            let budget = ns.delivery.policy.max_unknown_events;
            if guards.unknown.count(&ns.path, s.id, &event, budget) == Verdict::Disconnect {
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
        reply: None,
        failed: None,
        rejected: None,
        forbidden: None,
        layers: if refusal.is_some() { None } else { layers },
        started: None,
        passed: 0,
        refusal,
        span,
        current: Span::none(),
        sub_started: metrics::start(),
    };
    let max = ns.delivery.policy.max_queued_events;
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
    let bytes = payload_bytes(&dispatch.data);
    match queue.admit(dispatch, bytes, max, ns.delivery.policy.max_queued_bytes) {
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

/// The bytes of an event's payload: its text and its binary attachments.
#[inline]
fn payload_bytes(data: &Value) -> usize {
    match data {
        Value::Str(text, binaries) => {
            text.len()
                + binaries
                    .as_ref()
                    .map_or(0, |b| b.iter().map(|b| b.len()).sum())
        }
        Value::Bytes(bytes) => bytes.len(),
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
async fn drain(
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
