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
pub type Adapter = socketioxide_redis::RedisAdapter<socketioxide::adapter::Emitter>;

/// A connected socket, on this build's adapter.
pub type SocketRef = socketioxide::extract::SocketRef<Adapter>;

/// The socket.io server handle, on this build's adapter.
pub type SocketIo = socketioxide::SocketIo<Adapter>;

pub(crate) type Socket = socketioxide::socket::Socket<Adapter>;

pub(crate) type AckSender = socketioxide::extract::AckSender<Adapter>;

/// What the Redis adapter needs: a connection to a Redis server (>= 7, RESP3).
#[cfg(feature = "redis")]
pub type RedisConnection =
    socketioxide_redis::RedisAdapterCtr<socketioxide_redis::drivers::redis::RedisDriver>;

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
    use socketioxide_redis::drivers::redis::redis_client as redis;
    let url = if url.contains("protocol=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&protocol=resp3")
    } else {
        format!("{url}?protocol=resp3")
    };
    let fail = |e: redis::RedisError| crate::Error::Redis(e.to_string());
    let client = redis::Client::open(url).map_err(fail)?;
    socketioxide_redis::RedisAdapterCtr::new_with_redis(&client)
        .await
        .map_err(fail)
}
