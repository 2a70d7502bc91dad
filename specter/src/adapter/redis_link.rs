//! The link to Redis of an app on several nodes (feature `redis`): a socketioxide-redis
//! driver that survives its broker.
//!
//! socketioxide-redis's own driver holds one connection that neither reconnects nor
//! re-subscribes, and its adapter publishes a broadcast before sending it to the node's
//! own clients, returning the publish error first: a Redis restart split the nodes for
//! good, and during an outage even the sender's own node received nothing while acks
//! said "ok". This driver
//!
//! - rides redis-rs's `ConnectionManager` (or, on a Redis Cluster, its cluster
//!   connection with sharded pub/sub: [`connect_redis_cluster`](super::connect_redis_cluster)),
//!   which reconnects with backoff and re-subscribes to every channel by itself;
//! - checks the link every half second (a `CLIENT INFO`, which counts its subscriptions;
//!   on a cluster, one to each primary; [`LinkSettings`]), so that it knows when Redis is
//!   gone and when it is back even while nobody publishes, and subscribes again to what a
//!   reconnection or a move left out; one `warn` line when it goes, one `info` line when
//!   it is back, with how much could not be published meanwhile;
//! - never fails a publish: while the link is down (or a publish fails) the adapter goes
//!   on to deliver the message on this node, and the link holds it, in order and within
//!   [`LinkSettings::held_messages`] and `held_bytes`, for the other nodes: they receive
//!   it once the link is back, before anything newer; past those bounds it is given up
//!   and counted as not published;
//!   requests that wait for other nodes (`fetch_sockets`, the Admin UI's lists) count
//!   only this node, so they answer at once instead of waiting for nodes that cannot hear.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::time::{Duration, Instant};

use redis::{FromRedisValue, PushInfo, PushKind};
use socketioxide_redis::drivers::{ChanItem, Driver, MessageStream};
use tokio::sync::mpsc;

use super::LinkHealth;
use super::held::Held;
use super::redis_conn::Conn;
use super::roster::Roster;

/// How the link to Redis is watched: [`connect_redis_with`](super::connect_redis_with).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkSettings {
    /// How often the link is checked (default 0.5 s): how soon a node knows that Redis
    /// went, or came back.
    pub check_every: Duration,
    /// How long one command to Redis may take before the link counts as down (default
    /// 1 s): the longest a broadcast waits for Redis before it is delivered locally.
    pub command_timeout: Duration,
    /// How many node events from other nodes may wait for this node's listeners
    /// (default 1,024); past it, one is dropped with a `warn` line.
    pub node_events_waiting: usize,
    /// How long a request that other nodes answer (`fetch_sockets`, the rooms, the
    /// Admin UI's lists) waits for their answers (default 2 s): past it, it returns
    /// what the nodes that did answer said.
    pub request_timeout: Duration,
    /// How many messages for other nodes are held, in order, while the link is down
    /// (default 10,000), to be published when it is back; past it (or past
    /// [`held_bytes`](Self::held_bytes)) a message is given up and counted as not
    /// published.
    pub held_messages: usize,
    /// How many bytes of such messages are held (default 16 MiB).
    pub held_bytes: usize,
    /// How long, once Redis answers again, the held messages wait for the other nodes
    /// to be back on it (each message until as many listen on its channel as before the
    /// outage; default 5 s): a message published before a node subscribed again would
    /// never reach it.
    pub rejoin_wait: Duration,
}

impl Default for LinkSettings {
    fn default() -> Self {
        Self {
            check_every: Duration::from_millis(500),
            command_timeout: Duration::from_secs(1),
            node_events_waiting: 1024,
            request_timeout: Duration::from_secs(2),
            held_messages: 10_000,
            held_bytes: 16 << 20,
            rejoin_wait: Duration::from_secs(5),
        }
    }
}

/// An error of the Redis link.
#[derive(Debug)]
pub struct LinkError(String);

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LinkError {}

