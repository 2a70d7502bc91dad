//! A primary that Redis Sentinel watches: the link asks the sentinels where it is, and
//! moves to the new one after a failover.
//!
//! redis-rs's `ConnectionManager` reconnects to the address it was given; after a
//! failover that address is a replica, or nothing. So each check of the link asks the
//! current primary its `ROLE`; when it does not answer, or is no longer a master, the
//! link asks the sentinels (`SENTINEL get-master-addr-by-name`), connects to the primary
//! they name, and subscribes there again before it counts as up.

use std::sync::RwLock;
use std::time::Duration;

use redis::RedisResult;
use redis::aio::ConnectionManager;

use super::redis_conn::{Push, manager};

/// The primary of one Sentinel-watched set: see the module's documentation.
pub(crate) struct Primary {
    sentinels: Vec<redis::Client>,
    name: String,
    timeout: Duration,
    push: Push,
    /// Its address, and the connection to it.
    current: RwLock<(String, ConnectionManager)>,
}

impl Primary {
    /// Asks `sentinels` (their URLs) where the primary `name` is, and connects to it.
    pub async fn connect(
        sentinels: Vec<String>,
        name: String,
        timeout: Duration,
        push: Push,
    ) -> RedisResult<Self> {
        let sentinels = sentinels
            .into_iter()
            .map(redis::Client::open)
            .collect::<RedisResult<Vec<_>>>()?;
        let addr = ask(&sentinels, &name).await.map_err(|reason| {
            redis::RedisError::from(std::io::Error::new(std::io::ErrorKind::NotFound, reason))
        })?;
        let conn = manager(&addr, timeout, push.clone()).await?;
        Ok(Self {
            sentinels,
            name,
            timeout,
            push,
            current: RwLock::new((addr, conn)),
        })
    }

    /// The connection to the primary as last known.
    pub fn current(&self) -> ConnectionManager {
        self.current.read().unwrap().1.clone()
    }

    /// `Ok`: the primary answers as a master, or the sentinels named another one and the
    /// link is connected to it (with nothing subscribed yet: the link's check counts
    /// its subscriptions next, [`Conn::check`](super::redis_conn::Conn::check)).
    pub async fn check(&self) -> Result<(), String> {
        let (addr, mut conn) = self.current.read().unwrap().clone();
        let role = redis::cmd("ROLE")
            .query_async::<redis::Value>(&mut conn)
            .await;
        if role.as_ref().is_ok_and(is_master) {
            return Ok(());
        }
        let named = ask(&self.sentinels, &self.name).await?;
        if named == addr {
            return Err(match role {
                Err(e) => format!("the Redis primary {addr} does not answer: {e}"),
                Ok(_) => format!("the Redis primary {addr} is no longer a master"),
            });
        }
        let conn = manager(&named, self.timeout, self.push.clone())
            .await
            .map_err(|e| format!("the new Redis primary {named} does not answer: {e}"))?;
        tracing::warn!(
            from = addr,
            to = named,
            "the sentinels name a new Redis primary: the link moves to it"
        );
        *self.current.write().unwrap() = (named, conn);
        Ok(())
    }
}

/// Whether a `ROLE` answer is a master's (`["master", offset, replicas]`).
fn is_master(role: &redis::Value) -> bool {
    let redis::Value::Array(fields) = role else {
        return false;
    };
    match fields.first() {
        Some(redis::Value::BulkString(b)) => b == b"master",
        Some(redis::Value::SimpleString(s)) => s == "master",
        _ => false,
    }
}

/// The address (`host:port`) the first sentinel that answers gives for `name`.
async fn ask(sentinels: &[redis::Client], name: &str) -> Result<String, String> {
    let mut last = format!("no sentinel knows the Redis primary {name}");
    for sentinel in sentinels {
        let asked = async {
            let mut conn = sentinel.get_multiplexed_async_connection().await?;
            let mut cmd = redis::cmd("SENTINEL");
            cmd.arg("get-master-addr-by-name").arg(name);
            cmd.query_async::<Option<(String, u16)>>(&mut conn).await
        };
        match asked.await {
            Ok(Some((host, port))) => return Ok(format!("{host}:{port}")),
            Ok(None) => last = format!("the sentinels do not know the Redis primary {name}"),
            Err(e) => last = format!("a sentinel does not answer: {e}"),
        }
    }
    Err(last)
}
