//! Which nodes are there, and which answered a request (feature `redis`).
//!
//! Each node says it is alive on the bus of node events every check of its link
//! (`specter:alive`, with its adapter's id and its name, `host#pid`); the roster is the
//! nodes heard within the last [`FORGET_AFTER_CHECKS`] checks. A request that other nodes
//! answer (`fetch_sockets`, the rooms, a broadcast with acks), made inside
//! [`asking_nodes`](super::asking_nodes), is remembered by its id when the link publishes
//! it, and each answer routed to it by the id of the node that sent it: once the request
//! is over, the nodes of the roster that did not answer are named, and counted by name in
//! the link's health.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::de::{self, Deserializer, IgnoredAny, SeqAccess, Visitor};
use socketioxide_core::{Sid, Uid};

/// After how many checks of the link without a word a node leaves the roster.
pub(crate) const FORGET_AFTER_CHECKS: u32 = 10;

/// The node event each node sends every check of its link.
pub(crate) const ALIVE: &str = "specter:alive";

/// The request types that other nodes answer: a broadcast with acks, the rooms, the
/// sockets (socketioxide-core's `RequestTypeOut` numbering).
const ANSWERED_TYPES: [u8; 3] = [1, 3, 6];

tokio::task_local! {
    /// The requests made in an [`asking_nodes`](super::asking_nodes) scope, and the
    /// roster each was made on.
    pub(crate) static ASKING: RefCell<Vec<(Sid, Arc<Roster>)>>;
}

/// The nodes heard lately, and who answered the requests being watched.
pub(crate) struct Roster {
    forget_after: Duration,
    /// This node's name, once the app is built.
    me: OnceLock<String>,
    /// The other nodes, by adapter id: their name, and when they were last heard.
    heard: Mutex<HashMap<String, (String, Instant)>>,
    /// The requests watched, by id: the ids of the nodes that answered.
    asked: Mutex<HashMap<Sid, HashSet<String>>>,
    /// How many requests are watched: answers are decoded only while some are.
    watching: AtomicUsize,
    /// Requests each node did not answer, by its name, since the app started.
    unanswered: Mutex<BTreeMap<String, u64>>,
}

impl fmt::Debug for Roster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Roster")
    }
}

impl Roster {
    pub fn new(check_every: Duration) -> Self {
        Self {
            forget_after: check_every * FORGET_AFTER_CHECKS,
            me: OnceLock::new(),
            heard: Mutex::default(),
            asked: Mutex::default(),
            watching: AtomicUsize::new(0),
            unanswered: Mutex::default(),
        }
    }

    /// This node's name.
    pub fn set_me(&self, name: String) {
        let _ = self.me.set(name);
    }

    /// Another node said it is alive.
    pub fn heard(&self, uid: String, name: String) {
        let mut heard = self.heard.lock().unwrap();
        heard.insert(uid, (name, Instant::now()));
    }

    /// The adapter ids of the other nodes heard lately.
    pub fn uids(&self) -> Vec<String> {
        let heard = self.heard.lock().unwrap();
        let lately = heard
            .iter()
            .filter(|(_, (_, at))| at.elapsed() < self.forget_after);
        lately.map(|(uid, _)| uid.clone()).collect()
    }

    /// Whether each of the nodes `uids` was heard after `since`.
    pub fn all_heard_since(&self, uids: &[String], since: Instant) -> bool {
        let heard = self.heard.lock().unwrap();
        uids.iter()
            .all(|uid| heard.get(uid).is_some_and(|(_, at)| *at > since))
    }

    /// The names of the nodes heard lately, this one first.
    pub fn names(&self) -> Vec<String> {
        let mut heard = self.heard.lock().unwrap();
        heard.retain(|_, (_, at)| at.elapsed() < self.forget_after);
        let others: BTreeSet<String> = heard.values().map(|(name, _)| name.clone()).collect();
        self.me.get().cloned().into_iter().chain(others).collect()
    }

    /// Watches `request`, published on `chan`, when it is one that other nodes answer
    /// and it is made inside an `asking_nodes` scope.
    pub fn watch_request(self: &Arc<Self>, chan: &str, request: &[u8]) {
        if !chan.starts_with("socket.io-request#") || ASKING.try_with(|_| ()).is_err() {
            return;
        }
        let Ok(head) = rmp_serde::from_slice::<RequestHead>(request) else {
            return;
        };
        if !ANSWERED_TYPES.contains(&head.kind) {
            return;
        }
        self.asked.lock().unwrap().insert(head.id, HashSet::new());
        self.watching.fetch_add(1, Ordering::Relaxed);
        let _ = ASKING.try_with(|asking| asking.borrow_mut().push((head.id, self.clone())));
    }

