//! Connection state recovery: what a client missed while its connection was away,
//! given back when it comes back ([`RecoverySettings`]).
//!
//! Each socket that asks for it (the client module `specter-recovery.mjs` does) has a
//! session: a private id (`pid`), and a log of the events emitted to it through
//! Specter's emits ([`Deliver`](crate::Deliver), [`Outbox`](crate::Outbox), their typed
//! and broadcast forms), each numbered in order. Each such event carries its number as
//! its last argument (`"\u{1f}specter:<n>"`), which the module takes off before the
//! app's listeners see it and sends back, with the pid, when it connects again. The log
//! keeps the last [`max_events`](RecoverySettings::max_events) and
//! [`max_bytes`](RecoverySettings::max_bytes); while the client is away it holds
//! what it is sent, up to the same bounds, for
//! [`max_disconnection`](RecoverySettings::max_disconnection).
//!
//! Why a module: socketioxide's CONNECT answer carries only the socket's id (no `pid`),
//! so a stock socket.io-client never asks to recover.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::ser::{Serialize, SerializeTuple, Serializer};
use serde_json::value::RawValue;
use socketioxide::socket::Sid;

use crate::adapter::{Socket, SocketRef};
use crate::subscriber::carried_session::{CarriedSession, CopyValue, copy_value};
use crate::subscriber::delivery::{Delivery, Sending, Undelivered};
use crate::subscriber::extract::{EventCtx, ExtractError, FromEvent, Payload};

/// The key of the CONNECT packet's auth under which the client module asks to recover:
/// `{"specterRecovery": {"pid": .., "offset": ..}}` (both `null` on a first connect).
pub(crate) const AUTH_KEY: &str = "specterRecovery";

/// The event that tells the client module its session, first after the CONNECT answer:
/// `{"pid": .., "recovered": bool, "id": ..}`.
pub(crate) const SESSION_EVENT: &str = "specter:session";

/// What marks an event's last argument as its number in the session's log.
pub(crate) const OFFSET_PREFIX: &str = "\u{1f}specter:";

/// How connection state recovery is bounded: the app's
/// [`DispatchSettings::recovery`](crate::DispatchSettings::recovery).
///
/// ```
/// use std::time::Duration;
/// use specter::{DispatchSettings, RecoverySettings};
///
/// let settings = DispatchSettings::default().recovery(RecoverySettings {
///     max_disconnection: Duration::from_secs(30),
///     ..RecoverySettings::default()
/// });
/// # let _ = settings;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoverySettings {
    /// How long a session waits for its client to come back (default 2 minutes, as
    /// node's): past it, the session ends and the `disconnect` subscribers run
    /// ([`Recovery::TimedOut`]).
    pub max_disconnection: Duration,
    /// How many events a session's log keeps (default 1,000): while the client is
    /// away, one more ends the session ([`Recovery::Overflowed`]); while it is
    /// connected, the oldest is forgotten.
    pub max_events: usize,
    /// How many bytes of events a session's log keeps (default 1 MiB), as
    /// [`max_events`](Self::max_events).
    pub max_bytes: usize,
    /// How many sessions of a namespace may wait for their clients at once (default
    /// 10,000): past it, a lost connection is not kept, its `disconnect` subscribers
    /// run at once ([`Recovery::Crowded`]) and its client starts afresh.
    pub max_away: usize,
}

impl Default for RecoverySettings {
    fn default() -> Self {
        Self {
            max_disconnection: Duration::from_secs(120),
            max_events: 1000,
            max_bytes: 1 << 20,
            max_away: 10_000,
        }
    }
}