impl From<redis::RedisError> for LinkError {
    fn from(e: redis::RedisError) -> Self {
        Self(e.to_string())
    }
}

/// The state of the link, shared by the driver's clones and the health check.
pub(crate) struct Link {
    down: AtomicBool,
    /// What was given up (past what may be held), by the namespace of its channel
    /// ([`namespace_of`]).
    by_namespace: Mutex<BTreeMap<String, u64>>,
    /// What waits for the link to be back; the link counts as up again only once it is
    /// empty, under its lock (see [`Link::hold`]).
    held: Mutex<Held>,
    /// Messages published after the outage they were held through.
    published_late: AtomicU64,
    /// How many connections listened on each channel (this node's, and those of what is
    /// held) at the last check that found the link up: after an outage, a held message
    /// waits until as many listen on its channel again.
    listened: Mutex<HashMap<String, u16>>,
    /// The other nodes heard before the outage began: after it, held messages wait to
    /// hear each again (each says it is alive once it hears every channel again).
    awaited: Mutex<Vec<String>>,
    /// Since when, and why, the link is down.
    outage: Mutex<Option<(Instant, String, u64)>>,
    /// The nodes heard lately, and who answered what was asked of them.
    pub(crate) roster: Arc<Roster>,
    /// What this node says every check, on the bus of node events, once the app is
    /// built ([`Roster`]).
    alive: OnceLock<Vec<u8>>,
    /// What takes the adapter's requests from other nodes before the adapter does (an
    /// app that recovers connections: [`super::remote_broadcast`]).
    taker: Taker,
    /// [`LinkSettings::node_events_waiting`].
    waiting: usize,
    /// [`LinkSettings::request_timeout`].
    request_timeout: Duration,
}

/// What may take a message of a request channel before its handler: `true` when taken.
pub(crate) type Take = Box<dyn Fn(&[u8]) -> bool + Send + Sync>;

type Taker = Arc<OnceLock<Take>>;

/// The prefix of the adapter's request channels (`socket.io-request#/chat#..`).
const REQUESTS: &str = "socket.io-request#";

/// What became of a message to publish.
enum Hold {
    /// The link is up: publish it.
    Up(Vec<u8>),
    /// Held until the link is back.
    Held,
    /// Given up: counted as not published.
    Dropped,
}

impl Link {
    fn new(settings: &LinkSettings) -> Self {
        Self {
            down: AtomicBool::new(false),
            by_namespace: Mutex::default(),
            held: Mutex::new(Held::new(settings.held_messages, settings.held_bytes)),
            published_late: AtomicU64::new(0),
            listened: Mutex::default(),
            awaited: Mutex::default(),
            outage: Mutex::default(),
            roster: Arc::new(Roster::new(settings.check_every)),
            alive: OnceLock::new(),
            taker: Arc::default(),
            waiting: settings.node_events_waiting,
            request_timeout: settings.request_timeout,
        }
    }

    /// What this node says every check of the link: that it is alive (`message`, on the
    /// bus of node events).
    pub(crate) fn set_alive(&self, message: Vec<u8>) {
        let _ = self.alive.set(message);
    }

    /// How many messages from other nodes may wait for this node (of node events, of
    /// broadcasts taken).
    pub(crate) fn waiting(&self) -> usize {
        self.waiting
    }

    /// How long a request that other nodes answer waits for them.
    pub(crate) fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// From now on `take` sees each message of the adapter's request channels first, and
    /// the adapter only those it does not take (`false`).
    pub(crate) fn take_requests(&self, take: Take) {
        let _ = self.taker.set(take);
    }

    /// While the link is down, holds `val` (or gives it up past the bounds); once it is
    /// up, hands it back to be published. The state is read again under the lock of
    /// what is held, so nothing is held after the queue was found empty and the link
    /// up: what was held reaches the other nodes before what follows.
    fn hold(&self, chan: &str, val: Vec<u8>) -> Hold {
        if !self.is_down() {
            return Hold::Up(val);
        }
        let mut held = self.held.lock().unwrap();
        if !self.is_down() {
            return Hold::Up(val);
        }
        if held.push(chan, val) {
            return Hold::Held;
        }
        drop(held);
        self.count_unpublished(chan);
        Hold::Dropped
    }

