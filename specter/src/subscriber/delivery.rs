//! Delivery: sending what the server owes a client (acks, emits) without losing it to a
//! momentarily full buffer, and the policy for a client that stops reading.
//!
//! socketioxide queues each connection's outgoing packets in a bounded buffer
//! (`max_buffer_size` packets) and fails a send at once when it is full. Specter's
//! sends wait for room instead, for at most the send timeout
//! ([`DispatchSettings::send_timeout`](crate::DispatchSettings::send_timeout)); past that
//! the client counts as *stalled*: the send is dropped (logged at `warn`, counted in
//! [`DeliveryStats`]), later sends to it do not wait, and engine.io's heartbeat
//! disconnects it at its next ping, which finds the buffer full.

use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::Serialize;
use socketioxide::operators::BroadcastOperators;
use socketioxide::socket::Sid;
use socketioxide::{SendError, SocketError};

use crate::adapter::node_bus::NodeBus;
use crate::adapter::{Adapter, SocketRef};
use crate::subscriber::server_event::ServerEvent;

/// What delivery had to give up, since the app started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryStats {
    /// Acks that could not be sent: the client was gone or stalled.
    pub acks_dropped: u64,
    /// Emits that could not be sent, per recipient: the client was gone or stalled.
    pub emits_dropped: u64,
    /// Clients that stopped reading past the send timeout.
    pub stalled_clients: u64,
    /// Events refused with kind `overloaded`: their socket had too many waiting.
    pub overloaded_events: u64,
    /// Events refused with kind `rate_limited`.
    pub rate_limited_events: u64,
    /// Volatile emits dropped because the client's buffer was full
    /// ([`Deliver::emit_volatile`]).
    pub volatile_dropped: u64,
}

/// The delivery state of an app: how long a send waits for room, its counters, the
/// stalled clients.
#[derive(Debug, Default)]
pub(crate) struct Delivery {
    send_timeout: Duration,
    acks_dropped: AtomicU64,
    emits_dropped: AtomicU64,
    stalled_clients: AtomicU64,
    overloaded_events: AtomicU64,
    rate_limited_events: AtomicU64,
    volatile_dropped: AtomicU64,
    stalled: Mutex<HashSet<Sid>>,
    /// Whether every socket's packets are JSON text (the app does not speak
    /// MessagePack), which lets a broadcast from outside a subscriber be serialized once.
    text_wire: AtomicBool,
    /// Node events: alone until the builder links them to the other nodes.
    nodes: OnceLock<Arc<NodeBus>>,
    /// Whether the app recovers connections (emits to a socket with a session are
    /// logged: `recovery`).
    recovering: AtomicBool,
    /// The handovers of sessions between nodes, when the app recovers connections on
    /// several.
    #[cfg(feature = "redis")]
    across: OnceLock<Arc<crate::ingress::handover::Across>>,
}

/// Why a send did not reach its client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Undelivered {
    /// The client is gone.
    Closed,
    /// The client stopped reading: its buffer stayed full past the send timeout.
    Stalled,
    /// The client's buffer was full, and this send does not wait for room
    /// (volatile emits; a broadcast through the adapter of several nodes).
    Full,
    /// The value could not be serialized.
    Serialize(String),
    /// Some recipients of a broadcast were missed: how many, and of how many when
    /// that is known (a broadcast through the adapter knows only its failures).
    Missed {
        /// Recipients missed.
        missed: usize,
        /// Recipients in all, when known.
        of: Option<usize>,
    },
    /// The adapter could not reach the other nodes (feature `redis`); the clients of
    /// this node were sent the event.
    Adapter(String),
}

impl Undelivered {
    /// The one reading of socketioxide's send errors.
    pub(crate) fn from_send(e: SendError) -> Self {
        match e {
            SendError::Serialize(e) => Undelivered::Serialize(e.to_string()),
            SendError::Socket(SocketError::Closed) => Undelivered::Closed,
            SendError::Socket(SocketError::InternalChannelFull) => Undelivered::Full,
        }
    }

    /// The one reading of socketioxide's broadcast errors: `of` recipients, when known.
    pub(crate) fn from_broadcast(e: socketioxide::BroadcastError, of: Option<usize>) -> Self {
        match e {
            socketioxide::BroadcastError::Socket(errors) => Undelivered::Missed {
                missed: errors.len(),
                of,
            },
            socketioxide::BroadcastError::Serialize(e) => Undelivered::Serialize(e.to_string()),
            socketioxide::BroadcastError::Adapter(e) => Undelivered::Adapter(e.to_string()),
        }
    }
}

