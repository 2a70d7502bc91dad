//! Connection state recovery across nodes (feature `redis`): a client that comes back
//! on another node takes its session over from the node that keeps it.
//!
//! Each node keeps the sessions of its own clients ([`Sessions`]). A client that comes
//! back with a pid this node does not know is held in its CONNECT while this node asks
//! the others, on the namespace's request channel of the Redis link, which one task of
//! each node reads in order, with the other nodes' broadcasts ([`remote_broadcast`]):
//!
//! 1. `take` (to every node with the namespace): the pid and the client's offset.
//! 2. `handed` (from each of them): the node that keeps the session sends its first id,
//!    rooms and every event after the offset; the others say they do not have it. From
//!    now on the keeper forwards (`forward`) what it would log for the session.
//! 3. The new socket joins the rooms once its `connect` subscribers let it in, then
//!    says `joined` (or `dropped`, refused): the keeper lets the old socket go (its
//!    `disconnect` subscribers do not run), or ends the session; then says `done`
//!    after the last event it forwards.
//!
//! Until `done`, what the new node emits to the session waits behind what is forwarded,
//! and a broadcast that reaches the session both ways is logged once, by its id. The
//! client waits at most [`LinkSettings::request_timeout`] for an answer, then starts
//! afresh; the keeper forwards for as long as the session would have waited for its
//! client, and ends it ([`Recovery::Left`]) when the new node says it was refused or
//! answered too late. [`Session`](crate::Session) values are Rust values of any type:
//! they stay on the node that had them.
//!
//! [`LinkSettings::request_timeout`]: crate::adapter::redis_link::LinkSettings
//! [`remote_broadcast`]: crate::adapter::remote_broadcast
//! [`Recovery::Left`]: crate::Recovery::Left

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use socketioxide::socket::Sid;
use tokio::sync::{mpsc, oneshot};

use crate::adapter::SocketIo;
use crate::adapter::redis_link::{Link, LinkDriver};
use crate::adapter::remote_broadcast::{self, Remote};
use crate::ingress::recovering::Sessions;
use crate::subscriber::delivery::Delivery;
use crate::subscriber::recovery::{Carried, CarriedValues, SessionLog};

/// What starts each message of the handover on a request channel: never a request of
/// the adapter (MessagePack).
const PREFIX: &[u8] = b"specter:recovery\n";

/// One message of the handover: see the module's documentation.
// Externally tagged: an event's arguments are raw JSON, which serde cannot buffer
// as an internally tagged enum would need.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Message {
    Take {
        req: String,
        from: String,
        ns: String,
        pid: String,
        offset: u64,
    },
    Handed {
        req: String,
        from: String,
        to: String,
        ns: String,
        session: Option<HandedSession>,
    },
    Forward {
        req: String,
        to: String,
        event: Carried,
    },
    Joined {
        req: String,
        to: String,
    },
    /// The socket that asked was refused, or stopped waiting: the session ends.
    Dropped {
        req: String,
        to: String,
    },
    Done {
        req: String,
        to: String,
    },
}

/// What the keeper of a session sends the node that takes it over.
#[derive(Serialize, Deserialize)]
struct HandedSession {
    first_id: String,
    previous: String,
    rooms: Vec<String>,
    next: u64,
    entries: Vec<Carried>,
    /// The session values that follow the socket (`carry_session!`).
    #[serde(default)]
    values: CarriedValues,
}

/// A session handed over by another node, for the socket that takes it.
pub(crate) struct Handed {
    pub log: Arc<SessionLog>,
    pub previous: Sid,
    pub rooms: Vec<String>,
    /// The session values of the types declared with `carry_session!`.
    pub values: CarriedValues,
    /// Says `joined` to the keeper: call once the socket is in the rooms.
    pub joined: Arc<dyn Fn() + Send + Sync>,
    /// Says `dropped` to the keeper: the socket was refused.
    pub dropped: Arc<dyn Fn() + Send + Sync>,
}

/// The sessions of a namespace, by its path.
pub(crate) type SessionsOf = Box<dyn Fn(&str) -> Option<Arc<Sessions>> + Send + Sync>;

/// What a message of a request channel is to this node.
pub(crate) enum Incoming {
    Broadcast(Box<Remote>),
    Handover(Box<[u8]>),
}

