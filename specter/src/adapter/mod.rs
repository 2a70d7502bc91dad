//! The socketioxide adapter Specter runs on, chosen at compile time.
//!
//! Without features it is socketioxide's `LocalAdapter` (one process). With the `redis`
//! feature it is socketioxide-redis's `RedisAdapter`: broadcasts, room emits and `io`
//! emits reach the clients of every node sharing the Redis server.
//!
//! Handlers and controllers are written once against [`SocketRef`] and [`SocketIo`]
//! (re-exported by the prelude), which name whichever adapter is selected, so the same
//! source builds for both. Why a compile-time choice: socketioxide's socket types are
//! generic over the adapter, and socketioxide has no adapter-erased socket, so type
//! erasure is not available; making every handler generic over the adapter would put
//! an `A` in every signature a user writes. Cargo features are unified across a build:
//! if any crate of a program enables `specter/redis`, the whole program runs on Redis.

/// The adapter of this build.
#[cfg(not(feature = "redis"))]
pub type Adapter = socketioxide::adapter::LocalAdapter;

/// The adapter of this build.
#[cfg(feature = "redis")]
pub type Adapter =
    socketioxide_redis::CustomRedisAdapter<socketioxide::adapter::Emitter, redis_link::LinkDriver>;

/// A connected socket, on this build's adapter.
pub type SocketRef = socketioxide::extract::SocketRef<Adapter>;

/// The socket.io server handle, on this build's adapter.
pub type SocketIo = socketioxide::SocketIo<Adapter>;

pub(crate) type Socket = socketioxide::socket::Socket<Adapter>;

pub(crate) type AckSender = socketioxide::extract::AckSender<Adapter>;

#[cfg(feature = "redis")]
mod held;
pub(crate) mod node_bus;
#[cfg(feature = "redis")]
mod redis_conn;
#[cfg(feature = "redis")]
pub mod redis_link;
#[cfg(feature = "redis")]
mod redis_sentinel;
#[cfg(feature = "redis")]
pub(crate) mod remote_broadcast;
#[cfg(feature = "redis")]
mod roster;

/// The room, never joined, that names the broadcast `id` among the rooms it spares, so
/// that every node logs it under the same id (an app that recovers connections on
/// several nodes: `remote_broadcast`).
pub(crate) fn broadcast_room(id: socketioxide::socket::Sid) -> String {
    format!("{BROADCAST_ROOM}{id}")
}

pub(crate) const BROADCAST_ROOM: &str = "specter#broadcast#";

/// The room that every socket of this node which other nodes' broadcasts must spare
/// joins (the Admin UI's, and every socket of an app that recovers connections on
/// several nodes): a broadcast to every node but this one excepts it.
#[cfg(any(feature = "redis", feature = "admin"))]
pub(crate) fn node_room() -> String {
    format!("{NODE_ROOM}{}", node_name())
}

/// What the name of a node's room starts with.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) const NODE_ROOM: &str = "specter#node#";

/// This node, as logs, health and the Admin UI name it: `host#pid`, so that several
/// nodes on one host stay apart.
#[cfg(any(feature = "redis", feature = "admin"))]
pub(crate) fn node_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "specter".into());
    format!("{host}#{}", std::process::id())
}