/// What a `connect` or `disconnect` subscriber knows of the socket's session (an
/// argument).
///
/// ```
/// use specter::prelude::*;
/// use specter::{Recovery, SocketIngress};
///
/// fn on_connect(recovery: Recovery) {
///     if let Recovery::Recovered { previous } = recovery {
///         println!("back, was {previous}: its rooms, session and missed events restored");
///     }
/// }
/// # let (_layer, io) = specter::SocketIo::new_layer();
/// # SocketIngress::new(io).on("connect", on_connect).owner("chat").subscribe().unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// A new connection (no session came back).
    New,
    /// The connection of a session that came back within its bounds: the socket joined
    /// its rooms again, has its [`Session`](crate::Session) values (from another node,
    /// those of the types declared with [`carry_session!`](crate::carry_session)), and
    /// is sent what it missed before anything new. `previous` is the id of the socket
    /// it replaces.
    Recovered {
        /// The id of the socket whose session this one continues.
        previous: Sid,
    },
    /// `disconnect`: the client left, or its socket had no session to wait in.
    Left,
    /// `disconnect`: the client did not come back within
    /// [`max_disconnection`](RecoverySettings::max_disconnection).
    TimedOut,
    /// `disconnect`: more was emitted to the client while it was away than its session
    /// may hold.
    Overflowed,
    /// `disconnect`: the server shut down, while the client was away or connected.
    Shutdown,
    /// `disconnect`: the connection was lost while as many sessions as the namespace
    /// may hold ([`max_away`](RecoverySettings::max_away)) waited for their clients.
    Crowded,
}

/// How a session ended, on the socket whose `disconnect` subscribers run.
#[derive(Clone, Copy)]
pub(crate) struct Ended(pub Recovery);

impl FromEvent for Recovery {
    fn from_event(ctx: &mut EventCtx<'_>) -> Result<Self, ExtractError> {
        let extensions = &ctx.socket.extensions;
        Ok(match ctx.payload {
            Payload::Disconnect(_) => extensions.get::<Ended>().map_or(Recovery::Left, |e| e.0),
            _ => extensions.get::<Recovery>().unwrap_or(Recovery::New),
        })
    }
}

/// The types of the socket's [`Session`](crate::Session) values, each with how to copy
/// it to another socket: what a recovered socket gets from the one it replaces (and,
/// for a type declared with [`carry_session!`](crate::carry_session), how to write it
/// for another node).
#[derive(Clone, Default)]
pub(crate) struct SessionTypes(Arc<Mutex<Vec<Noted>>>);

/// One type of session value.
#[derive(Clone, Copy)]
struct Noted {
    id: std::any::TypeId,
    copy: CopyValue,
    carried: Option<&'static CarriedSession>,
}

/// Session values written for another node: each type's name, and its value as JSON.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) type CarriedValues = Vec<(String, Box<RawValue>)>;

impl SessionTypes {
    /// Notes that `socket`, when it has a recovery session, has a session value of
    /// type `T`.
    pub fn note<T: Clone + Send + Sync + 'static>(socket: &SocketRef) {
        if socket.extensions.get::<Arc<SessionLog>>().is_none() {
            return;
        }
        let id = std::any::TypeId::of::<T>();
        let types = Self::of(socket);
        let mut list = types.0.lock().unwrap();
        if !list.iter().any(|t| t.id == id) {
            let carried = CarriedSession::find(id);
            let copy = copy_value::<T>;
            list.push(Noted { id, copy, carried });
        }
    }

    /// The types noted on `socket`, noted there from now on if it had none.
    fn of(socket: &Socket) -> Self {
        match socket.extensions.get::<SessionTypes>() {
            Some(types) => types,
            None => {
                let types = SessionTypes::default();
                socket.extensions.insert(types.clone());
                types
            }
        }
    }

    /// Copies every session value of `from` to `to`.
    pub fn copy(from: &Socket, to: &Socket) {
        let Some(types) = from.extensions.get::<SessionTypes>() else {
            return;
        };
        for noted in types.0.lock().unwrap().iter() {
            (noted.copy)(&from.extensions, &to.extensions);
        }
        to.extensions.insert(types);
    }

    /// The session values of `from` that may follow it to another node.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub fn write(from: &Socket) -> CarriedValues {
        let Some(types) = from.extensions.get::<SessionTypes>() else {
            return Vec::new();
        };
        let list = types.0.lock().unwrap();
        let carried = list.iter().filter_map(|noted| noted.carried);
        carried.filter_map(|c| c.write(&from.extensions)).collect()
    }

    /// Sets on `to` the session values another node wrote ([`write`](Self::write)),
    /// those of the types this node knows.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub fn read(to: &Socket, values: &CarriedValues) {
        if values.is_empty() {
            return;
        }
        let types = Self::of(to);
        let mut list = types.0.lock().unwrap();
        for (name, json) in values {
            let Some(carried) = CarriedSession::read(name, json, &to.extensions) else {
                continue;
            };
            let id = carried.type_id();
            if !list.iter().any(|t| t.id == id) {
                let copy = carried.copy;
                list.push(Noted {
                    id,
                    copy,
                    carried: Some(carried),
                });
            }
        }
    }
}

