//! [`Subscription`]: the handle of one subscriber, to remove it.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use crate::ingress::error_subscribers::ErrorTable;
use crate::ingress::namespace::Namespace;

/// The entries to remove from one namespace's table: each event, with the seqs to go.
type Removals = Vec<(Option<Arc<str>>, Vec<u64>)>;

/// A subscription to an event (or to the error subscribers) of a
/// [`SocketIngress`](crate::SocketIngress).
///
/// Dropping it keeps the subscriber subscribed: most subscriptions live as long as the
/// app. [`unsubscribe`](Self::unsubscribe) removes it.
#[derive(Debug)]
pub struct Subscription {
    pub(crate) target: Target,
    pub(crate) seq: u64,
}

#[derive(Debug)]
pub(crate) enum Target {
    Event {
        ns: Weak<Namespace>,
        /// `None`: a catch-all subscription.
        event: Option<Arc<str>>,
    },
    Error(Weak<ErrorTable>),
}

impl Subscription {
    /// Removes the subscriber. Returns false when it was already removed.
    pub fn unsubscribe(self) -> bool {
        match &self.target {
            Target::Event { ns, event } => ns
                .upgrade()
                .is_some_and(|ns| ns.table.remove(event.clone(), self.seq)),
            Target::Error(table) => table.upgrade().is_some_and(|t| t.remove(self.seq)),
        }
    }

    /// Removes many subscriptions, each event's list copied once however many of its
    /// subscriptions go. Returns how many were still there.
    pub fn unsubscribe_all(subscriptions: Vec<Subscription>) -> usize {
        let mut removed = 0;
        // (namespace, event) -> the seqs to remove from that event's list
        type Key = (*const Namespace, Option<Arc<str>>);
        let mut groups: HashMap<Key, (Arc<Namespace>, Vec<u64>)> = HashMap::new();
        for sub in subscriptions {
            match &sub.target {
                Target::Event { ns, event } => {
                    let Some(ns) = ns.upgrade() else { continue };
                    groups
                        .entry((Arc::as_ptr(&ns), event.clone()))
                        .or_insert_with(|| (ns, Vec::new()))
                        .1
                        .push(sub.seq);
                }
                Target::Error(_) => removed += usize::from(sub.unsubscribe()),
            }
        }
        // One change of each namespace's table, however many of its events lose entries.
        let mut by_namespace: HashMap<*const Namespace, (Arc<Namespace>, Removals)> =
            HashMap::new();
        for ((ptr, event), (ns, mut seqs)) in groups {
            seqs.sort_unstable();
            by_namespace
                .entry(ptr)
                .or_insert_with(|| (ns, Vec::new()))
                .1
                .push((event, seqs));
        }
        for (ns, events) in by_namespace.into_values() {
            removed += ns.table.remove_each(&events);
        }
        removed
    }

    /// The subscribed event: `"*"` for a catch-all subscription, `None` for an error
    /// subscription.
    pub fn event(&self) -> Option<&str> {
        match &self.target {
            Target::Event { event, .. } => Some(event.as_deref().unwrap_or("*")),
            Target::Error(_) => None,
        }
    }
}