impl fmt::Display for Undelivered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Undelivered::Closed => f.write_str("the client is gone"),
            Undelivered::Stalled => f.write_str("the client stopped reading"),
            Undelivered::Full => f.write_str("the client's buffer was full"),
            Undelivered::Serialize(e) => write!(f, "not serializable: {e}"),
            Undelivered::Missed {
                missed,
                of: Some(of),
            } => {
                write!(f, "{missed} of {of} recipients were gone or stalled")
            }
            Undelivered::Missed { missed, of: None } => {
                write!(f, "{missed} recipients were gone or stalled")
            }
            Undelivered::Adapter(e) => write!(f, "the other nodes were not reached: {e}"),
        }
    }
}

impl std::error::Error for Undelivered {}

/// What a send is for, in logs and counters.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Sending {
    Ack,
    Emit,
}

impl Delivery {
    /// The delivery state of an app whose sends wait at most `send_timeout` for room.
    pub fn new(send_timeout: Duration) -> Self {
        Self {
            send_timeout,
            text_wire: AtomicBool::new(!cfg!(feature = "msgpack")),
            ..Self::default()
        }
    }

    /// The app's node events.
    pub(crate) fn nodes(&self) -> &Arc<NodeBus> {
        self.nodes.get_or_init(Arc::default)
    }