/// One event of a session's log.
struct Entry {
    seq: u64,
    event: Arc<str>,
    args: Arc<[Box<RawValue>]>,
    bytes: usize,
    /// The broadcast it came with, if any: the same on every node that delivers it.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    id: Option<Sid>,
}

/// An event of a log carried to another node, which takes the session over (`seq` 0
/// once the session is being handed: the other node numbers it).
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct Carried {
    pub seq: u64,
    pub event: String,
    pub args: Vec<Box<RawValue>>,
    pub id: Option<String>,
}

#[cfg_attr(not(feature = "redis"), allow(dead_code))]
impl Carried {
    fn of(entry: &Entry) -> Self {
        Self {
            seq: entry.seq,
            event: entry.event.to_string(),
            args: entry.args.to_vec(),
            id: entry.id.map(|id| id.to_string()),
        }
    }

    pub fn broadcast(&self) -> Option<Sid> {
        self.id.as_deref().and_then(|id| id.parse().ok())
    }
}

/// A session's log, shared by the sockets of the session (the one away, the one that
/// came back) through their extensions.
pub(crate) struct SessionLog {
    pub pid: String,
    /// The id of the session's first socket: the id the client module gives the
    /// client, and a room every later socket of the session joins.
    pub first_id: Sid,
    settings: RecoverySettings,
    state: Mutex<LogState>,
    /// Told when the log overflows while the client is away.
    pub overflowed: tokio::sync::Notify,
}

struct LogState {
    /// The number of the next event.
    next: u64,
    entries: VecDeque<Entry>,
    bytes: usize,
    /// The last number handed to the current socket.
    sent: u64,
    /// The socket events are sent to; `None` while the client is away.
    current: Option<SocketRef>,
    /// Whether a task is sending the log's unsent events.
    draining: bool,
    /// The log overflowed while the client was away: not recoverable.
    overflowed: bool,
    /// While another node takes the session over: where what is emitted now goes,
    /// instead of the log.
    forward: Option<tokio::sync::mpsc::UnboundedSender<Carried>>,
    /// How many events were forwarded so far.
    forwarded: usize,
    /// While this node takes the session over from another: the broadcasts that node
    /// handed or forwarded, so that one reaching this node too is logged once.
    seen: Option<std::collections::HashSet<Sid>>,
    /// Meanwhile, what this node emits to the session: logged after everything the
    /// other node forwards ([`done`](SessionLog::done)).
    waiting: Option<Vec<Carried>>,
}

/// How an event reaches a session's log.
#[derive(Clone, Copy)]
pub(crate) enum Via {
    /// Emitted on this node.
    Here,
    /// Forwarded by the node that handed the session over.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    Forwarded,
}

impl LogState {
    fn holds_after(&self, offset: u64) -> bool {
        let first = self.entries.front().map_or(self.next, |e| e.seq);
        !self.overflowed && offset < self.next && offset + 1 >= first
    }
}

/// An event's arguments, then its number.
struct Numbered<'a>(&'a [Box<RawValue>], u64);

impl Serialize for Numbered<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // A tuple: socketioxide spreads it into the event's arguments.
        let mut seq = serializer.serialize_tuple(self.0.len() + 1)?;
        for arg in self.0 {
            seq.serialize_element(arg)?;
        }
        seq.serialize_element(&format_args!("{OFFSET_PREFIX}{}", self.1))?;
        seq.end()
    }
}

