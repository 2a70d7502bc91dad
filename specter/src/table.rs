//! The ingress's event table: for each namespace and event, its subscribers in dispatch
//! order. Written rarely (copy on write), read on every event.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde::Serialize;

use crate::subscriber::Subscriber;

/// Where a subscriber was declared, for logs and the printed event table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Source {
    /// Source file, as `file!()` gives it.
    pub file: &'static str,
    /// Line in that file.
    pub line: u32,
}

impl Source {
    /// The caller's location.
    #[track_caller]
    pub fn caller() -> Self {
        let l = std::panic::Location::caller();
        Self {
            file: l.file(),
            line: l.line(),
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One subscriber of one event.
#[derive(Clone)]
pub(crate) struct Entry {
    /// Subscription order: unique, increasing; breaks priority ties.
    pub seq: u64,
    pub priority: i32,
    pub owner: Arc<str>,
    pub source: Source,
    pub subscriber: Subscriber,
}

impl Entry {
    fn key(&self) -> (i32, u64) {
        (self.priority, self.seq)
    }
}

/// The subscribers of every event of one namespace.
#[derive(Default)]
pub(crate) struct NsTable {
    events: RwLock<HashMap<Arc<str>, Arc<[Entry]>>>,
}

impl NsTable {
    /// The event's subscribers in dispatch order, if it has any.
    #[inline]
    pub fn get(&self, event: &str) -> Option<Arc<[Entry]>> {
        self.events.read().unwrap().get(event).cloned()
    }

    /// Adds `entry` after every entry of lower or equal (priority, seq).
    pub fn insert(&self, event: &str, entry: Entry) {
        let mut events = self.events.write().unwrap();
        let list = events
            .entry(Arc::from(event))
            .or_insert_with(|| Arc::from([]));
        let at = list.partition_point(|e| e.key() <= entry.key());
        let mut next = Vec::with_capacity(list.len() + 1);
        next.extend_from_slice(&list[..at]);
        next.push(entry);
        next.extend_from_slice(&list[at..]);
        *list = next.into();
    }

    /// Removes the entry `seq` of `event`; true when it was there.
    pub fn remove(&self, event: &str, seq: u64) -> bool {
        let mut events = self.events.write().unwrap();
        let Some(list) = events.get_mut(event) else {
            return false;
        };
        if !list.iter().any(|e| e.seq == seq) {
            return false;
        }
        let next: Vec<Entry> = list.iter().filter(|e| e.seq != seq).cloned().collect();
        if next.is_empty() {
            events.remove(event);
        } else {
            *list = next.into();
        }
        true
    }

    /// Every event with its subscribers, events sorted by name.
    pub fn snapshot(&self) -> Vec<(Arc<str>, Arc<[Entry]>)> {
        let mut rows: Vec<_> = self
            .events
            .read()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::EventKinds;
    use crate::outcome::Outcome;
    use crate::subscriber::{Call, Subscriber};

    fn entry(seq: u64, priority: i32) -> Entry {
        Entry {
            seq,
            priority,
            owner: Arc::from(format!("s{seq}")),
            source: Source::caller(),
            subscriber: Subscriber::new(EventKinds::ALL, |_| Call::Ready(Outcome::Nothing)),
        }
    }

    fn order(t: &NsTable) -> Vec<u64> {
        t.get("e")
            .map(|l| l.iter().map(|e| e.seq).collect())
            .unwrap_or_default()
    }

    #[test]
    fn lower_priority_first_and_ties_in_subscription_order() {
        let t = NsTable::default();
        for (seq, prio) in [(1, 100), (2, 10), (3, 100), (4, -5), (5, 10)] {
            t.insert("e", entry(seq, prio));
        }
        assert_eq!(order(&t), [4, 2, 5, 1, 3]);
        assert!(t.remove("e", 5));
        assert!(!t.remove("e", 5));
        assert_eq!(order(&t), [4, 2, 1, 3]);
        for seq in [4, 2, 1, 3] {
            t.remove("e", seq);
        }
        assert!(t.get("e").is_none());
    }
}