/// A take this node asked for, until it is answered.
struct Asking {
    ns: String,
    pid: String,
    tx: oneshot::Sender<Option<Handed>>,
    answers: usize,
    expected: usize,
}

/// This node's side of the handovers of its app.
pub(crate) struct Across {
    uid: String,
    /// [`node_room`](crate::adapter::node_room), which every socket of this node joins.
    node_room: String,
    driver: LinkDriver,
    timeout: Duration,
    sessions: SessionsOf,
    /// The takes this node asked for, by request.
    asking: Mutex<HashMap<String, Asking>>,
    /// The sessions this node takes over, until their keeper is done forwarding.
    receiving: Mutex<HashMap<String, Arc<SessionLog>>>,
    /// The sessions this node hands over, until `joined`: their namespace and pid.
    handing: Mutex<HashMap<String, (String, String)>>,
}

impl std::fmt::Debug for Across {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Across")
            .field("uid", &self.uid)
            .finish_non_exhaustive()
    }
}

/// Removes an ask from [`Across::asking`] when dropped.
struct Forget<'a>(&'a Across, &'a str);

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        self.0.asking.lock().unwrap().remove(self.1);
    }
}

/// The request channel of namespace `ns`, which every node listens on.
fn channel(ns: &str) -> String {
    format!("socket.io-request#{ns}#")
}

impl Across {
    /// Starts the handovers and the delivery of other nodes' broadcasts of an app on
    /// `link` (`uid`: this node in the adapter): both come, in the order the link hears
    /// them, to one task.
    pub fn start(
        link: &Link,
        driver: LinkDriver,
        uid: socketioxide_core::Uid,
        io: SocketIo,
        delivery: &Arc<Delivery>,
        sessions: SessionsOf,
    ) -> Arc<Self> {
        let across = Arc::new(Self {
            uid: uid.to_string(),
            node_room: crate::adapter::node_room(),
            driver,
            timeout: link.request_timeout(),
            sessions,
            asking: Mutex::default(),
            receiving: Mutex::default(),
            handing: Mutex::default(),
        });
        let (tx, mut rx) = mpsc::channel::<Incoming>(link.waiting().max(1));
        link.take_requests(Box::new(move |msg| {
            let incoming = match msg.strip_prefix(PREFIX) {
                Some(message) => Incoming::Handover(message.into()),
                None => match remote_broadcast::decode(uid, msg) {
                    Some(remote) => Incoming::Broadcast(Box::new(remote)),
                    None => return false,
                },
            };
            if tx.try_send(incoming).is_err() {
                tracing::warn!("too many messages from other nodes wait: one is lost");
            }
            true
        }));
        let weak = Arc::downgrade(&across);
        let delivery = delivery.clone();
        tokio::spawn(async move {
            while let Some(incoming) = rx.recv().await {
                match incoming {
                    Incoming::Broadcast(remote) => {
                        remote_broadcast::deliver(&io, &delivery, *remote);
                    }
                    Incoming::Handover(message) => {
                        let Some(across) = weak.upgrade() else { return };
                        match serde_json::from_slice(&message) {
                            Ok(message) => across.receive(message, &delivery).await,
                            Err(e) => tracing::debug!(error = %e, "a handover message ignored"),
                        }
                    }
                }
            }
        });
        across
    }

    /// The room every socket of this node joins.
    pub fn node_room(&self) -> &str {
        &self.node_room
    }

    async fn publish(&self, ns: &str, message: &Message) {
        let mut bytes = PREFIX.to_vec();
        bytes.extend(serde_json::to_vec(message).expect("JSON of strings and JSON"));
        if let Err(reason) = self.driver.publish_checked(&channel(ns), bytes).await {
            tracing::warn!(
                reason,
                "a message of a session's handover was not published"
            );
        }
    }

