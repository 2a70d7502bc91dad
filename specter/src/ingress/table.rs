//! The ingress's event table: for each namespace and event, its subscribers in dispatch
//! order. Written rarely (copy on write), read on every event.

use rustc_hash::FxHashMap;
use std::any::TypeId;
use std::fmt::Write;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use serde::Serialize;

use crate::ingress::interceptor::{Interceptor, Interceptors};
use crate::ingress::metrics::{Labelled, PerEntry};
use crate::ingress::sorted::{self, Keyed};
use crate::subscriber::event_name::CONNECTED;
use crate::subscriber::{Guard, Rate, Source, Subscriber};

/// One subscriber of one event.
#[derive(Clone)]
pub(crate) struct Entry {
    /// Subscription order: unique, increasing; breaks priority ties.
    pub seq: u64,
    pub priority: i32,
    pub owner: Arc<str>,
    pub source: Source,
    pub subscriber: Subscriber,
    /// Bound `concurrent`: may skip its socket's queue.
    pub concurrent: bool,
    /// How long it may run, when bound with a timeout.
    pub timeout: Option<std::time::Duration>,
    /// Its guards, when it has any.
    pub guards: Option<Arc<[Guard]>>,
    /// Its rate limit, when bound with one.
    pub rate: Option<Rate>,
    /// The event it is subscribed to; `None` for a catch-all subscriber.
    pub event: Subscribed,
    /// Its metrics' handles (feature `metrics`; nothing without it).
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub metrics: PerEntry,
}

impl Labelled for Entry {
    fn handles(&self) -> &PerEntry {
        &self.metrics
    }
    fn owner(&self) -> &Arc<str> {
        &self.owner
    }
    fn event(&self) -> Option<&Arc<str>> {
        self.event.as_ref()
    }
}

impl Keyed for Entry {
    fn priority(&self) -> i32 {
        self.priority
    }
    fn seq(&self) -> u64 {
        self.seq
    }
}

/// The subscribers of every event of one namespace: the event table.
///
/// Looked up on every event with the name a client sent, so it hashes with FxHash, not
/// SipHash: clients cannot add keys (only subscriptions do), so there is no table to
/// flood, and a lookup is a fraction of SipHash's cost. It takes no lock either: the
/// lists are an immutable value that a change replaces whole (`ArcSwap`), so the
/// sockets of a namespace, each reading it on every event, never write a shared
/// cache line; changes (subscribing, unsubscribing) are rare and take `write`, and each
/// copies the table's lists of `Arc`s: a component's events are added, and removed at
/// teardown, in one change.
/// What a list of the table is subscribed to: an event, or `None` for every emitted
/// event (the catch-all subscribers).
pub(crate) type Subscribed = Option<Arc<str>>;

#[derive(Default)]
pub(crate) struct EventTable {
    lists: ArcSwap<Lists>,
    write: Mutex<()>,
}

#[derive(Default, Clone)]
struct Lists {
    /// Each event's own subscribers.
    own: FxHashMap<Arc<str>, Arc<[Entry]>>,
    /// The catch-all subscribers, which take every emitted event.
    any: Option<Arc<[Entry]>>,
    /// Each emitted event's own subscribers merged with the catch-all ones, by
    /// (priority, subscription order); empty when there is no catch-all subscriber.
    merged: FxHashMap<Arc<str>, Arc<[Entry]>>,
    /// The interceptors around every dispatch of the namespace (kept here to be read under
    /// the lock the lookup takes anyway).
    interceptors: Option<Interceptors>,
}

/// Whether catch-all subscribers take `event` (every emitted event, not `connect`,
/// `connected` or `disconnect`).
fn takes_any(event: &str) -> bool {
    !matches!(event, "connect" | CONNECTED | "disconnect")
}

impl Lists {
    /// Recomputes the merged list of `event`, or of every event when the catch-all
    /// subscribers changed.
    fn refresh(&mut self, event: Option<&str>) {
        let Some(any) = self.any.clone() else {
            self.merged.clear();
            return;
        };
        match event {
            None => {
                let events: Vec<Arc<str>> = self.own.keys().cloned().collect();
                self.merged.clear();
                for e in events {
                    self.refresh_one(&e, &any);
                }
            }
            Some(event) => self.refresh_one(event, &any),
        }
    }