impl SessionLog {
    /// A new session, of the socket `first_id`; it sends once it is
    /// [`resume`](Self::resume)d from offset 0, when the socket is connected.
    pub fn new(settings: RecoverySettings, first_id: Sid) -> Arc<Self> {
        Arc::new(Self {
            pid: new_pid(),
            first_id,
            settings,
            state: Mutex::new(LogState {
                next: 1,
                entries: VecDeque::new(),
                bytes: 0,
                sent: 0,
                current: None,
                draining: false,
                overflowed: false,
                forward: None,
                forwarded: 0,
                seen: None,
                waiting: None,
            }),
            overflowed: tokio::sync::Notify::new(),
        })
    }

    /// The session `pid` that another node hands over: its log held `entries` (every
    /// one after the client's offset) and numbered up to `next`. Until
    /// [`done`](Self::done), what is emitted here waits behind what that node forwards
    /// ([`emit_forwarded`](Self::emit_forwarded)), and a broadcast is logged once.
    #[cfg(feature = "redis")]
    pub fn handed(
        settings: RecoverySettings,
        pid: String,
        first_id: Sid,
        next: u64,
        entries: Vec<Carried>,
    ) -> Arc<Self> {
        let mut seen = std::collections::HashSet::new();
        let mut bytes = 0;
        let entries: VecDeque<Entry> = entries
            .into_iter()
            .map(|c| {
                let id = c.broadcast();
                seen.extend(id);
                let size = c.event.len() + c.args.iter().map(|a| a.get().len()).sum::<usize>();
                bytes += size;
                Entry {
                    seq: c.seq,
                    event: Arc::from(c.event),
                    args: c.args.into(),
                    bytes: size,
                    id,
                }
            })
            .collect();
        Arc::new(Self {
            pid,
            first_id,
            settings,
            state: Mutex::new(LogState {
                next,
                entries,
                bytes,
                sent: 0,
                current: None,
                draining: false,
                overflowed: false,
                forward: None,
                forwarded: 0,
                seen: Some(seen),
                waiting: Some(Vec::new()),
            }),
            overflowed: tokio::sync::Notify::new(),
        })
    }

    /// The session is handed over to another node, whose client had every event up to
    /// `offset`: the events after it, the number of the next, and what is emitted from
    /// now on (instead of being logged), until [`stop_forwarding`](Self::stop_forwarding);
    /// `None` when the log does not hold every event after `offset`.
    #[cfg(feature = "redis")]
    pub fn hand_over(
        &self,
        offset: u64,
    ) -> Option<(
        Vec<Carried>,
        u64,
        tokio::sync::mpsc::UnboundedReceiver<Carried>,
    )> {
        let mut state = self.state.lock().unwrap();
        if !state.holds_after(offset) {
            return None;
        }
        state.current = None;
        let after = state.entries.iter().filter(|e| e.seq > offset);
        let entries = after.map(Carried::of).collect();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        state.forward = Some(tx);
        Some((entries, state.next, rx))
    }

    /// The other node has the session: nothing more goes to it from here.
    #[cfg(feature = "redis")]
    pub fn stop_forwarding(&self) {
        self.state.lock().unwrap().forward = None;
    }

    /// The other node forwards nothing more: what was emitted here meanwhile is logged
    /// now, after what it forwarded (without what it forwarded already), and from now on
    /// everything is logged as it comes.
    #[cfg(feature = "redis")]
    pub async fn done(&self, delivery: &Delivery) {
        let send = {
            let mut state = self.state.lock().unwrap();
            let seen = state.seen.take().unwrap_or_default();
            let waiting = state.waiting.take().unwrap_or_default();
            let mut send = false;
            for event in waiting {
                let id = event.broadcast();
                if id.is_some_and(|id| seen.contains(&id)) {
                    continue;
                }
                match self.push(&mut state, &event.event, event.args.into(), id) {
                    Ok(drain) => send |= drain,
                    Err(_) => break,
                }
            }
            send
        };
        if send {
            self.drain(delivery).await;
        }
    }

