//! The sessions of a namespace that recovers connections: which socket each one's
//! client is on, or since when it is away ([`crate::RecoverySettings`]; the log of a
//! session is [`SessionLog`]).
//!
//! - **Connect** (before the `connect` subscribers): a client that asks
//!   (`specterRecovery` in its auth, taken off before the app reads it) with the pid
//!   and offset of a session that still holds every event after that offset takes the
//!   session over: the new socket gets its [`Session`](crate::Session) values and
//!   [`Recovery::Recovered`]. Otherwise it gets a new session; a session that cannot
//!   be recovered any more ends ([`Recovery::Overflowed`]).
//! - **Connected** (after the CONNECT answer): the session event tells the client its
//!   pid, whether it was recovered and its id; a recovered socket joins the old one's
//!   rooms, the old one leaves, and the log sends what the client missed, before
//!   anything newer.
//! - **Disconnect**: a socket whose connection was lost (transport closed or failed,
//!   heartbeat timeout) stays in its rooms, away: what is emitted to it is logged, and
//!   its `disconnect` subscribers wait until the session ends, past
//!   `max_disconnection` ([`Recovery::TimedOut`]) or the log's bounds
//!   ([`Recovery::Overflowed`]). A client that leaves for good ends it at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value as Json;
use socketioxide::handler::Value;
use socketioxide::socket::DisconnectReason;
use tokio::sync::oneshot;

use crate::adapter::Socket;
use crate::subscriber::recovery::{
    AUTH_KEY, Ended, Recovery, RecoverySettings, SESSION_EVENT, SessionLog, SessionTypes,
};

/// The sessions of one namespace, by pid.
pub(crate) struct Sessions {
    pub settings: RecoverySettings,
    slots: Arc<Mutex<HashMap<String, Slot>>>,
    /// How many sessions wait for their clients (one per waiting task).
    away: Arc<AtomicUsize>,
}

struct Slot {
    log: Arc<SessionLog>,
    socket: Arc<Socket>,
    /// Set while the client is away: how to tell the socket's waiting task that the
    /// session was taken over (`None`) or ended.
    away: Option<oneshot::Sender<Option<Recovery>>>,
    /// The request of the node this session is being handed to, until it says it has
    /// joined (or gave up).
    #[cfg(feature = "redis")]
    handing: Option<String>,
}

/// What a client asked for in its auth.
pub(crate) struct Ask {
    pid: Option<String>,
    offset: u64,
}

/// A session a new socket takes over, until the socket is connected.
#[derive(Clone)]
pub(crate) struct Resuming {
    from: From,
    offset: u64,
}

/// Where a session taken over was.
#[derive(Clone)]
enum From {
    /// On this node, with its old socket.
    Here {
        old: Arc<Socket>,
        /// How to tell the old socket's task, when it is away, that the session was
        /// taken over (then it leaves); `None` when it is still connected (a polling
        /// client's old socket waits for its heartbeat).
        taken: Option<Taken>,
    },
    /// On another node, which handed over its rooms and waits for `joined`.
    #[cfg(feature = "redis")]
    Node {
        rooms: Vec<String>,
        joined: Arc<dyn Fn() + Send + Sync>,
        /// Tells that node the socket was refused: the session ends there.
        dropped: Arc<dyn Fn() + Send + Sync>,
    },
}

/// What this node hands over of a session it keeps, to another node.
#[cfg(feature = "redis")]
pub(crate) struct HandOut {
    pub first_id: socketioxide::socket::Sid,
    pub previous: socketioxide::socket::Sid,
    pub rooms: Vec<String>,
    pub next: u64,
    pub entries: Vec<crate::subscriber::recovery::Carried>,
    /// Its socket's session values of the types declared with `carry_session!`.
    pub values: crate::subscriber::recovery::CarriedValues,
}

type Taken = Arc<Mutex<Option<oneshot::Sender<Option<Recovery>>>>>;

impl Sessions {
    pub fn new(settings: RecoverySettings) -> Self {
        Self {
            settings,
            slots: Arc::default(),
            away: Arc::default(),
        }
    }

    /// `auth` without the client module's ask (for the `connected` hook).
    pub fn strip(auth: &Option<Value>) -> Option<Value> {
        take_ask(auth).0
    }