    fn refresh_one(&mut self, event: &str, any: &Arc<[Entry]>) {
        match self.own.get_key_value(event) {
            Some((key, own)) if takes_any(event) => {
                let merged = sorted::merged(own, any.to_vec());
                self.merged.insert(key.clone(), merged);
            }
            _ => {
                self.merged.remove(event);
            }
        }
    }
}

impl EventTable {
    /// The event's subscribers in dispatch order, catch-all ones included, if it has
    /// any.
    #[inline]
    pub fn get(&self, event: &str) -> Option<Arc<[Entry]>> {
        Self::lookup(&self.lists.load(), event)
    }

    /// The subscribers an event a client sent reaches, and the namespace's interceptors,
    /// from one read: as [`get`](Self::get), but the server's own hook (`connected`)
    /// is no client's event, and a client's event of that name reaches nobody.
    #[inline]
    pub fn route(&self, event: &str) -> (Option<Arc<[Entry]>>, Option<Interceptors>) {
        let lists = self.lists.load();
        let entries = (event != CONNECTED)
            .then(|| Self::lookup(&lists, event))
            .flatten();
        (entries, lists.interceptors.clone())
    }

    /// Changes the lists: a copy, changed, then put in place of the old ones (readers
    /// see one or the other, whole).
    fn change<R>(&self, f: impl FnOnce(&mut Lists) -> R) -> R {
        let _one_writer = self.write.lock().unwrap();
        let mut lists = Lists::clone(&self.lists.load());
        let result = f(&mut lists);
        self.lists.store(Arc::new(lists));
        result
    }

    /// Sets the interceptors around every dispatch (none when empty).
    pub fn set_interceptors(&self, interceptors: Vec<Arc<dyn Interceptor>>) {
        self.change(|lists| {
            lists.interceptors = (!interceptors.is_empty()).then(|| Arc::from(interceptors))
        });
    }

    #[inline]
    fn lookup(lists: &Lists, event: &str) -> Option<Arc<[Entry]>> {
        if lists.merged.is_empty() {
            if let Some(own) = lists.own.get(event) {
                return Some(own.clone());
            }
        } else if let Some(merged) = lists.merged.get(event) {
            return Some(merged.clone());
        } else if let Some(own) = lists.own.get(event) {
            return Some(own.clone());
        }
        if takes_any(event) {
            lists.any.clone()
        } else {
            None
        }
    }

    /// Adds each group's entries to its event, each after every entry of lower or equal
    /// (priority, seq): one lock, and one copy of each event's list however many
    /// entries it gains.
    pub fn insert(&self, groups: Vec<(Subscribed, Vec<Entry>)>) {
        self.change(|lists| {
            lists.own.reserve(groups.len());
            for (event, entries) in groups {
                let list = match &event {
                    Some(e) => lists.own.entry(e.clone()).or_insert_with(|| Arc::from([])),
                    None => lists.any.get_or_insert_with(|| Arc::from([])),
                };
                *list = sorted::merged(list, entries);
                lists.refresh(event.as_deref());
            }
        });
    }

    /// Removes the entry `seq` of `event` (`None`: a catch-all one); true when it was
    /// there.
    pub fn remove(&self, event: Subscribed, seq: u64) -> bool {
        self.remove_each(&[(event, vec![seq])]) == 1
    }

    /// Removes, for each event of `groups` (`None`: the catch-all subscribers), its
    /// entries whose seq is in the group's (sorted) seqs, in one change of the table;
    /// returns how many.
    pub fn remove_each(&self, groups: &[(Subscribed, Vec<u64>)]) -> usize {
        let current = self.lists.load();
        let present = |e: &Subscribed| match e {
            Some(e) => current.own.contains_key(e),
            None => current.any.is_some(),
        };
        if !groups.iter().any(|(e, _)| present(e)) {
            return 0;
        }
        self.change(|lists| {
            let mut removed = 0;
            for (event, seqs) in groups {
                let list = match event {
                    Some(e) => lists.own.get_mut(e),
                    None => lists.any.as_mut(),
                };
                let Some(list) = list else { continue };
                let (next, n) = sorted::without(list, seqs);
                if n == 0 {
                    continue;
                }
                if !next.is_empty() {
                    *list = next;
                } else if let Some(e) = event {
                    lists.own.remove(e);
                } else {
                    lists.any = None;
                }
                lists.refresh(event.as_deref());
                removed += n;
            }
            removed
        })
    }

