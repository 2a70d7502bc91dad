//! Dispatch of one event to its subscribers, in order, with failures isolated and the
//! ack answered: emitted events, `connect` and `disconnect`.
//!
//! A message event runs on the caller's stack (socketioxide's handler call) as long as
//! its subscribers are plain functions and its ack finds room: no task is spawned. At
//! the first subscriber that is async (or whose failure goes to async error
//! subscribers), or when the ack must wait for room, the rest of the dispatch moves to
//! a task, and the socket's next events wait in its queue (`socket_queue`) until that
//! task runs them. Order and semantics are the same either way.

//! The folder: `call` runs one subscriber (panics caught, timeouts), `arrival` takes
//! an event in (its name, the bounds on it, the socket's queue), `verdict` is the ack
//! rule, `lifecycle` runs `connect` and `disconnect`; this file walks an emitted event
//! through its subscribers and owes its ack.

mod arrival;
mod call;
mod lifecycle;
mod verdict;

pub(crate) use arrival::{Queue, message};
pub(crate) use lifecycle::{connect, connected, disconnect};

use std::sync::Arc;
use std::time::{Duration, Instant};

use socketioxide::handler::Value;
use socketioxide_core::Str;
use tracing::{Instrument, Span};

use crate::adapter::Socket;
use crate::client_text::Shown;
use crate::ingress::answer::{Answer, Owed};
use crate::ingress::interceptor::{self, Done, EventInfo, Interceptors};
use crate::ingress::metrics;
use crate::ingress::namespace::Namespace;
use crate::ingress::spans;
use crate::ingress::table::Entry;
use crate::subscriber::Delivery;
use crate::subscriber::extract::{Decoded, Payload};
use crate::subscriber::{AckError, BoxOutcomeFuture, Call, ErrorKind, EventCtx, Failure, Outcome};

use call::{call, finish, guards_allow};
use verdict::Verdict;

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
    /// What the ack says so far.
    verdict: Verdict,
    /// The interceptors around the dispatch, when the namespace has any.
    interceptors: Option<Interceptors>,
    /// When the interceptors' `before` ran, and how many of them passed.
    started: Option<Instant>,
    passed: usize,
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
                self.verdict.forbid(&self.entries[i].owner, reason);
                continue;
            }
            let started = metrics::start();
            let called = if span.is_disabled() {
                call(&self.entries[i], ctx(), self.ns.settings.subscriber_timeout)
            } else {
                let _entered = span.enter();
                call(&self.entries[i], ctx(), self.ns.settings.subscriber_timeout)
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
                self.verdict.answer(v);
                None
            }
            Outcome::Failed(mut f) => {
                self.ns.log_failure(&self.event, entry, &mut f);
                self.verdict.fail(&entry.owner, &f);
                self.ns
                    .has_error_subscribers()
                    .then_some(Blocked::Report(f))
            }
            Outcome::Rejected(reason) => {
                tracing::info!(namespace = %self.ns.path, event = ?Shown(&self.event), handler = %entry.owner, reason, "event rejected");
                self.verdict.reject(entry.owner.clone(), reason);
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
        if self.interceptors.is_some() {
            self.interceptors_after();
        }
        if self.verdict.refused().is_none() {
            metrics::finished();
        }
        self.verdict.record(&self.span);
        let Some(id) = self.ack else {
            return (self.ns, None);
        };
        let owed = Owed {
            socket: self.socket,
            id,
            answer: self.verdict.into_answer(),
        };
        (self.ns, Some(owed))
    }

    /// The namespace's view of the event, for interceptors.
    fn info(&self) -> EventInfo<'_> {
        EventInfo {
            namespace: &self.ns.path,
            event: &self.event,
            socket: &self.socket,
            payload: &self.data,
        }
    }

    /// Runs the interceptors' `before`; a refusal skips every subscriber.
    fn interceptors_before(&mut self, interceptors: &Interceptors) {
        self.started = Some(Instant::now());
        let (passed, refusal) = interceptor::before_all(interceptors, &self.info());
        self.passed = passed;
        if let Some((interceptor, reason)) = refusal {
            self.verdict.reject(interceptor, reason);
            self.next = self.entries.len();
        }
    }

    /// Runs the `after` of the interceptors whose `before` passed.
    fn interceptors_after(&self) {
        let Some(interceptors) = &self.interceptors else {
            return;
        };
        let done = Done {
            elapsed: self.started.map_or(Duration::ZERO, |t| t.elapsed()),
            outcome: self.verdict.outcome(),
        };
        interceptor::after_all(interceptors, self.passed, &self.info(), &done);
    }

    /// Whether the event may skip its socket's queue: every subscriber said
    /// `concurrent`, or the app does not order events.
    fn skips_queue(&self) -> bool {
        let ordered = self.ns.settings.ordered;
        !ordered || (self.verdict.refused().is_none() && self.entries.iter().all(|e| e.concurrent))
    }

    /// Runs the subscribers that answer at once and sends the ack if it can; what is
    /// left to do (an async subscriber, an ack waiting for room) comes back as a `Rest`.
    fn run_inline(mut self) -> Option<Rest> {
        let span = (!self.span.is_disabled()).then(|| self.span.clone());
        let _entered = span.as_ref().map(Span::enter);
        if let Some(interceptors) = self.interceptors.clone() {
            self.interceptors_before(&interceptors);
        }
        match self.verdict.refused() {
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
            max_bytes = self.ns.settings.max_queued_bytes,
            "the events this socket has waiting pass their byte budget: disconnecting it"
        );
        let _ = self.socket.disconnect();
    }

    /// Refuses the event: its socket has too many waiting. The ack, if asked for, is
    /// answered with kind `overloaded` if the buffer has room (the client is flooding).
    fn refuse(self, first: bool) {
        let delivery = self.ns.delivery.clone();
        delivery.count_overloaded();
        metrics::refused(&self.ns.path, ErrorKind::Overloaded);
        let max = self.ns.settings.max_queued_events;
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