    /// What is held, to publish; when nothing is, the link is up again.
    fn take_or_recover(&self) -> Vec<(String, Vec<u8>)> {
        let mut held = self.held.lock().unwrap();
        if held.is_empty() {
            self.recovered();
        }
        held.take()
    }

    /// Whether the other nodes are back on the link since `back` (when this node heard
    /// Redis again): each node heard before the outage has said it is alive since, and
    /// as many connections listen on each channel of what is held as did before the
    /// outage (`listening`: the counts now).
    fn rejoined(&self, listening: &HashMap<String, u16>, back: Instant) -> bool {
        let awaited = self.awaited.lock().unwrap().clone();
        if !self.roster.all_heard_since(&awaited, back) {
            return false;
        }
        let listened = self.listened.lock().unwrap();
        let held = self.held.lock().unwrap().channels();
        held.iter().all(|chan| {
            let before = listened.get(chan).copied().unwrap_or(0);
            listening.get(chan).copied().unwrap_or(0) >= before
        })
    }

    fn is_down(&self) -> bool {
        self.down.load(Ordering::Relaxed)
    }

    /// The link failed: logged once per outage, with the true reason.
    fn failed(&self, reason: &str) {
        let mut outage = self.outage.lock().unwrap();
        if outage.is_none() {
            tracing::warn!(
                reason,
                "the Redis link is down: broadcasts reach this node's clients, and the other nodes once it is back"
            );
            *outage = Some((Instant::now(), reason.to_owned(), self.unpublished()));
            *self.awaited.lock().unwrap() = self.roster.uids();
        }
        self.down.store(true, Ordering::Relaxed);
    }

    fn recovered(&self) {
        let mut outage = self.outage.lock().unwrap();
        if let Some((since, _, unpublished_before)) = outage.take() {
            tracing::info!(
                after_ms = since.elapsed().as_millis() as u64,
                unpublished = self.unpublished() - unpublished_before,
                "the Redis link is back: broadcasts reach every node again"
            );
        }
        self.down.store(false, Ordering::Relaxed);
    }

    fn count_unpublished(&self, chan: &str) {
        let namespace = namespace_of(chan);
        let mut by_namespace = self.by_namespace.lock().unwrap();
        match by_namespace.get_mut(namespace) {
            Some(n) => *n += 1,
            None => {
                by_namespace.insert(namespace.to_owned(), 1);
            }
        }
        #[cfg(feature = "metrics")]
        metrics::counter!("specter_unpublished_total", "namespace" => namespace.to_owned())
            .increment(1);
    }

    fn unpublished(&self) -> u64 {
        self.by_namespace.lock().unwrap().values().sum()
    }

    pub fn health(&self) -> LinkHealth {
        let outage = self.outage.lock().unwrap();
        LinkHealth {
            state: if self.is_down() { "down" } else { "up" },
            unpublished: self.unpublished(),
            unpublished_by_namespace: self.by_namespace.lock().unwrap().clone(),
            held: self.held.lock().unwrap().len(),
            published_late: self.published_late.load(Ordering::Relaxed),
            reason: outage.as_ref().map(|(_, reason, _)| reason.clone()),
            nodes: self.roster.names(),
            unanswered: self.roster.unanswered(),
        }
    }
}

/// The namespace a channel of the adapter serves (`socket.io-request#/chat#..` is
/// `/chat`); node events' channel is `nodes`.
fn namespace_of(chan: &str) -> &str {
    if chan == super::node_bus::CHANNEL {
        return "nodes";
    }
    chan.split('#').nth(1).unwrap_or(chan)
}

type Handlers = Arc<RwLock<HashMap<String, mpsc::Sender<ChanItem>>>>;