    /// Asks the other nodes for the session `pid` of `ns`, whose client had every
    /// event up to `offset`: `None` when none has it (or within the request timeout).
    pub async fn take(self: &Arc<Self>, ns: &str, pid: &str, offset: u64) -> Option<Handed> {
        // While the link is down nobody would hear the ask in time.
        if self.driver.is_down() {
            return None;
        }
        // Every node with this namespace listens on its channel, and answers.
        let listening = {
            use socketioxide_redis::drivers::Driver;
            self.driver.num_serv(&channel(ns)).await.unwrap_or(0)
        };
        let expected = usize::from(listening).saturating_sub(1);
        tracing::debug!(
            namespace = ns,
            others = expected,
            "asking the other nodes for a session"
        );
        if expected == 0 {
            return None;
        }
        let req = Sid::new().to_string();
        let (tx, rx) = oneshot::channel();
        let asking = Asking {
            ns: ns.to_owned(),
            pid: pid.to_owned(),
            tx,
            answers: 0,
            expected,
        };
        self.asking.lock().unwrap().insert(req.clone(), asking);
        // Forgotten however this ends (the connection may go meanwhile).
        let _asking = Forget(self, &req);
        let take = Message::Take {
            req: req.clone(),
            from: self.uid.clone(),
            ns: ns.to_owned(),
            pid: pid.to_owned(),
            offset,
        };
        self.publish(ns, &take).await;
        let handed = tokio::time::timeout(self.timeout, rx).await;
        handed.ok().and_then(Result::ok).flatten()
    }

    async fn receive(self: &Arc<Self>, message: Message, delivery: &Arc<Delivery>) {
        match message {
            Message::Take {
                req,
                from,
                ns,
                pid,
                offset,
            } if from != self.uid => self.hand_over(req, from, ns, pid, offset).await,
            Message::Handed {
                req,
                from,
                to,
                ns,
                session,
            } if to == self.uid => self.handed(req, from, ns, session, delivery),
            Message::Forward { req, to, event } if to == self.uid => {
                let log = self.receiving.lock().unwrap().get(&req).cloned();
                if let Some(log) = log {
                    let id = event.broadcast();
                    let args = event.args.into();
                    let _ = log.emit_forwarded(delivery, &event.event, args, id).await;
                }
            }
            Message::Joined { req, to } if to == self.uid => self.settle(&req, true),
            Message::Dropped { req, to } if to == self.uid => self.settle(&req, false),
            Message::Done { req, to } if to == self.uid => self.received(&req, delivery).await,
            _ => {}
        }
    }

    /// The handover `req` is over on the keeper's side: the other node has the session
    /// (`joined`), or it ends here.
    fn settle(&self, req: &str, joined: bool) {
        let Some((ns, pid)) = self.handing.lock().unwrap().remove(req) else {
            return;
        };
        let Some(sessions) = (self.sessions)(&ns) else {
            return;
        };
        match joined {
            true => sessions.handed_over(&pid, req),
            false => sessions.hand_over_failed(&pid, req),
        }
    }

    /// The handover `req` is over on the taker's side: what waited is logged.
    async fn received(&self, req: &str, delivery: &Delivery) {
        let log = self.receiving.lock().unwrap().remove(req);
        if let Some(log) = log {
            log.done(delivery).await;
        }
    }

