//! The connection under the Redis link: one server, a primary that Sentinel watches
//! ([`super::redis_sentinel`]), or a Redis Cluster.
//!
//! Both reconnect by themselves (redis-rs's `ConnectionManager`, and its cluster
//! connection, which also follows slots that move); the first re-subscribes by itself,
//! the second not always ([`Conn::subscribe_again`]). On a cluster the link uses
//! sharded pub/sub (`SPUBLISH`, `SSUBSCRIBE`, Redis >= 7): each channel lives on the shard
//! of its slot, so a message crosses one shard instead of every node of the cluster, as
//! node's `@socket.io/redis-adapter` does in its sharded mode.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::{AsyncCommands, FromRedisValue, PushInfo, RedisResult};

use super::redis_sentinel::Primary;

/// What receives the push messages (pub/sub) of every connection of the link.
pub(crate) type Push = Arc<dyn Fn(PushInfo) + Send + Sync>;

/// One server, a Sentinel-watched primary, or a cluster: see the module's documentation.
#[derive(Clone)]
pub(crate) enum Conn {
    Single(ConnectionManager),
    Sentinel(Arc<Primary>),
    Cluster(ClusterConnection),
}

/// The connection one command goes on.
enum Now {
    One(ConnectionManager),
    Cluster(ClusterConnection),
}

/// A connection to the server at `addr` (`host:port`, RESP3), which reconnects and
/// re-subscribes by itself.
pub(crate) async fn manager(
    addr: &str,
    timeout: Duration,
    push: Push,
) -> RedisResult<ConnectionManager> {
    let client = redis::Client::open(format!("redis://{addr}/?protocol=resp3"))?;
    managed(client, timeout, push).await
}

async fn managed(
    client: redis::Client,
    timeout: Duration,
    push: Push,
) -> RedisResult<ConnectionManager> {
    let config = ConnectionManagerConfig::new()
        .set_push_sender(move |info: PushInfo| {
            push(info);
            Ok::<(), std::convert::Infallible>(())
        })
        .set_automatic_resubscription()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_millis(500));
    ConnectionManager::new_with_config(client, config).await
}

impl Conn {
    /// A connection to one server (RESP3), each push message handed to `push`.
    pub async fn single(client: redis::Client, timeout: Duration, push: Push) -> RedisResult<Self> {
        Ok(Self::Single(managed(client, timeout, push).await?))
    }

    /// A connection to the primary `name` that `sentinels` watch.
    pub async fn sentinel(
        sentinels: Vec<String>,
        name: String,
        timeout: Duration,
        push: Push,
    ) -> RedisResult<Self> {
        let primary = Primary::connect(sentinels, name, timeout, push).await?;
        Ok(Self::Sentinel(Arc::new(primary)))
    }

    fn now(&self) -> Now {
        match self {
            Self::Single(c) => Now::One(c.clone()),
            Self::Sentinel(p) => Now::One(p.current()),
            Self::Cluster(c) => Now::Cluster(c.clone()),
        }
    }

    /// A connection to the cluster that `seeds` belong to (RESP3).
    pub async fn cluster(seeds: Vec<String>, timeout: Duration, push: Push) -> RedisResult<Self> {
        let client = ClusterClient::builder(seeds)
            .use_protocol(redis::ProtocolVersion::RESP3)
            .connection_timeout(timeout)
            .response_timeout(timeout)
            .retries(1)
            .max_retry_wait(500)
            .push_sender(move |info: PushInfo| {
                push(info);
                Ok::<(), std::convert::Infallible>(())
            })
            .build()?;
        Ok(Self::Cluster(client.get_async_connection().await?))
    }

    pub async fn publish(&self, chan: &str, val: &[u8]) -> RedisResult<()> {
        match self.now() {
            Now::One(mut c) => c.publish::<_, _, redis::Value>(chan, val).await,
            Now::Cluster(mut c) => c.spublish::<_, _, redis::Value>(chan, val).await,
        }
        .map(drop)
    }

    pub async fn subscribe(&self, chan: &str) -> RedisResult<()> {
        match self.now() {
            Now::One(mut c) => c.subscribe(chan).await,
            Now::Cluster(mut c) => c.ssubscribe(chan).await,
        }
    }

    pub async fn unsubscribe(&self, chan: &str) -> RedisResult<()> {
        match self.now() {
            Now::One(mut c) => c.unsubscribe(chan).await,
            Now::Cluster(mut c) => c.sunsubscribe(chan).await,
        }
    }