/// The driver: see the module's documentation.
#[derive(Clone)]
pub struct LinkDriver {
    conn: Conn,
    timeout: Duration,
    handlers: Handlers,
    link: Arc<Link>,
}

impl fmt::Debug for LinkDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LinkDriver")
    }
}

/// A message of a subscribed channel, to its handler (an answer to a request being
/// watched noted first: [`Roster::watch_response`]; a request that the app takes, to
/// the app).
fn route(push: PushInfo, handlers: &Handlers, roster: &Roster, taker: &Taker) {
    if !matches!(push.kind, PushKind::Message | PushKind::SMessage) || push.data.len() < 2 {
        return;
    }
    let mut data = push.data.into_iter();
    let (Some(chan), Some(msg)) = (data.next(), data.next()) else {
        return;
    };
    let (Ok(chan), Ok(msg)) = (
        String::from_redis_value(chan),
        Vec::<u8>::from_redis_value(msg),
    ) else {
        return;
    };
    roster.watch_response(&chan, &msg);
    if chan.starts_with(REQUESTS) && taker.get().is_some_and(|take| take(&msg)) {
        return;
    }
    if let Some(tx) = handlers.read().unwrap().get(&chan) {
        if tx.try_send((chan, msg)).is_err() {
            tracing::warn!("a Redis channel's buffer is full: a message from another node is lost");
        }
    }
}

/// Where the link goes.
pub(crate) enum Target {
    /// One server (or a primary).
    Single(redis::Client),
    /// The primary that sentinels (their URLs) watch, by its name.
    Sentinel(Vec<String>, String),
    /// A Redis Cluster, by some of its nodes' URLs.
    Cluster(Vec<String>),
}

impl LinkDriver {
    /// Connects to `target` (RESP3) and starts checking the link.
    pub(crate) async fn connect(
        target: Target,
        settings: LinkSettings,
    ) -> Result<(Self, Arc<Link>), LinkError> {
        let timeout = settings.command_timeout;
        let handlers: Handlers = Arc::default();
        let link = Arc::new(Link::new(&settings));
        let routed = handlers.clone();
        let (roster, taker) = (link.roster.clone(), link.taker.clone());
        let push: super::redis_conn::Push =
            Arc::new(move |push: PushInfo| route(push, &routed, &roster, &taker));
        let conn = match target {
            Target::Single(client) => Conn::single(client, timeout, push).await?,
            Target::Sentinel(sentinels, name) => {
                Conn::sentinel(sentinels, name, timeout, push).await?
            }
            Target::Cluster(seeds) => Conn::cluster(seeds, timeout, push).await?,
        };
        let watched = (conn.clone(), handlers.clone());
        tokio::spawn(watch(watched, Arc::downgrade(&link), settings));
        let driver = Self {
            conn,
            timeout,
            handlers,
            link: link.clone(),
        };
        Ok((driver, link))
    }
}

impl LinkDriver {
    pub(crate) fn roster(&self) -> &Roster {
        &self.link.roster
    }

    /// Whether the link is down (what is published now is held).
    pub(crate) fn is_down(&self) -> bool {
        self.link.is_down()
    }

    pub(crate) fn set_alive(&self, message: Vec<u8>) {
        self.link.set_alive(message);
    }

    /// Publishes `val` on `chan`, or holds it while the link is down; `Err` says why it
    /// was given up (counted as not published).
    pub(crate) async fn publish_checked(&self, chan: &str, val: Vec<u8>) -> Result<(), String> {
        let val = match self.link.hold(chan, val) {
            Hold::Up(val) => val,
            Hold::Held => return Ok(()),
            Hold::Dropped => return Err(GIVEN_UP.to_owned()),
        };
        let publish = self.conn.publish(chan, &val);
        let Err(failed) = bounded(self.timeout, publish, "a PUBLISH").await else {
            return Ok(());
        };
        self.link.failed(&failed);
        match self.link.hold(chan, val) {
            Hold::Dropped => Err(GIVEN_UP.to_owned()),
            // Up again already: the next check publishes what is held; this one too.
            Hold::Up(val) => match self.link.held.lock().unwrap().push(chan, val) {
                true => Ok(()),
                false => Err(GIVEN_UP.to_owned()),
            },
            Hold::Held => Ok(()),
        }
    }
}