    /// Logs `event` with `args` and sends what is unsent, in order, waiting for room
    /// (unless another task is sending them already: it sends this one too). `Ok` once
    /// it is logged: sent, or to be sent when the client is back. `Closed` when the log
    /// overflowed while the client was away: the session is over.
    ///
    /// `id` is the broadcast it comes with, if any. While the session is handed to
    /// another node, it goes there instead; while it is taken from another, it waits
    /// behind what that node forwards ([`done`](Self::done)).
    pub async fn emit(
        &self,
        delivery: &Delivery,
        event: &str,
        args: Arc<[Box<RawValue>]>,
        id: Option<Sid>,
    ) -> Result<(), Undelivered> {
        self.log(delivery, event, args, id, Via::Here).await
    }

    /// Logs `event` as the node that handed this session over forwards it (see
    /// [`handed`](Self::handed)): in that node's order, each broadcast once.
    #[cfg(feature = "redis")]
    pub async fn emit_forwarded(
        &self,
        delivery: &Delivery,
        event: &str,
        args: Arc<[Box<RawValue>]>,
        id: Option<Sid>,
    ) -> Result<(), Undelivered> {
        self.log(delivery, event, args, id, Via::Forwarded).await
    }

    async fn log(
        &self,
        delivery: &Delivery,
        event: &str,
        args: Arc<[Box<RawValue>]>,
        id: Option<Sid>,
        via: Via,
    ) -> Result<(), Undelivered> {
        if self.log_now(event, args, id, via)? {
            self.drain(delivery).await;
        }
        Ok(())
    }

    /// Logs `event` at once, without sending it: `Ok(true)` when the caller is to send
    /// what is unsent ([`drain`](Self::drain)), as no other task does.
    pub fn log_now(
        &self,
        event: &str,
        args: Arc<[Box<RawValue>]>,
        id: Option<Sid>,
        via: Via,
    ) -> Result<bool, Undelivered> {
        let mut state = self.state.lock().unwrap();
        if state.overflowed {
            return Err(Undelivered::Closed);
        }
        let carried = || Carried {
            seq: 0,
            event: event.to_owned(),
            args: args.to_vec(),
            id: id.map(|id| id.to_string()),
        };
        if let Some(forward) = &state.forward {
            let _ = forward.send(carried());
            // What is forwarded counts as held: past the log's bounds the session
            // ends, as it would while its client is away.
            state.forwarded += 1;
            if state.forwarded > self.settings.max_events {
                state.forward = None;
                state.overflowed = true;
                self.overflowed.notify_one();
                return Err(Undelivered::Closed);
            }
            return Ok(false);
        }
        match via {
            // While the other node forwards, what comes here waits behind it.
            Via::Here => {
                if let Some(waiting) = &mut state.waiting {
                    waiting.push(carried());
                    return Ok(false);
                }
            }
            Via::Forwarded => {
                if let (Some(seen), Some(id)) = (&mut state.seen, id) {
                    if !seen.insert(id) {
                        return Ok(false);
                    }
                }
            }
        }
        self.push(&mut state, event, args, id)
    }

    /// Appends an event under the lock: `Ok(true)` when the caller is to send what is
    /// unsent (no other task does); `Closed` when it overflows the log of a client away.
    fn push(
        &self,
        state: &mut LogState,
        event: &str,
        args: Arc<[Box<RawValue>]>,
        id: Option<Sid>,
    ) -> Result<bool, Undelivered> {
        let bytes = event.len() + args.iter().map(|a| a.get().len()).sum::<usize>();
        let seq = state.next;
        state.next += 1;
        state.bytes += bytes;
        state.entries.push_back(Entry {
            seq,
            event: Arc::from(event),
            args,
            bytes,
            id,
        });
        let settings = self.settings;
        let over = move |s: &LogState| {
            s.entries.len() > settings.max_events || s.bytes > settings.max_bytes
        };
        if state.current.is_none() {
            if over(state) {
                state.overflowed = true;
                state.entries.clear();
                state.bytes = 0;
                self.overflowed.notify_one();
                return Err(Undelivered::Closed);
            }
            return Ok(false);
        }
        while over(state) {
            let Some(old) = state.entries.pop_front() else {
                break;
            };
            state.bytes -= old.bytes;
        }
        Ok(!std::mem::replace(&mut state.draining, true))
    }

