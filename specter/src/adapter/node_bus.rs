//! The bus of node events: what one node of the app tells the others (node socket.io's
//! `serverSideEmit`), beside the adapter's client broadcasts.
//!
//! On one node (no `redis` feature, or no Redis link) there are no others: a node event
//! reaches no one, and that is a success. On several, each event is one message on the
//! Redis channel [`CHANNEL`], `{"node": .., "event": .., "data": ..}`, which every node
//! subscribes to through the same link as the adapter (so it is re-subscribed after a
//! Redis restart); a node skips its own messages. A node's listeners of one event run in
//! the order they listened, one message after the other, each failure or panic logged
//! and isolated.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use futures_util::FutureExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The Redis channel of node events.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub const CHANNEL: &str = "specter#nodes";

/// A listener of one node event: its payload, as JSON.
pub(crate) type Listener = dyn Fn(Value) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync;

type Listeners = HashMap<&'static str, Vec<(u64, Arc<Listener>)>>;

/// One message of the bus.
#[derive(Serialize, Deserialize)]
struct Message<'a> {
    /// The node that sent it.
    node: u64,
    #[serde(borrow)]
    event: std::borrow::Cow<'a, str>,
    data: Value,
}

/// The node events of one app: its listeners, and the link to the other nodes.
pub(crate) struct NodeBus {
    /// This node's id on the bus, random per process.
    node: u64,
    seq: AtomicU64,
    listeners: RwLock<Listeners>,
    #[cfg(feature = "redis")]
    link: Option<super::redis_link::LinkDriver>,
}

impl std::fmt::Debug for NodeBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeBus")
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

impl Default for NodeBus {
    fn default() -> Self {
        Self::new()
    }
}

impl NodeBus {
    /// The bus of a node alone: its events reach no other node.
    pub fn new() -> Self {
        Self {
            node: rand_id(),
            seq: AtomicU64::new(0),
            listeners: RwLock::default(),
            #[cfg(feature = "redis")]
            link: None,
        }
    }

    /// The bus of a node on `link`: subscribes to [`CHANNEL`] and hands each message of
    /// another node to this node's listeners, `waiting` of them at most waiting.
    #[cfg(feature = "redis")]
    pub async fn linked(
        link: super::redis_link::LinkDriver,
        waiting: usize,
    ) -> Result<Arc<Self>, super::redis_link::LinkError> {
        use socketioxide_redis::drivers::Driver;
        let mut messages = link.subscribe(CHANNEL.to_owned(), waiting.max(1)).await?;
        let bus = Arc::new(Self {
            link: Some(link),
            ..Self::new()
        });
        let weak = Arc::downgrade(&bus);
        tokio::spawn(async move {
            use futures_util::StreamExt;
            while let Some((_, bytes)) = messages.next().await {
                let Some(bus) = weak.upgrade() else { return };
                bus.receive(&bytes).await;
            }
        });
        Ok(bus)
    }

    /// This node is `uid` in the adapter: from now on, each check of the link tells the
    /// other nodes it is alive, with its id and name (see `roster`).
    #[cfg(feature = "redis")]
    pub fn announce(&self, uid: socketioxide_core::Uid) {
        let Some(link) = &self.link else { return };
        let name = super::node_name();
        link.roster().set_me(name.clone());
        let message = Message {
            node: self.node,
            event: super::roster::ALIVE.into(),
            data: serde_json::json!({"uid": uid.to_string(), "name": name}),
        };
        link.set_alive(serde_json::to_vec(&message).expect("JSON of strings"));
    }

    /// The Redis link the bus rides, if any.
    #[cfg(feature = "redis")]
    pub fn driver(&self) -> Option<&super::redis_link::LinkDriver> {
        self.link.as_ref()
    }

    /// Listens to `event`; returns the id that [`unlisten`](Self::unlisten) takes.
    pub fn listen(&self, event: &'static str, listener: Arc<Listener>) -> u64 {
        let id = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let mut listeners = self.listeners.write().unwrap();
        listeners.entry(event).or_default().push((id, listener));
        id
    }

    pub fn unlisten(&self, event: &'static str, id: u64) {
        let mut listeners = self.listeners.write().unwrap();
        if let Some(list) = listeners.get_mut(event) {
            list.retain(|(i, _)| *i != id);
        }
    }

    /// Tells the other nodes `event` with `data`; `Err` says why they were not reached
    /// (the Redis link is down, a publish failed). Alone, there is nobody to tell.
    pub async fn publish(&self, event: &'static str, data: Value) -> Result<(), String> {
        #[cfg(feature = "redis")]
        if let Some(link) = &self.link {
            let message = Message {
                node: self.node,
                event: event.into(),
                data,
            };
            let bytes = serde_json::to_vec(&message).map_err(|e| e.to_string())?;
            return link.publish_checked(CHANNEL, bytes).await;
        }
        let _ = (event, data, self.node);
        Ok(())
    }

    /// Runs this node's listeners of a message from another node.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    async fn receive(&self, bytes: &[u8]) {
        let message: Message<'_> = match serde_json::from_slice(bytes) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "a node event that is not one was ignored");
                return;
            }
        };
        if message.node == self.node {
            return;
        }
        #[cfg(feature = "redis")]
        if message.event == super::roster::ALIVE {
            if let (Some(link), Some(uid), Some(name)) = (
                &self.link,
                message.data["uid"].as_str(),
                message.data["name"].as_str(),
            ) {
                link.roster().heard(uid.to_owned(), name.to_owned());
            }
            return;
        }
        let listeners: Vec<Arc<Listener>> = {
            let all = self.listeners.read().unwrap();
            all.get(&*message.event)
                .map(|list| list.iter().map(|(_, l)| l.clone()).collect())
                .unwrap_or_default()
        };
        for listener in listeners {
            let run = AssertUnwindSafe(async { listener(message.data.clone()).await });
            if run.catch_unwind().await.is_err() {
                tracing::error!(event = %message.event, "a node event's listener panicked");
            }
        }
    }
}

/// A random id, from the process's hasher seeds and the clock (no `rand` dependency).
fn rand_id() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_message_of_another_node_reaches_the_listeners_of_its_event_in_order() {
        let bus = NodeBus::new();
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        for who in ["first", "second"] {
            let seen = seen.clone();
            let listener: Arc<Listener> = Arc::new(move |data| {
                let seen = seen.clone();
                Box::pin(async move { seen.lock().unwrap().push(format!("{who} {data}")) })
            });
            bus.listen("joined", listener);
        }
        let panicking: Arc<Listener> = Arc::new(|_| Box::pin(async { panic!("boom") }));
        let id = bus.listen("joined", panicking);
        let other = |event: &str, data: Value| {
            serde_json::to_vec(&Message {
                node: bus.node + 1,
                event: event.into(),
                data,
            })
            .unwrap()
        };
        bus.receive(&other("joined", serde_json::json!("ann")))
            .await;
        bus.receive(&other("left", serde_json::json!("ann"))).await;
        bus.unlisten("joined", id);
        // Its own messages and garbage reach nobody.
        let own = serde_json::to_vec(&Message {
            node: bus.node,
            event: "joined".into(),
            data: serde_json::json!("bob"),
        })
        .unwrap();
        bus.receive(&own).await;
        bus.receive(b"not json").await;
        assert_eq!(*seen.lock().unwrap(), ["first \"ann\"", "second \"ann\""]);
    }
}