    /// Another node asks for the session `pid` of `ns`: handed if this node keeps it,
    /// with what it logs from now on forwarded until `joined`. Every node answers, so
    /// that the asker need not wait for a silent one.
    async fn hand_over(
        self: &Arc<Self>,
        req: String,
        to: String,
        ns: String,
        pid: String,
        offset: u64,
    ) {
        let sessions = (self.sessions)(&ns);
        let session = sessions
            .as_ref()
            .and_then(|s| s.hand_over(&pid, offset, &req));
        tracing::debug!(
            namespace = ns,
            here = session.is_some(),
            recoverable = session.as_ref().is_some_and(|(s, _)| s.is_some()),
            "another node asks for a session"
        );
        let session = session.and_then(|(session, forwarded)| Some((session?, forwarded?)));
        let Some((session, mut forwarded)) = session else {
            let handed = Message::Handed {
                req,
                from: self.uid.clone(),
                to,
                ns: ns.clone(),
                session: None,
            };
            self.publish(&ns, &handed).await;
            return;
        };
        let handed = Message::Handed {
            req: req.clone(),
            from: self.uid.clone(),
            to: to.clone(),
            ns: ns.clone(),
            session: Some(HandedSession {
                first_id: session.first_id.to_string(),
                previous: session.previous.to_string(),
                rooms: session.rooms,
                next: session.next,
                entries: session.entries,
                values: session.values,
            }),
        };
        self.handing
            .lock()
            .unwrap()
            .insert(req.clone(), (ns.clone(), pid));
        self.publish(&ns, &handed).await;
        let (this, channel_ns, forward_req) = (self.clone(), ns.clone(), req.clone());
        tokio::spawn(async move {
            // Forwarded in order until `joined` (the log stops forwarding), then done.
            let (ns, req) = (channel_ns, forward_req);
            while let Some(event) = forwarded.recv().await {
                let (to, req) = (to.clone(), req.clone());
                this.publish(&ns, &Message::Forward { req, to, event })
                    .await;
            }
            this.publish(&ns, &Message::Done { req, to }).await;
        });
        // The new socket joins once its `connect` subscribers let it in: as long as the
        // session would have waited for its client.
        let (this, wait) = (
            self.clone(),
            sessions.map_or(self.timeout, |s| s.settings.max_disconnection),
        );
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            this.settle(&req, false);
        });
    }

    /// A node answered a take this node asked for.
    fn handed(
        self: &Arc<Self>,
        req: String,
        from: String,
        ns: String,
        session: Option<HandedSession>,
        delivery: &Arc<Delivery>,
    ) {
        let mut asking = self.asking.lock().unwrap();
        let Some(ask) = asking.get_mut(&req) else {
            drop(asking);
            // Too late (the client was given a fresh session): the keeper ends it.
            if session.is_some() {
                self.tell(ns, Message::Dropped { req, to: from });
            }
            return;
        };
        let Some(session) = session else {
            ask.answers += 1;
            if ask.answers >= ask.expected {
                if let Some(ask) = asking.remove(&req) {
                    let _ = ask.tx.send(None);
                }
            }
            return;
        };
        let Some(ask) = asking.remove(&req) else {
            return;
        };
        drop(asking);
        let (Some(sessions), Ok(first_id), Ok(previous)) = (
            (self.sessions)(&ask.ns),
            session.first_id.parse::<Sid>(),
            session.previous.parse::<Sid>(),
        ) else {
            self.tell(ask.ns, Message::Dropped { req, to: from });
            let _ = ask.tx.send(None);
            return;
        };
        let log = SessionLog::handed(
            sessions.settings,
            ask.pid,
            first_id,
            session.next,
            session.entries,
        );
        self.receiving
            .lock()
            .unwrap()
            .insert(req.clone(), log.clone());
        let (this, ns, to) = (Arc::downgrade(self), ask.ns.clone(), from.clone());
        let (joined_req, delivery) = (req.clone(), delivery.clone());
        let joined = Arc::new(move || {
            let Some(this) = this.upgrade() else { return };
            let (req, to) = (joined_req.clone(), to.clone());
            this.tell(
                ns.clone(),
                Message::Joined {
                    req: req.clone(),
                    to,
                },
            );
            // A keeper that never says it is done (it died meanwhile): what waits here
            // is logged after as long as it would take to answer.
            let (this, delivery, wait) = (Arc::downgrade(&this), delivery.clone(), this.timeout);
            tokio::spawn(async move {
                tokio::time::sleep(wait).await;
                let Some(this) = this.upgrade() else { return };
                this.received(&req, &delivery).await;
            });
        });
        let (this, ns, dropped_req) = (Arc::downgrade(self), ask.ns.clone(), req.clone());
        let dropped = Arc::new(move || {
            let Some(this) = this.upgrade() else { return };
            this.receiving.lock().unwrap().remove(&dropped_req);
            let (req, to) = (dropped_req.clone(), from.clone());
            this.tell(ns.clone(), Message::Dropped { req, to });
        });
        let handed = Handed {
            log,
            previous,
            rooms: session.rooms,
            values: session.values,
            joined,
            dropped: dropped.clone(),
        };
        // The asker stopped waiting meanwhile: the keeper ends the session.
        if ask.tx.send(Some(handed)).is_err() {
            dropped();
        }
    }

    /// Publishes `message` on the channel of `ns` from a task of its own.
    fn tell(self: &Arc<Self>, ns: String, message: Message) {
        let this = self.clone();
        tokio::spawn(async move { this.publish(&ns, &message).await });
    }
}