    /// Sends the unsent events to the current socket, in order: the task that set
    /// `draining` runs it, until nothing is unsent or the client is away.
    pub(crate) async fn drain(&self, delivery: &Delivery) {
        loop {
            let (socket, seq, event, args) = {
                let mut state = self.state.lock().unwrap();
                let first = state.entries.front().map_or(state.next, |e| e.seq);
                // Forgotten while unsent (the log is full): go on from the oldest kept.
                let seq = (state.sent + 1).max(first);
                let entry = state.entries.get((seq - first) as usize);
                let (Some(socket), Some(entry)) = (state.current.clone(), entry) else {
                    state.draining = false;
                    return;
                };
                (socket, seq, entry.event.clone(), entry.args.clone())
            };
            let sent = delivery
                .send_waiting(socket.id, Sending::Emit, || {
                    socket.emit(&*event, &Numbered(&args, seq))
                })
                .await;
            let mut state = self.state.lock().unwrap();
            if matches!(sent, Err(Undelivered::Closed | Undelivered::Stalled)) {
                // The rest waits for the client to come back.
                state.draining = false;
                return;
            }
            state.sent = state.sent.max(seq);
        }
    }

    /// Whether the log holds every event after `offset`: a client that had those up
    /// to `offset` can be recovered.
    pub fn can_resume(&self, offset: u64) -> bool {
        self.state.lock().unwrap().holds_after(offset)
    }

    /// The socket events are sent to, unless the client is away.
    pub fn socket(&self) -> Option<SocketRef> {
        self.state.lock().unwrap().current.clone()
    }

    /// The client went away: what is emitted now is kept for when it is back.
    pub fn away(&self) {
        self.state.lock().unwrap().current = None;
    }

    /// The client is back on `socket` and has had every event up to `offset`: `true`
    /// when the log still holds every later one, which are sent to `socket` now,
    /// before anything new; `false` when it does not (the session is over).
    pub async fn resume(&self, delivery: &Delivery, socket: SocketRef, offset: u64) -> bool {
        {
            let mut state = self.state.lock().unwrap();
            if !state.holds_after(offset) {
                return false;
            }
            state.sent = offset;
            state.current = Some(socket);
            if std::mem::replace(&mut state.draining, true) {
                return true;
            }
        }
        self.drain(delivery).await;
        true
    }

    /// The first argument of each event the log holds, as JSON text.
    #[cfg(all(test, feature = "redis"))]
    fn texts(&self) -> Vec<String> {
        let state = self.state.lock().unwrap();
        state
            .entries
            .iter()
            .map(|e| e.args[0].get().to_owned())
            .collect()
    }

    /// How many events and bytes the log holds.
    #[cfg(test)]
    fn held(&self) -> (usize, usize) {
        let state = self.state.lock().unwrap();
        (state.entries.len(), state.bytes)
    }
}

/// `args` (a tuple of arguments) as the JSON text of each argument, for the log; `None`
/// when they hold binary data (sent as attachments, outside the text), which is not
/// logged.
pub(crate) fn logged_args<T: Serialize + ?Sized>(
    args: &T,
) -> Result<Option<Arc<[Box<RawValue>]>>, Undelivered> {
    use socketioxide_core::Value;
    use socketioxide_core::parser::Parse;
    let encoded = socketioxide_parser_common::CommonParser
        .encode_value(args, None)
        .map_err(|e| Undelivered::Serialize(e.to_string()))?;
    let Value::Str(text, None) = encoded else {
        return Ok(None);
    };
    let args: Vec<Box<RawValue>> =
        serde_json::from_str(&text).map_err(|e| Undelivered::Serialize(e.to_string()))?;
    Ok(Some(args.into()))
}