/// Runs `request`, something that other nodes answer (`fetch_sockets`, the rooms of a
/// namespace, a broadcast with acks), and names the nodes that did not answer it within
/// [`LinkSettings::request_timeout`](redis_link::LinkSettings::request_timeout): the
/// nodes heard on the link lately (`host#pid`, as `/health` lists them under
/// `broker.nodes` with `health_details`) whose answer did not come. Each is logged at
/// `warn` and counted in `/health`'s `broker.unanswered`. On one node, or with no Redis
/// link, nobody else is asked and the list is empty.
///
/// ```
/// # async fn demo(io: specter::SocketIo) {
/// let (sockets, silent) = specter::adapter::asking_nodes(io.fetch_sockets()).await;
/// if !silent.is_empty() {
///     println!("the sockets of {} are missing", silent.join(", "));
/// }
/// # let _ = sockets;
/// # }
/// ```
pub async fn asking_nodes<F: std::future::Future>(request: F) -> (F::Output, Vec<String>) {
    #[cfg(feature = "redis")]
    {
        let scope = std::cell::RefCell::default();
        let (out, asked) = roster::ASKING
            .scope(scope, async {
                let out = request.await;
                (out, roster::ASKING.with(|asked| asked.take()))
            })
            .await;
        let mut silent: Vec<String> = asked
            .into_iter()
            .flat_map(|(id, roster)| roster.silent(id))
            .collect();
        silent.sort();
        silent.dedup();
        if !silent.is_empty() {
            tracing::warn!(
                nodes = silent.join(", "),
                "nodes did not answer a request within the request timeout"
            );
        }
        (out, silent)
    }
    #[cfg(not(feature = "redis"))]
    (request.await, Vec::new())
}

/// What [`ServiceManager::health`](crate::ServiceManager::health) says of the link.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LinkHealth {
    /// `up` or `down`.
    pub state: &'static str,
    /// Messages for other nodes given up while the link was down, past what it may
    /// hold (delivered on this node only), since the app started.
    pub unpublished: u64,
    /// The same, by namespace (`nodes` for node events): what the clients of other
    /// nodes missed in each.
    pub unpublished_by_namespace: std::collections::BTreeMap<String, u64>,
    /// Messages for other nodes held now, until the link is back.
    pub held: usize,
    /// Messages published late, after an outage they were held through.
    pub published_late: u64,
    /// Why the link is down, when it is (omitted from the health route unless
    /// `health_details`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The nodes heard on the link lately, this one first, by name (`host#pid`;
    /// omitted from the health route unless `health_details`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<String>,
    /// How many requests each node did not answer within the request timeout, by name
    /// ([`asking_nodes`]; omitted unless `health_details`).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub unanswered: std::collections::BTreeMap<String, u64>,
}

/// What the Redis adapter needs: a link to a Redis server (>= 7, RESP3) that reconnects
/// and re-subscribes by itself (see [`redis_link`]).
#[cfg(feature = "redis")]
pub struct RedisConnection {
    pub(crate) adapter: socketioxide_redis::RedisAdapterCtr<redis_link::LinkDriver>,
    pub(crate) link: std::sync::Arc<redis_link::Link>,
    /// Node events, on the same link.
    pub(crate) nodes: std::sync::Arc<node_bus::NodeBus>,
}

/// Connects to Redis at `url` (`redis://127.0.0.1:6379`); RESP3 is requested for you.
///
/// ```no_run
/// # async fn demo() -> Result<(), specter::Error> {
/// let redis = specter::adapter::connect_redis("redis://127.0.0.1:6379").await?;
/// let app = specter::ServiceManager::builder().redis(redis).discover().build()?;
/// # Ok(()) }
/// ```
#[cfg(feature = "redis")]
pub async fn connect_redis(url: &str) -> Result<RedisConnection, crate::Error> {
    connect_redis_with(url, redis_link::LinkSettings::default()).await
}

/// [`connect_redis`], with how the link is watched.
#[cfg(feature = "redis")]
pub async fn connect_redis_with(
    url: &str,
    settings: redis_link::LinkSettings,
) -> Result<RedisConnection, crate::Error> {
    let client = redis::Client::open(resp3(url)).map_err(redis_error)?;
    linked(redis_link::Target::Single(client), settings).await
}

