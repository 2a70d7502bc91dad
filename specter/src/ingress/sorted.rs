//! The copy-on-write list both tables keep their subscribers in: sorted by (priority,
//! subscription order), replaced as a whole on every change so that readers (every
//! dispatch) only clone an `Arc`.

use std::sync::Arc;

/// An entry of a sorted list: its (priority, subscription order) key.
pub(crate) trait Keyed: Clone {
    fn priority(&self) -> i32;
    fn seq(&self) -> u64;

    fn key(&self) -> (i32, u64) {
        (self.priority(), self.seq())
    }
}

/// `list` with `added` merged in, each after every entry of lower or equal key: one
/// copy however many entries it gains.
pub(crate) fn merged<T: Keyed>(list: &[T], mut added: Vec<T>) -> Arc<[T]> {
    added.sort_by_key(T::key);
    if list.is_empty() {
        return added.into();
    }
    let mut next = Vec::with_capacity(list.len() + added.len());
    let mut old = list.iter().peekable();
    for entry in added {
        while let Some(e) = old.next_if(|e| e.key() <= entry.key()) {
            next.push(e.clone());
        }
        next.push(entry);
    }
    next.extend(old.cloned());
    next.into()
}

/// `list` without the entries whose seq is in `seqs` (sorted), and how many went.
pub(crate) fn without<T: Keyed>(list: &[T], seqs: &[u64]) -> (Arc<[T]>, usize) {
    let next: Vec<T> = list
        .iter()
        .filter(|e| seqs.binary_search(&e.seq()).is_err())
        .cloned()
        .collect();
    let removed = list.len() - next.len();
    (next.into(), removed)
}