    /// Notes which node sent `response`, on `chan`, when it answers a watched request.
    pub fn watch_response(&self, chan: &str, response: &[u8]) {
        if self.watching.load(Ordering::Relaxed) == 0 || !chan.starts_with("socket.io-response#") {
            return;
        }
        let Ok((id, (node, _))) = rmp_serde::from_slice::<(Sid, (Uid, IgnoredAny))>(response)
        else {
            return;
        };
        if let Some(answered) = self.asked.lock().unwrap().get_mut(&id) {
            answered.insert(node.to_string());
        }
    }

    /// The request `id` is over: the names of the nodes of the roster that did not
    /// answer it, each counted.
    pub fn silent(&self, id: Sid) -> Vec<String> {
        let Some(answered) = self.asked.lock().unwrap().remove(&id) else {
            return Vec::new();
        };
        self.watching.fetch_sub(1, Ordering::Relaxed);
        let mut heard = self.heard.lock().unwrap();
        heard.retain(|_, (_, at)| at.elapsed() < self.forget_after);
        let silent: Vec<String> = heard
            .iter()
            .filter(|(uid, _)| !answered.contains(*uid))
            .map(|(_, (name, _))| name.clone())
            .collect();
        drop(heard);
        let mut unanswered = self.unanswered.lock().unwrap();
        for name in &silent {
            *unanswered.entry(name.clone()).or_default() += 1;
        }
        silent
    }

    pub fn unanswered(&self) -> BTreeMap<String, u64> {
        self.unanswered.lock().unwrap().clone()
    }
}

/// The first fields of a request of the adapter: who asks, the request's id, and its
/// type; the rest is skipped, unread.
struct RequestHead {
    id: Sid,
    kind: u8,
}

impl<'de> serde::Deserialize<'de> for RequestHead {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Head;
        impl<'de> Visitor<'de> for Head {
            type Value = RequestHead;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a request of the adapter")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RequestHead, A::Error> {
                let short = || de::Error::custom("a request without its id and type");
                let _node: Uid = seq.next_element()?.ok_or_else(short)?;
                let id = seq.next_element()?.ok_or_else(short)?;
                let kind = seq.next_element()?.ok_or_else(short)?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(RequestHead { id, kind })
            }
        }
        d.deserialize_seq(Head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use socketioxide_core::adapter::BroadcastOptions;
    use socketioxide_core::adapter::remote_packet::{
        RequestOut, RequestTypeOut, Response, ResponseType,
    };

    fn response(id: Sid, node: Uid) -> Vec<u8> {
        let res = Response::<()> {
            node_id: node,
            r#type: ResponseType::AllRooms(Default::default()),
        };
        rmp_serde::to_vec(&(id, res)).unwrap()
    }

    #[tokio::test]
    async fn the_nodes_heard_that_did_not_answer_a_request_are_named_and_counted() {
        let roster = Arc::new(Roster::new(Duration::from_millis(500)));
        let (me, ann, bob) = (Uid::new(), Uid::new(), Uid::new());
        roster.set_me("host#1".into());
        roster.heard(ann.to_string(), "host#2".into());
        roster.heard(bob.to_string(), "host#3".into());
        assert_eq!(roster.names(), ["host#1", "host#2", "host#3"]);

        let opts = BroadcastOptions::default();
        let asked = ASKING.scope(RefCell::default(), async {
            let rooms = RequestOut::new(me, RequestTypeOut::AllRooms, &opts);
            let id = rooms.id;
            roster.watch_request("socket.io-request#/#", &rmp_serde::to_vec(&rooms).unwrap());
            // A broadcast is not answered: not watched.
            let data = socketioxide_core::Value::Str("[\"x\"]".into(), None);
            let packet = socketioxide_core::packet::Packet::event("/", data);
            let out = RequestOut::new(me, RequestTypeOut::Broadcast(&packet), &opts);
            roster.watch_request("socket.io-request#/#", &rmp_serde::to_vec(&out).unwrap());
            roster.watch_response("socket.io-response#/#x#", &response(id, ann));
            // An answer to another request, and garbage, change nothing.
            roster.watch_response("socket.io-response#/#x#", &response(Sid::new(), bob));
            roster.watch_response("socket.io-response#/#x#", b"\x93garbage");
            ASKING.with(|a| a.take())
        });
        let asked = asked.await;
        assert_eq!(asked.len(), 1, "the rooms request only");
        assert_eq!(roster.silent(asked[0].0), ["host#3"]);
        assert_eq!(
            roster.unanswered(),
            BTreeMap::from([("host#3".to_owned(), 1)])
        );

        // Outside a scope, nothing is watched.
        let rooms = RequestOut::new(me, RequestTypeOut::AllRooms, &opts);
        roster.watch_request("socket.io-request#/#", &rmp_serde::to_vec(&rooms).unwrap());
        assert_eq!(roster.silent(rooms.id), Vec::<String>::new());
    }
}