/// Connects to the Redis Cluster that `nodes` belong to (some of its nodes' URLs:
/// `redis://10.0.0.1:7000`; the others are found from them). The link uses sharded
/// pub/sub (Redis >= 7), follows the slots when they move and re-subscribes to a shard
/// that comes back; while a shard is unreachable the link counts as down, as it does on
/// one server.
///
/// ```no_run
/// # async fn demo() -> Result<(), specter::Error> {
/// let nodes = ["redis://127.0.0.1:7000", "redis://127.0.0.1:7001"];
/// let redis = specter::adapter::connect_redis_cluster(&nodes).await?;
/// let app = specter::ServiceManager::builder().redis(redis).discover().build()?;
/// # Ok(()) }
/// ```
#[cfg(feature = "redis")]
pub async fn connect_redis_cluster(nodes: &[&str]) -> Result<RedisConnection, crate::Error> {
    connect_redis_cluster_with(nodes, redis_link::LinkSettings::default()).await
}

/// [`connect_redis_cluster`], with how the link is watched.
#[cfg(feature = "redis")]
pub async fn connect_redis_cluster_with(
    nodes: &[&str],
    settings: redis_link::LinkSettings,
) -> Result<RedisConnection, crate::Error> {
    if nodes.is_empty() {
        return Err(crate::Error::Redis(
            "a Redis Cluster needs the URL of one of its nodes at least".to_owned(),
        ));
    }
    let seeds = nodes.iter().map(|url| (*url).to_owned()).collect();
    linked(redis_link::Target::Cluster(seeds), settings).await
}

/// Connects to the primary `name` that Redis Sentinel watches, through `sentinels`
/// (their URLs: `redis://10.0.0.1:26379`). After a failover the link asks the sentinels
/// again and moves to the primary they name, subscribing there before it counts as up;
/// meanwhile it is down, as on one server (what other nodes must hear is held). The
/// primary is reached without credentials.
///
/// ```no_run
/// # async fn demo() -> Result<(), specter::Error> {
/// let sentinels = ["redis://127.0.0.1:26379"];
/// let redis = specter::adapter::connect_redis_sentinel(&sentinels, "mymaster").await?;
/// let app = specter::ServiceManager::builder().redis(redis).discover().build()?;
/// # Ok(()) }
/// ```
#[cfg(feature = "redis")]
pub async fn connect_redis_sentinel(
    sentinels: &[&str],
    name: &str,
) -> Result<RedisConnection, crate::Error> {
    connect_redis_sentinel_with(sentinels, name, redis_link::LinkSettings::default()).await
}

/// [`connect_redis_sentinel`], with how the link is watched.
#[cfg(feature = "redis")]
pub async fn connect_redis_sentinel_with(
    sentinels: &[&str],
    name: &str,
    settings: redis_link::LinkSettings,
) -> Result<RedisConnection, crate::Error> {
    if sentinels.is_empty() {
        return Err(crate::Error::Redis(
            "Redis Sentinel needs the URL of one sentinel at least".to_owned(),
        ));
    }
    let sentinels = sentinels.iter().map(|url| (*url).to_owned()).collect();
    let target = redis_link::Target::Sentinel(sentinels, name.to_owned());
    linked(target, settings).await
}

/// `url`, asking for RESP3 (the push messages of pub/sub on the same connection).
#[cfg(feature = "redis")]
fn resp3(url: &str) -> String {
    if url.contains("protocol=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&protocol=resp3")
    } else {
        format!("{url}?protocol=resp3")
    }
}

#[cfg(feature = "redis")]
fn redis_error(e: impl std::fmt::Display) -> crate::Error {
    crate::Error::Redis(e.to_string())
}

/// The adapter, the link and the node events on a link to `target`.
#[cfg(feature = "redis")]
async fn linked(
    target: redis_link::Target,
    settings: redis_link::LinkSettings,
) -> Result<RedisConnection, crate::Error> {
    let (driver, link) = redis_link::LinkDriver::connect(target, settings)
        .await
        .map_err(redis_error)?;
    let nodes = node_bus::NodeBus::linked(driver.clone(), settings.node_events_waiting)
        .await
        .map_err(redis_error)?;
    let adapter = socketioxide_redis::RedisAdapterCtr::new_with_driver(
        driver,
        socketioxide_redis::RedisAdapterConfig::default()
            .with_request_timeout(settings.request_timeout),
    );
    Ok(RedisConnection {
        adapter,
        link,
        nodes,
    })
}