    /// Before the `connect` subscribers: gives socket `s` its session (taken over, here
    /// or from another node, or new) when its client asks for one in `auth`, which is
    /// returned without the ask.
    pub async fn connecting(
        &self,
        s: &Arc<Socket>,
        auth: &Option<Value>,
        delivery: &crate::subscriber::delivery::Delivery,
    ) -> Option<Value> {
        let (auth, ask) = take_ask(auth);
        let Some(ask) = ask else {
            return auth;
        };
        let log = match ask.pid {
            Some(pid) if self.has(&pid) => self.take_over(&pid, s, ask.offset),
            #[cfg(feature = "redis")]
            Some(pid) => match delivery.across() {
                Some(across) => {
                    let handed = across.take(s.ns(), &pid, ask.offset).await;
                    handed.map(|handed| self.take_from_node(s, handed, ask.offset))
                }
                None => None,
            },
            _ => None,
        };
        let _ = delivery;
        let log = log.unwrap_or_else(|| SessionLog::new(self.settings, s.id));
        s.extensions.insert(log);
        auth
    }

    /// The session `pid`, for socket `s` whose client had every event up to `offset`:
    /// its log when it can be recovered; `None` (and the session ended) when not.
    fn take_over(&self, pid: &str, s: &Arc<Socket>, offset: u64) -> Option<Arc<SessionLog>> {
        let slot = self.slots.lock().unwrap().remove(pid)?;
        // Back here while another node was being handed the session: that one's
        // request is over (it finds no session when it says `joined`).
        log_stop_forwarding(&slot.log);
        let Slot {
            log, socket, away, ..
        } = slot;
        if !log.can_resume(offset) {
            match away {
                Some(end) => {
                    let _ = end.send(Some(Recovery::Overflowed));
                }
                None => {
                    socket.extensions.insert(Ended(Recovery::Overflowed));
                    let _ = socket.clone().disconnect();
                }
            }
            return None;
        }
        log.away();
        SessionTypes::copy(&socket, s);
        s.extensions.insert(Recovery::Recovered {
            previous: socket.id,
        });
        // The old socket leaves once the new one has joined its rooms: `connected`.
        let taken = away.map(|taken| Arc::new(Mutex::new(Some(taken))));
        s.extensions.insert(Resuming {
            from: From::Here { old: socket, taken },
            offset,
        });
        Some(log)
    }

    /// Whether the session `pid` is on this node.
    fn has(&self, pid: &str) -> bool {
        self.slots.lock().unwrap().contains_key(pid)
    }

    /// Another node asks for the session `pid` (its request `req`), whose client had
    /// every event up to `offset`: `None` when it is not here (or being handed to
    /// another); `Some(None)` when it is but cannot be recovered (it ends); else what is
    /// handed over, and what the log forwards from now on (until
    /// [`handed_over`](Self::handed_over)).
    #[cfg(feature = "redis")]
    #[allow(clippy::type_complexity)]
    pub fn hand_over(
        &self,
        pid: &str,
        offset: u64,
        req: &str,
    ) -> Option<(
        Option<HandOut>,
        Option<tokio::sync::mpsc::UnboundedReceiver<crate::subscriber::recovery::Carried>>,
    )> {
        let mut slots = self.slots.lock().unwrap();
        let slot = slots.get_mut(pid)?;
        if slot.handing.is_some() {
            return None;
        }
        let Some((entries, next, forwarded)) = slot.log.hand_over(offset) else {
            drop(slots);
            self.end(pid, Recovery::Overflowed);
            return Some((None, None));
        };
        let node_room = crate::adapter::NODE_ROOM;
        let old = slot.socket.id.to_string();
        let rooms = slot.socket.rooms().into_iter().map(|r| r.to_string());
        let rooms = rooms.filter(|r| !r.starts_with(node_room) && *r != old);
        let out = HandOut {
            first_id: slot.log.first_id,
            previous: slot.socket.id,
            rooms: rooms.collect(),
            next,
            entries,
            values: SessionTypes::write(&slot.socket),
        };
        slot.handing = Some(req.to_owned());
        Some((Some(out), Some(forwarded)))
    }

    /// The slot of the session `pid` while it is handed to request `req`, taken out.
    #[cfg(feature = "redis")]
    fn handed_to(&self, pid: &str, req: &str) -> Option<Slot> {
        let mut slots = self.slots.lock().unwrap();
        let handing = slots.get(pid)?.handing.as_deref();
        if handing != Some(req) {
            return None;
        }
        slots.remove(pid)
    }