/// A private session id: 192 random bits (two socket ids' worth).
fn new_pid() -> String {
    format!("{}{}", Sid::new(), Sid::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Arc<[Box<RawValue>]> {
        logged_args(&(text,)).unwrap().unwrap()
    }

    #[tokio::test]
    async fn a_log_holds_what_its_client_missed_within_its_bounds_or_ends() {
        let settings = RecoverySettings {
            max_events: 2,
            ..RecoverySettings::default()
        };
        let delivery = Delivery::new(Duration::from_secs(1));
        let log = SessionLog::new(settings, Sid::new());
        // Away (not resumed yet): kept.
        assert!(log.emit(&delivery, "said", args("one"), None).await.is_ok());
        assert!(log.emit(&delivery, "said", args("two"), None).await.is_ok());
        assert_eq!(log.held(), (2, "said\"one\"said\"two\"".len()));
        assert!(log.can_resume(0), "every event after 0 is held");
        assert!(log.can_resume(2), "nothing after 2 was missed");
        assert!(!log.can_resume(3), "an offset the log never gave");
        // One more than it may hold while away: the session is over.
        assert!(
            log.emit(&delivery, "said", args("three"), None)
                .await
                .is_err()
        );
        assert!(!log.can_resume(0) && !log.can_resume(3));
        assert_eq!(log.held(), (0, 0));
        assert!(
            log.emit(&delivery, "said", args("four"), None)
                .await
                .is_err()
        );
    }

    #[cfg(feature = "redis")]
    #[tokio::test]
    async fn a_session_handed_to_another_node_logs_each_broadcast_once() {
        let delivery = Delivery::new(Duration::from_secs(1));
        let settings = RecoverySettings::default();
        let keeper = SessionLog::new(settings, Sid::new());
        let (one, two) = (Sid::new(), Sid::new());
        keeper
            .emit(&delivery, "said", args("one"), Some(one))
            .await
            .unwrap();
        keeper
            .emit(&delivery, "said", args("direct"), None)
            .await
            .unwrap();
        // The client had event 1: the keeper hands what follows, then forwards.
        let (entries, next, mut forwarded) = keeper.hand_over(1).expect("held after 1");
        assert_eq!((entries.len(), next), (1, 3));
        keeper
            .emit(&delivery, "said", args("two"), Some(two))
            .await
            .unwrap();
        keeper.stop_forwarding();
        keeper
            .emit(&delivery, "said", args("gone"), None)
            .await
            .unwrap();
        let mut carried = Vec::new();
        while let Ok(event) = forwarded.try_recv() {
            carried.push(event);
        }
        assert_eq!(
            carried.len(),
            1,
            "only what came between the hand-over and joined"
        );

        let taker = SessionLog::handed(settings, "pid".into(), Sid::new(), next, entries);
        assert!(
            taker.can_resume(1) && !taker.can_resume(0),
            "events after 1 only"
        );
        // `two` reaches the taker twice (its socket in the rooms, and forwarded), and
        // `three` here only, before the keeper is done forwarding.
        let three = Sid::new();
        taker
            .emit(&delivery, "said", args("two"), Some(two))
            .await
            .unwrap();
        taker
            .emit(&delivery, "said", args("three"), Some(three))
            .await
            .unwrap();
        assert_eq!(
            taker.held().0,
            1,
            "what comes here waits behind what is forwarded"
        );
        for event in carried {
            let (id, args) = (event.broadcast(), event.args.into());
            taker
                .emit_forwarded(&delivery, &event.event, args, id)
                .await
                .unwrap();
        }
        taker.done(&delivery).await;
        assert_eq!(
            taker.texts(),
            ["\"direct\"", "\"two\"", "\"three\""],
            "the keeper's order, then what came here, each once"
        );
        taker
            .emit(&delivery, "said", args("two"), Some(two))
            .await
            .unwrap();
        assert_eq!(taker.held().0, 4, "once done, nothing waits nor is skipped");
    }

    #[test]
    fn binary_arguments_are_not_logged() {
        let file = (bytes::Bytes::from_static(b"\x00\x01"),);
        assert!(logged_args(&file).unwrap().is_none());
        let text = args("olá \"x\"");
        assert_eq!(text[0].get(), r#""olá \"x\"""#);
    }
}