    /// The catch-all subscribers (`None`), if any, then every event with its own
    /// subscribers, sorted by name.
    pub fn snapshot(&self) -> Vec<(Subscribed, Arc<[Entry]>)> {
        let lists = self.lists.load();
        let mut rows: Vec<_> = lists
            .own
            .iter()
            .map(|(k, v)| (Some(k.clone()), v.clone()))
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(any) = &lists.any {
            rows.insert(0, (None, any.clone()));
        }
        rows
    }
}

/// One row of [`SocketIngress::event_table`](crate::SocketIngress::event_table): an event and its subscribers in dispatch order.
#[derive(Debug, Clone, Serialize)]
pub struct EventRow {
    /// The namespace.
    pub namespace: String,
    /// The event.
    pub event: String,
    /// Its subscribers, in the order they run.
    pub subscribers: Vec<SubscriberRow>,
}

/// A subscriber as [`SocketIngress::event_table`](crate::SocketIngress::event_table) shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SubscriberRow {
    /// The handler or controller that owns it, or the callback's type.
    pub owner: String,
    /// Its priority (lower runs first).
    pub priority: i32,
    /// Its subscription order (breaks priority ties).
    pub order: u64,
    /// Where it was declared.
    pub source: Source,
    /// How many guards it has.
    pub guards: usize,
    /// Its timeout in milliseconds, when it has one of its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u128>,
    /// Whether it lets its event skip the socket's queue.
    pub concurrent: bool,
    /// Its rate limit (`10/1s`), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<String>,
    /// The type of the function, method or closure it calls (the contract's key).
    #[serde(skip)]
    #[cfg_attr(not(feature = "contract"), allow(dead_code))]
    pub(crate) callable: Option<TypeId>,
}

impl SubscriberRow {
    /// Its options as text: `guards=1 timeout=5000ms rate=10/1s concurrent`, or empty.
    pub fn options(&self) -> String {
        let mut parts = Vec::new();
        if self.guards > 0 {
            parts.push(format!("guards={}", self.guards));
        }
        if let Some(ms) = self.timeout_ms {
            parts.push(format!("timeout={ms}ms"));
        }
        if let Some(rate) = &self.rate {
            parts.push(format!("rate={rate}"));
        }
        if self.concurrent {
            parts.push("concurrent".to_owned());
        }
        parts.join(" ")
    }
}

/// The event table as text: one line per subscriber, in dispatch order.
///
/// ```text
/// /  heartbeat  10  presence     src/presence.rs:21
///               100 audit        src/audit.rs:9
/// ```
pub(crate) fn format_table(rows: &[EventRow]) -> String {
    let mut out = String::new();
    for row in rows {
        for (i, s) in row.subscribers.iter().enumerate() {
            let (ns, ev) = if i == 0 {
                (row.namespace.as_str(), row.event.as_str())
            } else {
                ("", "")
            };
            let line = format!(
                "{ns:<8} {ev:<20} {:>5}  {:<24} {} {}",
                s.priority,
                s.owner,
                s.source,
                s.options()
            );
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subscriber::{Call, EventKinds, Outcome, Subscriber};

    fn entry(seq: u64, priority: i32) -> Entry {
        Entry {
            seq,
            priority,
            owner: Arc::from(format!("s{seq}")),
            source: Source::caller(),
            subscriber: Subscriber::new(EventKinds::ALL, |_| Call::Ready(Outcome::Nothing)),
            concurrent: false,
            timeout: None,
            guards: None,
            rate: None,
            event: Some(Arc::from("e")),
            metrics: Default::default(),
        }
    }

    fn order(t: &EventTable) -> Vec<u64> {
        t.get("e")
            .map(|l| l.iter().map(|e| e.seq).collect())
            .unwrap_or_default()
    }

    #[test]
    fn lower_priority_first_and_ties_in_subscription_order() {
        let t = EventTable::default();
        let e = || Some(Arc::<str>::from("e"));
        for (seq, prio) in [(1, 100), (2, 10), (3, 100)] {
            t.insert(vec![(e(), vec![entry(seq, prio)])]);
        }
        t.insert(vec![(
            e(),
            vec![entry(5, 10), entry(4, -5), entry(6, 1000)],
        )]);
        assert_eq!(order(&t), [4, 2, 5, 1, 3, 6]);
        assert!(t.remove(e(), 6));
        assert!(t.remove(e(), 5));
        assert!(!t.remove(e(), 5));
        assert_eq!(order(&t), [4, 2, 1, 3]);
        for seq in [4, 2, 1, 3] {
            t.remove(e(), seq);
        }
        assert!(t.get("e").is_none());
    }
}