    /// The node that took the session `pid` over (its request `req`) has joined its
    /// rooms: the old socket leaves (its `disconnect` subscribers do not run).
    #[cfg(feature = "redis")]
    pub fn handed_over(&self, pid: &str, req: &str) {
        let Some(slot) = self.handed_to(pid, req) else {
            return;
        };
        slot.log.stop_forwarding();
        slot.socket.extensions.insert(Moved);
        match slot.away {
            Some(taken) => {
                let _ = taken.send(None);
            }
            None => {
                let _ = slot.socket.clone().disconnect();
            }
        }
    }

    /// The node that asked for the session `pid` (its request `req`) gave up, or never
    /// joined its rooms: the session ends ([`Recovery::Left`]).
    #[cfg(feature = "redis")]
    pub fn hand_over_failed(&self, pid: &str, req: &str) {
        if let Some(slot) = self.handed_to(pid, req) {
            self.end_slot(slot, Recovery::Left);
        }
    }

    /// Ends the session `pid`: its socket's `disconnect` subscribers run, told `end`.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    fn end(&self, pid: &str, end: Recovery) {
        let Some(slot) = self.slots.lock().unwrap().remove(pid) else {
            return;
        };
        self.end_slot(slot, end);
    }

    fn end_slot(&self, slot: Slot, end: Recovery) {
        log_stop_forwarding(&slot.log);
        match slot.away {
            Some(away) => {
                let _ = away.send(Some(end));
            }
            None => {
                slot.socket.extensions.insert(Ended(end));
                let _ = slot.socket.clone().disconnect();
            }
        }
    }

    /// Socket `s` takes over the session that another node handed.
    #[cfg(feature = "redis")]
    fn take_from_node(
        &self,
        s: &Arc<Socket>,
        handed: crate::ingress::handover::Handed,
        offset: u64,
    ) -> Arc<SessionLog> {
        SessionTypes::read(s, &handed.values);
        s.extensions.insert(Recovery::Recovered {
            previous: handed.previous,
        });
        s.extensions.insert(Resuming {
            from: From::Node {
                rooms: handed.rooms,
                joined: handed.joined,
                dropped: handed.dropped,
            },
            offset,
        });
        handed.log
    }

    /// The `connect` subscribers refused socket `s`: a session it was taking over ends
    /// (the old socket's `disconnect` subscribers run, told [`Recovery::Left`]).
    pub fn refused(&self, s: &Arc<Socket>) {
        let Some(resuming) = s.extensions.remove::<Resuming>() else {
            return;
        };
        let (old, taken) = match resuming.from {
            From::Here { old, taken } => (old, taken),
            // From another node: that node ends it.
            #[cfg(feature = "redis")]
            From::Node { dropped, .. } => return dropped(),
        };
        match taken.and_then(|t| t.lock().unwrap().take()) {
            Some(taken) => {
                let _ = taken.send(Some(Recovery::Left));
            }
            None => {
                old.extensions.insert(Ended(Recovery::Left));
                let _ = old.clone().disconnect();
            }
        }
    }

    /// The server shuts down: every session whose client is away ends now (its
    /// `disconnect` subscribers run, told [`Recovery::Shutdown`]).
    pub fn end_all(&self) {
        let mut slots = self.slots.lock().unwrap();
        slots.retain(|_, slot| match slot.away.take() {
            Some(end) => {
                let _ = end.send(Some(Recovery::Shutdown));
                false
            }
            None => true,
        });
    }

    /// Once the CONNECT answer is sent: tells the client its session; a socket that
    /// takes a session over joins its rooms, the old socket leaves, and what the client
    /// missed is sent (a task, returned to await).
    pub fn connected(
        &self,
        s: &Arc<Socket>,
        delivery: Arc<crate::subscriber::delivery::Delivery>,
    ) -> Option<impl Future<Output = ()> + Send + 'static> {
        let log = s.extensions.get::<Arc<SessionLog>>()?;
        let resuming = s.extensions.remove::<Resuming>();
        let info = serde_json::json!({
            "pid": log.pid,
            "recovered": resuming.is_some(),
            "id": log.first_id.to_string(),
        });
        // First after the CONNECT answer: the client module waits for it.
        if let Err(e) = s.emit(SESSION_EVENT, &info) {
            tracing::debug!(socket = %s.id, error = %e, "the session was not told");
        }
        self.slots.lock().unwrap().insert(
            log.pid.clone(),
            Slot {
                log: log.clone(),
                socket: s.clone(),
                away: None,
                #[cfg(feature = "redis")]
                handing: None,
            },
        );
        let offset = match resuming {
            Some(Resuming {
                from: From::Here { old, taken },
                offset,
            }) => {
                s.join(old.rooms());
                s.join(log.first_id.to_string());
                // Now the old socket leaves (its `disconnect` subscribers do not run).
                old.extensions.insert(Moved);
                match taken.and_then(|t| t.lock().unwrap().take()) {
                    Some(taken) => {
                        let _ = taken.send(None);
                    }
                    None => {
                        let _ = old.clone().disconnect();
                    }
                }
                offset
            }
            #[cfg(feature = "redis")]
            Some(Resuming {
                from: From::Node { rooms, joined, .. },
                offset,
            }) => {
                s.join(rooms);
                s.join(log.first_id.to_string());
                joined();
                offset
            }
            None => 0,
        };
        let socket = crate::adapter::SocketRef::from(s.clone());
        // What the client missed (or what the `connect` subscribers emitted), then
        // what follows.
        Some(async move {
            log.resume(&delivery, socket, offset).await;
        })
    }

    /// A socket's connection ended for `reason`: `Some` waits for the session to end
    /// (when it resolves to `Some(end)`, run the `disconnect` subscribers; `None`: the
    /// session was taken over, only remove the socket). `None` at once: the
    /// socket has no session to wait in, run the subscribers now.
    pub fn disconnected(
        &self,
        s: &Arc<Socket>,
        reason: DisconnectReason,
    ) -> Option<impl Future<Output = Option<Recovery>> + Send + 'static> {
        let log = s.extensions.get::<Arc<SessionLog>>()?;
        if s.extensions.get::<Moved>().is_some() {
            return Some(futures_util::future::Either::Left(std::future::ready(None)));
        }
        let lost = matches!(
            reason,
            DisconnectReason::TransportClose
                | DisconnectReason::TransportError
                | DisconnectReason::HeartbeatTimeout
        );
        let mut slots = self.slots.lock().unwrap();
        let mine = slots
            .get(&log.pid)
            .is_some_and(|slot| slot.socket.id == s.id);
        let crowded = self.away.load(Ordering::Relaxed) >= self.settings.max_away;
        if crowded && lost && mine {
            s.extensions.insert(Ended(Recovery::Crowded));
        }
        if crowded || !lost || !mine || s.extensions.get::<Ended>().is_some() {
            if mine {
                slots.remove(&log.pid);
            }
            return None;
        }
        self.away.fetch_add(1, Ordering::Relaxed);
        log.away();
        let (tx, rx) = oneshot::channel();
        if let Some(slot) = slots.get_mut(&log.pid) {
            slot.away = Some(tx);
        }
        drop(slots);
        let wait = self.settings.max_disconnection;
        let (this, away) = (self.slots.clone(), self.away.clone());
        let pid = log.pid.clone();
        Some(futures_util::future::Either::Right(async move {
            let end = tokio::select! {
                _ = tokio::time::sleep(wait) => Some(Recovery::TimedOut),
                _ = log.overflowed.notified() => Some(Recovery::Overflowed),
                // Dropped without a word (the socket taking it over never connected):
                // the session is over.
                told = rx => told.unwrap_or(Some(Recovery::Left)),
            };
            away.fetch_sub(1, Ordering::Relaxed);
            if end.is_some() {
                this.lock().unwrap().remove(&pid);
                log_stop_forwarding(&log);
            }
            end
        }))
    }
}

