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

    /// Adds each group's entries to its event, each after every entry of lower or equal
    /// (priority, seq): one lock, and one copy of each event's list however many
    /// entries it gains.
    pub fn insert(&self, groups: Vec<(Arc<str>, Vec<Entry>)>) {
        let mut events = self.events.write().unwrap();
        events.reserve(groups.len());
        for (event, mut entries) in groups {
            entries.sort_by_key(Entry::key);
            let list = events.entry(event).or_insert_with(|| Arc::from([]));
            if list.is_empty() {
                *list = entries.into();
                continue;
            }
            let mut next = Vec::with_capacity(list.len() + entries.len());
            let mut old = list.iter().peekable();
            for entry in entries {
                while let Some(e) = old.next_if(|e| e.key() <= entry.key()) {
                    next.push(e.clone());
                }
                next.push(entry);
            }
            next.extend(old.cloned());
            *list = next.into();
        }
    }

    /// Removes the entry `seq` of `event`; true when it was there.
    pub fn remove(&self, event: &str, seq: u64) -> bool {
        self.remove_many(event, &[seq]) == 1
    }

    /// Removes the entries of `event` whose seq is in `seqs` (sorted); returns how many.
    pub fn remove_many(&self, event: &str, seqs: &[u64]) -> usize {
        let mut events = self.events.write().unwrap();
        let Some(list) = events.get_mut(event) else {
            return 0;
        };
        let next: Vec<Entry> = list
            .iter()
            .filter(|e| seqs.binary_search(&e.seq).is_err())
            .cloned()
            .collect();
        let removed = list.len() - next.len();
        if next.is_empty() {
            events.remove(event);
        } else if removed > 0 {
            *list = next.into();
        }
        removed
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
        let e = || Arc::<str>::from("e");
        for (seq, prio) in [(1, 100), (2, 10), (3, 100)] {
            t.insert(vec![(e(), vec![entry(seq, prio)])]);
        }
        t.insert(vec![(
            e(),
            vec![entry(5, 10), entry(4, -5), entry(6, 1000)],
        )]);
        assert_eq!(order(&t), [4, 2, 5, 1, 3, 6]);
        assert!(t.remove("e", 6));
        assert!(t.remove("e", 5));
        assert!(!t.remove("e", 5));
        assert_eq!(order(&t), [4, 2, 1, 3]);
        for seq in [4, 2, 1, 3] {
            t.remove("e", seq);
        }
        assert!(t.get("e").is_none());
    }
}