/// Why a message for other nodes was given up.
const GIVEN_UP: &str = "the Redis link is down and holds as much as it may";

/// Publishes what the link held through an outage, oldest first; `false` when the link
/// failed again (what is left stays held, in order).
async fn publish_held(conn: &Conn, link: &Link, timeout: Duration) -> bool {
    loop {
        let held = link.take_or_recover();
        if held.is_empty() {
            return true;
        }
        let count = held.len();
        let mut held = held.into_iter();
        while let Some((chan, val)) = held.next() {
            if let Err(reason) = bounded(timeout, conn.publish(&chan, &val), "a PUBLISH").await {
                link.failed(&reason);
                let rest = std::iter::once((chan, val)).chain(held).collect();
                link.held.lock().unwrap().put_back(rest);
                return false;
            }
            link.published_late.fetch_add(1, Ordering::Relaxed);
        }
        tracing::info!(
            count,
            "published what was held while the Redis link was down, in order"
        );
    }
}

/// Checks the link until the app's last driver is gone. A check that finds fewer
/// subscriptions than channels subscribes to them again before the link counts as up
/// (see [`Conn::subscribe_again`]).
async fn watch((conn, handlers): (Conn, Handlers), link: Weak<Link>, settings: LinkSettings) {
    let mut every = tokio::time::interval(settings.check_every);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Since when Redis answers again after an outage.
    let mut back_since = None;
    loop {
        every.tick().await;
        let Some(link) = link.upgrade() else { return };
        let timeout = settings.command_timeout;
        let subscribed = match bounded(timeout, conn.check(), "a check").await {
            Ok(subscribed) => subscribed,
            Err(reason) => {
                link.failed(&reason);
                continue;
            }
        };
        let mut channels: Vec<String> = handlers.read().unwrap().keys().cloned().collect();
        if subscribed < channels.len() {
            let again = conn.subscribe_again(&channels);
            if let Err(reason) = bounded(timeout, again, "a SUBSCRIBE").await {
                link.failed(&reason);
                continue;
            }
        }
        // How many listen on each channel: while the link is up, the counts to wait for
        // after an outage; after one, each held message waits until as many listen on
        // its channel as before (one published before another node subscribed again
        // would never reach it), or `rejoin_wait`, for a node that is gone for good.
        for chan in link.held.lock().unwrap().channels() {
            if !channels.contains(&chan) {
                channels.push(chan);
            }
        }
        let listening = bounded(timeout, conn.listeners(&channels), "a PUBSUB NUMSUB").await;
        let listening = match listening {
            Ok(listening) => listening,
            Err(reason) => {
                link.failed(&reason);
                continue;
            }
        };
        if !link.is_down() {
            *link.listened.lock().unwrap() = listening;
            back_since = None;
            if publish_held(&conn, &link, timeout).await {
                say_alive(&conn, &link, timeout).await;
            }
            continue;
        }
        // Back on Redis and on every channel: the others may count this node back.
        let since = *back_since.get_or_insert_with(Instant::now);
        say_alive(&conn, &link, timeout).await;
        if !link.rejoined(&listening, since) && since.elapsed() < settings.rejoin_wait {
            continue;
        }
        if publish_held(&conn, &link, timeout).await {
            back_since = None;
        }
    }
}

/// Tells the other nodes that this one is alive (not held: it is news only now).
async fn say_alive(conn: &Conn, link: &Link, timeout: Duration) {
    let Some(alive) = link.alive.get() else {
        return;
    };
    let channel = super::node_bus::CHANNEL;
    if let Err(reason) = bounded(timeout, conn.publish(channel, alive), "a PUBLISH").await {
        link.failed(&reason);
    }
}