/// A session no longer forwarded to a node it was being handed to.
fn log_stop_forwarding(log: &SessionLog) {
    #[cfg(feature = "redis")]
    log.stop_forwarding();
    let _ = log;
}

/// A socket whose session another socket took over: its disconnect runs nothing.
#[derive(Clone, Copy)]
struct Moved;

/// `auth` without the client module's ask, and the ask (`None`: it did not ask).
fn take_ask(auth: &Option<Value>) -> (Option<Value>, Option<Ask>) {
    let Some(Value::Str(text, bins)) = auth else {
        return (auth.clone(), None);
    };
    if !text.contains(AUTH_KEY) {
        return (auth.clone(), None);
    }
    let Ok(Json::Object(mut fields)) = serde_json::from_str::<Json>(text) else {
        return (auth.clone(), None);
    };
    let Some(ask) = fields.remove(AUTH_KEY) else {
        return (auth.clone(), None);
    };
    let pid = ask["pid"].as_str().map(str::to_owned);
    let offset = ask["offset"]
        .as_str()
        .and_then(|o| o.parse().ok())
        .unwrap_or(0);
    let rest = match fields.is_empty() {
        true => None,
        false => Some(Value::Str(
            Json::Object(fields).to_string().into(),
            bins.clone(),
        )),
    };
    (rest, Some(Ask { pid, offset }))
}
