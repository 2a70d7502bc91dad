//! Dispatch of one event to its subscribers, in order, with failures isolated and the
//! ack answered.
//!
//! A message event runs on the caller's stack (socketioxide's handler call) as long as
//! its subscribers are plain functions: no task is spawned. At the first subscriber
//! that is async (or whose failure goes to async error subscribers) the rest of the
//! dispatch moves to a task of its own. Order and semantics are the same either way.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use serde_json::json;
use socketioxide::handler::{FromMessageParts, Value};
use socketioxide::socket::DisconnectReason;
use socketioxide_core::Str;

use crate::adapter::{AckSender, Socket, SocketRef};
use crate::extract::{EventCtx, Payload};
use crate::ingress::{ErrorEvent, Namespace};
use crate::outcome::{Failure, FailureKind, Outcome, Reply};
use crate::subscriber::{BoxOutcomeFuture, Call};
use crate::table::Entry;

/// Calls one subscriber, turning a panic into a failure.
fn call(entry: &Entry, ctx: EventCtx<'_>) -> Call {
    match std::panic::catch_unwind(AssertUnwindSafe(|| entry.subscriber.call(ctx))) {
        Ok(call) => call,
        Err(panic) => Call::Ready(Outcome::Failed(Failure::from_panic(panic))),
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

/// How an ack is answered.
enum Answer {
    /// A subscriber's value.
    Reply(Reply),
    /// An error object.
    Error(serde_json::Value),
    /// No value at all: an empty argument list.
    Empty,
}

/// Answers the ack `id` of socket `s`. A value that fails to serialize is answered with
/// an error of kind `unserializable` instead, so the client is never left waiting.
fn answer(s: &Arc<Socket>, id: i64, answer: Answer) {
    let sender = || {
        let mut none = Value::Bytes(bytes::Bytes::new());
        match AckSender::from_message_parts(s, &mut none, &Some(id)) {
            Ok(ack) => ack,
            Err(never) => match never {},
        }
    };
    let sent = match answer {
        Answer::Reply(reply) => match reply.send(sender()) {
            Err(socketioxide::SendError::Serialize(e)) => {
                tracing::error!(error = %e, "ack value is not serializable");
                let message = format!("ack value is not serializable: {e}");
                sender().send(&json!({ "error": { "kind": FailureKind::Unserializable, "message": message } }))
            }
            other => other,
        },
        Answer::Error(error) => sender().send(&error),
        Answer::Empty => sender().send(&[(); 0]),
    };
    if let Err(e) = sent {
        tracing::debug!(error = %e, "could not send ack");
    }
}

/// The answer to an ack when no subscriber returned a value but one failed.
fn error_ack(owner: &str, failure: &Failure) -> serde_json::Value {
    // A panic message is for the server's log, not for clients.
    let message = match failure.kind {
        FailureKind::Panicked => "internal error",
        _ => &failure.message,
    };
    json!({ "error": { "handler": owner, "kind": failure.kind, "message": message } })
}

/// One emitted event on its way through its subscribers.
struct Dispatch {
    ns: Arc<Namespace>,
    socket: Arc<Socket>,
    event: Str,
    entries: Arc<[Entry]>,
    /// The payload, kept for the subscribers still to run; the last one takes it.
    data: Option<Value>,
    ack: Option<i64>,
    /// The next subscriber to run.
    next: usize,
    reply: Option<Reply>,
    failed: Option<(Arc<str>, Failure)>,
    rejected: Option<(Arc<str>, String)>,
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
            let payload = if self.next == self.entries.len() {
                self.data.take()
            } else {
                self.data.clone()
            };
            let ctx = EventCtx {
                socket: &self.socket,
                event: &self.event,
                payload: Payload::Message(payload.expect("payload kept for the last subscriber")),
            };
            match call(&self.entries[i], ctx) {
                Call::Ready(outcome) => {
                    if let Some(blocked) = self.record(outcome) {
                        return Some(blocked);
                    }
                }
                Call::Pending(fut) => return Some(Blocked::Pending(fut)),
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
            Outcome::Failed(f) => {
                self.ns.log_failure(&self.event, entry, &f);
                self.failed.get_or_insert((entry.owner.clone(), f.clone()));
                self.ns
                    .has_error_subscribers()
                    .then_some(Blocked::Report(f))
            }
            Outcome::Rejected(reason) => {
                tracing::info!(namespace = %self.ns.path, event = %self.event, handler = %entry.owner, reason, "event rejected");
                self.rejected = Some((entry.owner.clone(), reason));
                self.next = self.entries.len();
                None
            }
        }
    }

    /// Goes on in a task of its own from `blocked`.
    async fn run_async(mut self, mut blocked: Blocked) {
        loop {
            match blocked {
                Blocked::Pending(fut) => {
                    let outcome = finish(fut).await;
                    if let Some(b) = self.record(outcome) {
                        blocked = b;
                        continue;
                    }
                }
                Blocked::Report(failure) => {
                    let entry = &self.entries[self.next - 1];
                    self.ns
                        .run_error_subscribers(&self.socket, &self.event, entry, &failure)
                        .await;
                }
            }
            match self.run_ready() {
                Some(b) => blocked = b,
                None => break,
            }
        }
        self.answer();
    }

    /// Answers the ack, when the client asked for one.
    fn answer(self) {
        let Some(id) = self.ack else { return };
        let reply = match (self.rejected, self.reply, self.failed) {
            (Some((owner, reason)), _, _) => Answer::Error(
                json!({ "error": { "handler": &*owner, "kind": "rejected", "message": reason } }),
            ),
            (None, Some(v), _) => Answer::Reply(v),
            (None, None, Some((owner, f))) => Answer::Error(error_ack(&owner, &f)),
            (None, None, None) => Answer::Empty,
        };
        answer(&self.socket, id, reply);
    }
}

/// Counts a dispatch as under way until it is dropped, so shutdown can wait for it.
pub(crate) struct Dispatching(Arc<Namespace>);

impl Dispatching {
    pub(crate) fn new(ns: &Arc<Namespace>) -> Self {
        ns.inflight.enter();
        Self(ns.clone())
    }

    pub(crate) fn ns(&self) -> &Arc<Namespace> {
        &self.0
    }
}

impl Drop for Dispatching {
    fn drop(&mut self) {
        self.0.inflight.leave();
    }
}

impl Namespace {
    /// Dispatches an emitted event: at once while subscribers answer at once, then in a
    /// task of its own; answers the ack at the end.
    pub(crate) fn dispatch_message(
        self: &Arc<Self>,
        s: Arc<Socket>,
        mut data: Value,
        ack: Option<i64>,
    ) {
        let event = match plain_event_name(&data) {
            Some(name) => name,
            None => match socketioxide::extract::Event::from_message_parts(&s, &mut data, &None) {
                Ok(e) => Str::from(e.0),
                Err(e) => {
                    tracing::warn!(namespace = %self.path, error = %e, "unreadable event name");
                    return;
                }
            },
        };
        let Some(entries) = self.table.get(&event) else {
            tracing::warn!(namespace = %self.path, event = %event, "no subscriber for event");
            if let Some(id) = ack {
                let message = format!("no subscriber for event {:?}", &*event);
                let error = json!({ "error": { "kind": "unknown_event", "message": message } });
                answer(&s, id, Answer::Error(error));
            }
            return;
        };
        let inflight = Dispatching::new(self);
        let mut dispatch = Dispatch {
            ns: self.clone(),
            socket: s,
            event,
            entries,
            data: Some(data),
            ack,
            next: 0,
            reply: None,
            failed: None,
            rejected: None,
        };
        match dispatch.run_ready() {
            None => dispatch.answer(),
            Some(blocked) => {
                tokio::spawn(async move {
                    let _inflight = inflight;
                    dispatch.run_async(blocked).await;
                });
            }
        }
    }

    /// Runs the `connect` subscribers; the first failure refuses the connection with
    /// its text.
    pub(crate) async fn dispatch_connect(
        &self,
        s: Arc<Socket>,
        auth: &Option<Value>,
    ) -> Result<(), String> {
        let Some(entries) = self.table.get("connect") else {
            return Ok(());
        };
        for entry in entries.iter() {
            let ctx = EventCtx {
                socket: &s,
                event: "connect",
                payload: Payload::Connect(auth),
            };
            let refusal = match run(entry, ctx).await {
                Outcome::Nothing | Outcome::Reply(_) => continue,
                Outcome::Rejected(reason) => reason,
                Outcome::Failed(f) if f.kind == FailureKind::Returned => f.message,
                Outcome::Failed(f) => {
                    self.log_failure("connect", entry, &f);
                    self.run_error_subscribers(&s, "connect", entry, &f).await;
                    return Err(match f.kind {
                        FailureKind::Panicked => "internal error".to_owned(),
                        _ => f.to_string(),
                    });
                }
            };
            tracing::info!(namespace = %self.path, handler = %entry.owner, reason = %refusal, "connection refused");
            return Err(refusal);
        }
        Ok(())
    }

    /// Runs every `disconnect` subscriber in order.
    pub(crate) async fn dispatch_disconnect(&self, s: Arc<Socket>, reason: DisconnectReason) {
        let Some(entries) = self.table.get("disconnect") else {
            return;
        };
        for entry in entries.iter() {
            let ctx = EventCtx {
                socket: &s,
                event: "disconnect",
                payload: Payload::Disconnect(reason),
            };
            match run(entry, ctx).await {
                Outcome::Failed(f) => {
                    self.log_failure("disconnect", entry, &f);
                    self.run_error_subscribers(&s, "disconnect", entry, &f)
                        .await;
                }
                Outcome::Rejected(_) => break,
                Outcome::Nothing | Outcome::Reply(_) => {}
            }
        }
    }

    /// The one log line of a failure.
    fn log_failure(&self, event: &str, entry: &Entry, failure: &Failure) {
        tracing::error!(
            namespace = %self.path,
            event,
            handler = %entry.owner,
            source = %entry.source,
            error = %failure,
            "subscriber failed"
        );
    }

    fn has_error_subscribers(&self) -> bool {
        !self.errors.list.read().unwrap().is_empty()
    }

    /// Hands a failure to the error subscribers, in order; one that panics is logged.
    async fn run_error_subscribers(
        &self,
        s: &Arc<Socket>,
        event: &str,
        entry: &Entry,
        failure: &Failure,
    ) {
        let subscribers = self.errors.list.read().unwrap().clone();
        for sub in subscribers.iter() {
            let e = ErrorEvent {
                namespace: self.path.clone(),
                event: event.to_owned(),
                owner: entry.owner.clone(),
                source: entry.source,
                failure: failure.clone(),
                socket: SocketRef::from(s.clone()),
            };
            let run = std::panic::catch_unwind(AssertUnwindSafe(|| (sub.callback)(e)));
            let ok = match run {
                Ok(fut) => AssertUnwindSafe(fut).catch_unwind().await.is_ok(),
                Err(_) => false,
            };
            if !ok {
                tracing::error!(namespace = %self.path, event, "error subscriber panicked");
            }
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