    /// Links the app's node events to the other nodes (before the first use).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn set_nodes(&self, nodes: Arc<NodeBus>) {
        let _ = self.nodes.set(nodes);
    }

    /// The recovery session of `socket`, when the app recovers connections and the
    /// socket has one.
    pub(crate) fn session_log(
        &self,
        socket: &SocketRef,
    ) -> Option<Arc<crate::subscriber::recovery::SessionLog>> {
        if !self.recovering.load(Ordering::Relaxed) {
            return None;
        }
        socket.extensions.get()
    }

    /// The room of this node's sockets, when the app recovers connections on several
    /// nodes ([`node_room`](crate::adapter::node_room)): its broadcasts reach the other
    /// nodes with it excepted.
    pub(crate) fn node_room(&self) -> Option<&str> {
        #[cfg(feature = "redis")]
        return self.across.get().map(|across| across.node_room());
        #[cfg(not(feature = "redis"))]
        None
    }

    /// The handovers of sessions between nodes (an app that recovers connections on
    /// several).
    #[cfg(feature = "redis")]
    pub(crate) fn across(&self) -> Option<&Arc<crate::ingress::handover::Across>> {
        self.across.get()
    }

    #[cfg(feature = "redis")]
    pub(crate) fn set_across(&self, across: Arc<crate::ingress::handover::Across>) {
        let _ = self.across.set(across);
    }

    /// The app recovers connections: emits look for the socket's session.
    pub(crate) fn set_recovering(&self) {
        self.recovering.store(true, Ordering::Relaxed);
    }

    /// Whether every socket's packets are JSON text.
    pub(crate) fn text_wire(&self) -> bool {
        self.text_wire.load(Ordering::Relaxed)
    }

    /// Says whether every socket's packets are JSON text (the builder knows).
    pub(crate) fn set_text_wire(&self, text: bool) {
        self.text_wire.store(text, Ordering::Relaxed);
    }

    /// The counters.
    pub fn stats(&self) -> DeliveryStats {
        DeliveryStats {
            acks_dropped: self.acks_dropped.load(Ordering::Relaxed),
            emits_dropped: self.emits_dropped.load(Ordering::Relaxed),
            stalled_clients: self.stalled_clients.load(Ordering::Relaxed),
            overloaded_events: self.overloaded_events.load(Ordering::Relaxed),
            rate_limited_events: self.rate_limited_events.load(Ordering::Relaxed),
            volatile_dropped: self.volatile_dropped.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn count_overloaded(&self) {
        self.overloaded_events.fetch_add(1, Ordering::Relaxed);
    }

    /// An ack given up without trying to wait (an `overloaded` answer to a full buffer).
    pub(crate) fn count_ack_dropped(&self) {
        self.acks_dropped.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_volatile_dropped(&self) {
        self.volatile_dropped.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_rate_limited(&self) {
        self.rate_limited_events.fetch_add(1, Ordering::Relaxed);
    }

    /// A socket left: forget that it was stalled.
    pub(crate) fn forget(&self, sid: Sid) {
        let mut stalled = self.stalled.lock().unwrap();
        if !stalled.is_empty() {
            stalled.remove(&sid);
        }
    }

    /// Sends with `send` (one attempt each call) to socket `sid`, waiting for room while
    /// its buffer is full, up to the policy's send timeout.
    pub(crate) async fn send_waiting<R>(
        &self,
        sid: Sid,
        what: Sending,
        mut send: impl FnMut() -> Result<R, SendError>,
    ) -> Result<R, Undelivered> {
        let mut waiter = self.waiter(sid, what);
        loop {
            match self.try_send(sid, what, &mut send) {
                Attempt::Done(result) => return result,
                Attempt::Full => waiter.wait().await?,
            }
        }
    }

    /// Waits between attempts to send to a full buffer.
    pub(crate) fn waiter(&self, sid: Sid, what: Sending) -> Waiter<'_> {
        Waiter {
            delivery: self,
            sid,
            what,
            start: Instant::now(),
            pause: Duration::from_millis(1),
        }
    }

    /// One attempt, without waiting: `Full` when the buffer is full.
    pub(crate) fn try_send<R>(
        &self,
        sid: Sid,
        what: Sending,
        send: impl FnOnce() -> Result<R, SendError>,
    ) -> Attempt<R> {
        match send().map_err(Undelivered::from_send) {
            Ok(sent) => Attempt::Done(Ok(sent)),
            Err(Undelivered::Full) => Attempt::Full,
            Err(why @ Undelivered::Closed) => Attempt::Done(Err(self.drop_send(sid, what, why))),
            Err(why) => Attempt::Done(Err(why)),
        }
    }

    /// An emit to `sid` that found its buffer full and does not wait (a broadcast of
    /// another node, as socketioxide's adapter delivers them): counted and logged.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn give_up_full(&self, sid: Sid) {
        self.drop_send(sid, Sending::Emit, Undelivered::Full);
    }

    fn drop_send(&self, sid: Sid, what: Sending, why: Undelivered) -> Undelivered {
        let counter = match what {
            Sending::Ack => &self.acks_dropped,
            Sending::Emit => &self.emits_dropped,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        match why {
            Undelivered::Closed => {
                tracing::debug!(socket = %sid, ?what, "not sent: the client is gone")
            }
            _ => tracing::warn!(socket = %sid, ?what, reason = %why, "not sent"),
        }
        why
    }
}

/// The pauses between attempts to send to one full buffer.
pub(crate) struct Waiter<'a> {
    delivery: &'a Delivery,
    sid: Sid,
    what: Sending,
    start: Instant,
    pause: Duration,
}

impl Waiter<'_> {
    /// Waits a little (1 ms, doubling to 50 ms) before the next attempt; gives up when
    /// the client is stalled, or becomes stalled now: its buffer stayed full past the
    /// send timeout.
    pub async fn wait(&mut self) -> Result<(), Undelivered> {
        let d = self.delivery;
        if d.stalled.lock().unwrap().contains(&self.sid) {
            return Err(d.drop_send(self.sid, self.what, Undelivered::Stalled));
        }
        if self.start.elapsed() >= d.send_timeout {
            d.stalled.lock().unwrap().insert(self.sid);
            d.stalled_clients.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                socket = %self.sid,
                waited = ?d.send_timeout,
                "client stopped reading: its outgoing buffer stayed full; it is disconnected at its next heartbeat"
            );
            return Err(d.drop_send(self.sid, self.what, Undelivered::Stalled));
        }
        tokio::time::sleep(self.pause).await;
        self.pause = (self.pause * 2).min(Duration::from_millis(50));
        Ok(())
    }
}

/// The result of one send attempt.
pub(crate) enum Attempt<R = ()> {
    /// Sent, or given up for good.
    Done(Result<R, Undelivered>),
    /// The buffer is full: try again later.
    Full,
}

/// Emits that wait for room in a full buffer instead of failing, as acks do: to the
/// socket of the event, or to every socket a socketioxide operator selects (a room,
/// everyone, everyone but this socket). A subscriber argument.
///
/// ```
/// use specter::prelude::*;
/// use specter::SocketIngress;
///
/// async fn on_message(
///     deliver: Deliver,
///     socket: SocketRef,
///     Data(text): Data<String>,
/// ) -> Result<(), specter::Undelivered> {
///     // every socket in the room, each waiting for room in its buffer if it must
///     deliver.to_all(socket.to("lobby"), "message", &text).await?;
///     // this socket
///     deliver.emit("sent", &true).await
/// }
/// # let (_layer, io) = specter::SocketIo::new_layer();
/// # SocketIngress::new(io).on("message", on_message).owner("chat").subscribe().unwrap();
/// ```
///
/// On several nodes (feature `redis`), [`to_all`](Self::to_all) goes through the
/// adapter to reach every node, and a full buffer fails at once as in socketioxide.
#[derive(Clone)]
pub struct Deliver {
    pub(crate) socket: SocketRef,
    pub(crate) delivery: Arc<Delivery>,
    /// Whether this socket's packets are JSON text (the event it came with says so),
    /// which a broadcast serializes once for all its recipients.
    text: bool,
}