    /// Subscribes to `channels` again. One server's connection does it by itself when it
    /// reconnects, unless a subscription fails; a new primary named by the sentinels has
    /// nothing subscribed; a cluster's connection does it on some paths only (a
    /// connection to a restarted shard may come back without its subscriptions); so the
    /// link counts them at every check ([`check`](Self::check)); a subscription to a
    /// channel already subscribed changes nothing.
    pub async fn subscribe_again(&self, channels: &[String]) -> RedisResult<()> {
        for chan in channels {
            self.subscribe(chan).await?;
        }
        Ok(())
    }

    /// How many connections listen on each of `channels` (on a cluster, on its shard).
    pub async fn listeners(&self, channels: &[String]) -> RedisResult<HashMap<String, u16>> {
        match self.now() {
            Now::One(mut c) => {
                let mut numsub = redis::cmd("PUBSUB");
                numsub.arg("NUMSUB").arg(channels);
                numsub.query_async(&mut c).await
            }
            // To the primary of each channel's slot only (redis-rs would ask every node
            // and add their counts, failing when any one does not answer).
            Now::Cluster(mut c) => {
                let mut counts = HashMap::new();
                for chan in channels {
                    let mut numsub = redis::cmd("PUBSUB");
                    numsub.arg("SHARDNUMSUB").arg(chan);
                    let owner = Route::with_key(chan, SlotAddr::Master);
                    let owner = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(owner));
                    let answer = c.route_command(numsub, owner).await?;
                    let count: HashMap<String, u16> = HashMap::from_redis_value(answer)?;
                    counts.extend(count);
                }
                Ok(counts)
            }
        }
    }

    /// Checks the link and counts its subscriptions: a `CLIENT INFO` (`sub=`); behind
    /// sentinels, a `ROLE` first, which moves the link to a new primary
    /// ([`Primary::check`]); on a cluster, a `CLIENT INFO` to each primary that the slot
    /// map names (`ssub=`), so that one unreachable shard is a link down. `Err` says why
    /// the check failed, naming the node.
    pub async fn check(&self) -> Result<usize, String> {
        if let Self::Sentinel(primary) = self {
            primary.check().await?;
        }
        match self.now() {
            Now::One(mut c) => {
                let info = redis::cmd("CLIENT").arg("INFO").query_async(&mut c).await;
                let info: String = info.map_err(|e| e.to_string())?;
                Ok(subscriptions(&info, "sub="))
            }
            Now::Cluster(mut c) => {
                let mut slots = redis::cmd("CLUSTER");
                let slots = slots.arg("SLOTS").query_async::<redis::Value>(&mut c).await;
                let slots = slots.map_err(|e| e.to_string())?;
                let mut subscribed = 0;
                for (host, port) in primaries(&slots) {
                    let node = format!("{host}:{port}");
                    let route = SingleNodeRoutingInfo::ByAddress { host, port };
                    let mut info = redis::cmd("CLIENT");
                    info.arg("INFO");
                    let answer = match c.route_command(info, RoutingInfo::SingleNode(route)).await {
                        Ok(v) => String::from_redis_value(v).map_err(|e| e.to_string()),
                        Err(e) => Err(e.to_string()),
                    };
                    let answer = answer.map_err(|e| {
                        format!("the Redis Cluster node {node} does not answer: {e}")
                    })?;
                    subscribed += subscriptions(&answer, "ssub=");
                }
                Ok(subscribed)
            }
        }
    }
}

/// The `N` of a `CLIENT INFO` line's `field` (`sub=N`, `ssub=N`).
fn subscriptions(info: &str, field: &str) -> usize {
    info.split_whitespace()
        .find_map(|f| f.strip_prefix(field))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The primaries of a `CLUSTER SLOTS` answer: `[[start, end, [host, port, ..], ..], ..]`.
fn primaries(slots: &redis::Value) -> Vec<(String, u16)> {
    use redis::Value::{Array, BulkString, Int, SimpleString};
    let mut found: Vec<(String, u16)> = Vec::new();
    let Array(ranges) = slots else {
        return found;
    };
    for range in ranges {
        let Array(range) = range else { continue };
        let Some(Array(primary)) = range.get(2) else {
            continue;
        };
        let host = match primary.first() {
            Some(BulkString(b)) => String::from_utf8_lossy(b).into_owned(),
            Some(SimpleString(s)) => s.clone(),
            _ => continue,
        };
        let Some(Int(port)) = primary.get(1) else {
            continue;
        };
        let node = (host, *port as u16);
        if !found.contains(&node) {
            found.push(node);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::subscriptions;

    #[test]
    fn a_client_info_line_gives_its_subscriptions() {
        let info = "id=7 addr=127.0.0.1:5 db=0 sub=3 psub=1 ssub=2 multi=-1 resp=3";
        assert_eq!(subscriptions(info, "sub="), 3);
        assert_eq!(subscriptions(info, "ssub="), 2);
        assert_eq!(subscriptions("id=7 db=0", "sub="), 0);
    }
}