/// `command`, within `timeout`: `Err` says why it failed, or that `what` took too long.
async fn bounded<T, E: fmt::Display>(
    timeout: Duration,
    command: impl Future<Output = Result<T, E>>,
    what: &str,
) -> Result<T, String> {
    match tokio::time::timeout(timeout, command).await {
        Ok(answer) => answer.map_err(|e| e.to_string()),
        Err(_) => Err(format!(
            "Redis did not answer {what} within the command timeout"
        )),
    }
}

impl Driver for LinkDriver {
    type Error = LinkError;

    /// Never fails: what cannot be published now is held or counted
    /// (see the module's documentation), and the adapter goes on to deliver it on this
    /// node.
    async fn publish(&self, chan: String, val: Vec<u8>) -> Result<(), Self::Error> {
        self.link.roster.watch_request(&chan, &val);
        let _ = self.publish_checked(&chan, val).await;
        Ok(())
    }

    async fn subscribe(
        &self,
        chan: String,
        size: usize,
    ) -> Result<MessageStream<ChanItem>, Self::Error> {
        let (tx, rx) = mpsc::channel(size);
        self.handlers.write().unwrap().insert(chan.clone(), tx);
        self.conn.subscribe(&chan).await?;
        Ok(MessageStream::new(rx))
    }

    async fn unsubscribe(&self, chan: String) -> Result<(), Self::Error> {
        self.handlers.write().unwrap().remove(&chan);
        if !self.link.is_down() {
            self.conn.unsubscribe(&chan).await?;
        }
        Ok(())
    }

    /// The nodes listening on `chan`; while the link is down, this node alone.
    async fn num_serv(&self, chan: &str) -> Result<u16, Self::Error> {
        if self.link.is_down() {
            return Ok(1);
        }
        let channels = [chan.to_owned()];
        let listening = self.conn.listeners(&channels);
        match bounded(self.timeout, listening, "a PUBSUB NUMSUB").await {
            Ok(counts) => Ok(counts.get(chan).copied().unwrap_or(0)),
            Err(reason) => {
                self.link.failed(&reason);
                Ok(1)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::{Link, LinkSettings, namespace_of};

    fn counts(pairs: &[(&str, u16)]) -> HashMap<String, u16> {
        pairs.iter().map(|(c, n)| (c.to_string(), *n)).collect()
    }

    #[test]
    fn a_held_message_waits_for_the_other_nodes_and_its_own_channel() {
        let link = Link::new(&LinkSettings::default());
        let (room, bus) = ("socket.io-request#/chat#", "specter#nodes");
        *link.listened.lock().unwrap() = counts(&[(room, 2), (bus, 2)]);
        link.roster.heard("node-2".into(), "host#2".into());
        link.failed("gone");
        link.held.lock().unwrap().push(room, b"during".to_vec());
        let back = std::time::Instant::now();
        let all = counts(&[(room, 2), (bus, 2)]);
        assert!(
            !link.rejoined(&all, back),
            "node 2 has not said it is alive since the link came back"
        );
        link.roster.heard("node-2".into(), "host#2".into());
        let bus_first = counts(&[(room, 1), (bus, 2)]);
        assert!(
            !link.rejoined(&bus_first, back),
            "the other node hears the bus again but not yet the room's channel"
        );
        assert!(link.rejoined(&counts(&[(room, 2), (bus, 1)]), back));
        link.held
            .lock()
            .unwrap()
            .push("socket.io-response#/chat#gone#", b"x".to_vec());
        assert!(
            link.rejoined(&counts(&[(room, 2)]), back),
            "a channel nobody was counted on waits for nobody"
        );
    }

    #[test]
    fn a_channel_is_counted_under_its_namespace() {
        assert_eq!(namespace_of("socket.io-request#/#"), "/");
        assert_eq!(namespace_of("socket.io-request#/chat#3fa2#"), "/chat");
        assert_eq!(namespace_of("socket.io-response#/admin#3fa2#"), "/admin");
        assert_eq!(namespace_of("specter#nodes"), "nodes");
    }
}