impl fmt::Debug for Deliver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deliver")
            .field("socket", &self.socket.id)
            .finish()
    }
}

impl Deliver {
    /// The `Deliver` of an event of `socket` (extracted by `FromEvent`), whose packets
    /// are JSON `text`.
    pub(crate) fn new(socket: SocketRef, delivery: Arc<Delivery>, text: bool) -> Self {
        Self {
            socket,
            delivery,
            text,
        }
    }

    /// Emits `event` with `data` as its one argument to the socket of this event,
    /// waiting for room.
    pub async fn emit<T: Serialize + Sync + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), Undelivered> {
        emit_to(&self.delivery, &self.socket, event, &(data,)).await
    }

    /// Emits `event` with several arguments, by explicit choice: each element of the
    /// tuple `args` (or of an [`Args`](crate::Args)) is one argument, `(a, b) =>` in
    /// the client's listener.
    pub async fn emit_args<T: Serialize + Sync + ?Sized>(
        &self,
        event: &str,
        args: &T,
    ) -> Result<(), Undelivered> {
        emit_to(&self.delivery, &self.socket, event, args).await
    }

    /// Emits `event` with `data` as its one argument to every socket `targets` selects
    /// (`io.to("room")`, `socket.broadcast()`, `io.broadcast()`), each waiting for room
    /// on its own: a slow recipient delays this call (up to the send timeout), never the
    /// others' delivery. `data` is serialized once for all the recipients (JSON packets
    /// without binary data; else once per recipient).
    pub async fn to_all<T: Serialize + Sync + ?Sized>(
        &self,
        targets: BroadcastOperators<Adapter>,
        event: &str,
        data: &T,
    ) -> Result<(), Undelivered> {
        crate::subscriber::broadcast::to_all(&self.delivery, targets, event, data, self.text).await
    }

    /// Emits a typed [`ServerEvent`] to the socket of this event, waiting for room:
    /// the event's name comes with its type.
    pub async fn send<E: ServerEvent + Sync>(&self, event: &E) -> Result<(), Undelivered> {
        self.emit(E::NAME, event).await
    }

    /// Tells every other node of the app `event` (see [`NodeEvent`](crate::NodeEvent)).
    pub async fn to_nodes<E: crate::NodeEvent + Sync>(&self, event: &E) -> Result<(), Undelivered> {
        crate::subscriber::node_event::to_nodes(self.delivery.nodes(), event).await
    }

    /// Emits a typed [`ServerEvent`] to every socket `targets` selects, as
    /// [`to_all`](Self::to_all).
    pub async fn send_to<E: ServerEvent + Sync>(
        &self,
        targets: BroadcastOperators<Adapter>,
        event: &E,
    ) -> Result<(), Undelivered> {
        self.to_all(targets, E::NAME, event).await
    }
}

// What `Deliver` sends is one argument whatever its serde shape: socketioxide spreads a
// tuple-like value (a tuple, an array, a tuple struct) into arguments, and would read a
// newtype struct's inner value as the packet's own list of arguments. Hence `&(data,)`,
// but for `emit_args`.

pub(crate) async fn emit_to<T: Serialize + Sync + ?Sized>(
    delivery: &Delivery,
    socket: &SocketRef,
    event: &str,
    data: &T,
) -> Result<(), Undelivered> {
    if let Some(log) = delivery.session_log(socket) {
        if let Some(args) = crate::subscriber::recovery::logged_args(data)? {
            return log.emit(delivery, event, args, None).await;
        }
    }
    emit_now(delivery, socket, event, data).await
}

/// [`emit_to`], not logged for recovery.
pub(crate) async fn emit_now<T: Serialize + Sync + ?Sized>(
    delivery: &Delivery,
    socket: &SocketRef,
    event: &str,
    data: &T,
) -> Result<(), Undelivered> {
    delivery
        .send_waiting(socket.id, Sending::Emit, || socket.emit(event, data))
        .await
}
