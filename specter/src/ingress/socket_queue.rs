//! Per-socket order: the events of one socket that wait for the one in flight.
//!
//! An event runs at once (on socketioxide's call, without a task) when nothing of its
//! socket is in flight. Only when a dispatch cannot finish at once (an async subscriber,
//! an ack waiting for room) does the socket become busy: its next events queue here, and
//! the task that finishes the busy dispatch then runs them, one after the other.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;

/// The queue of one socket in one namespace.
pub(crate) struct SocketQueue<T> {
    state: Mutex<State<T>>,
    /// Dispatches in flight that opted out of the queue (`concurrent`).
    concurrent: AtomicUsize,
    idle: Notify,
}

struct State<T> {
    /// A dispatch of this socket is running (inline or in the draining task).
    busy: bool,
    /// The waiting events, each with the size of its payload.
    waiting: VecDeque<(T, usize)>,
    /// The payload bytes of the waiting events.
    waiting_bytes: usize,
    /// Refusing events since the queue was last empty (to log once per episode).
    overflowing: bool,
}

/// What to do with an arriving event.
pub(crate) enum Admit<T> {
    /// Run it now: the socket is marked busy.
    Run(T),
    /// It waits its turn.
    Queued,
    /// The queue is full: refuse it. `first` is true for the first refusal of an episode.
    Refused { event: T, first: bool },
    /// Its payload would take the waiting events past their byte budget.
    OverBudget(T),
}

impl<T> Default for SocketQueue<T> {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                busy: false,
                waiting: VecDeque::new(),
                waiting_bytes: 0,
                overflowing: false,
            }),
            concurrent: AtomicUsize::new(0),
            idle: Notify::new(),
        }
    }
}

impl<T> SocketQueue<T> {
    /// A queue that is busy from the start: the socket's events wait until whoever
    /// holds it (the `connected` hook) drains it.
    pub fn occupied() -> Self {
        let queue = Self::default();
        queue.state.lock().unwrap().busy = true;
        queue
    }

    /// An ordered event arrives: run it when the socket is free, else queue it (at most
    /// `max` waiting, counting concurrent dispatches in flight, and at most `max_bytes`
    /// of waiting payloads, as `bytes` weighs them: only an event that waits is weighed).
    pub fn admit(
        &self,
        event: T,
        bytes: impl FnOnce(&T) -> usize,
        max: usize,
        max_bytes: usize,
    ) -> Admit<T> {
        let mut state = self.state.lock().unwrap();
        if !state.busy {
            state.busy = true;
            return Admit::Run(event);
        }
        if state.waiting.len() + self.concurrent.load(Ordering::Relaxed) >= max {
            let first = !std::mem::replace(&mut state.overflowing, true);
            return Admit::Refused { event, first };
        }
        let bytes = bytes(&event);
        if state.waiting_bytes + bytes > max_bytes {
            return Admit::OverBudget(event);
        }
        state.waiting_bytes += bytes;
        state.waiting.push_back((event, bytes));
        Admit::Queued
    }

    /// An event that skips the queue arrives: `Ok` when it may run (the bound counts
    /// it), else `Err(first)` as for [`Admit::Refused`].
    pub fn enter_concurrent(&self, max: usize) -> Result<(), bool> {
        let mut state = self.state.lock().unwrap();
        if state.waiting.len() + self.concurrent.load(Ordering::Relaxed) >= max {
            return Err(!std::mem::replace(&mut state.overflowing, true));
        }
        self.concurrent.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// A concurrent dispatch ended.
    pub fn leave_concurrent(&self) {
        if self.concurrent.fetch_sub(1, Ordering::Relaxed) == 1 {
            let mut state = self.state.lock().unwrap();
            if state.waiting.is_empty() {
                state.overflowing = false;
            }
        }
    }

    /// The running dispatch ended: the next waiting event, or `None` and the socket is
    /// free.
    pub fn next(&self) -> Option<T> {
        let mut state = self.state.lock().unwrap();
        let next = state.waiting.pop_front().map(|(event, bytes)| {
            state.waiting_bytes -= bytes;
            event
        });
        if next.is_none() {
            state.busy = false;
            state.overflowing = false;
            drop(state);
            self.idle.notify_waiters();
        }
        next
    }

    /// Waits until no ordered dispatch of this socket runs or waits.
    pub async fn idle(&self) {
        loop {
            let idle = self.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if !self.state.lock().unwrap().busy {
                return;
            }
            idle.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_wait_for_the_one_in_flight_in_arrival_order_up_to_the_bound() {
        let q = SocketQueue::default();
        let admit = |n| q.admit(n, |_| 1, 2, usize::MAX);
        assert!(matches!(admit(1), Admit::Run(1)));
        assert!(matches!(admit(2), Admit::Queued));
        assert!(matches!(admit(3), Admit::Queued));
        assert!(matches!(
            admit(4),
            Admit::Refused {
                event: 4,
                first: true
            }
        ));
        assert!(matches!(
            admit(5),
            Admit::Refused {
                event: 5,
                first: false
            }
        ));
        assert_eq!(q.next(), Some(2));
        assert_eq!(q.next(), Some(3));
        assert_eq!(q.next(), None);
        assert!(matches!(admit(6), Admit::Run(6)), "free again");
    }

    #[test]
    fn waiting_payloads_are_bounded_in_bytes_and_give_their_bytes_back() {
        let q = SocketQueue::default();
        let admit = |n, bytes: usize| q.admit(n, move |_| bytes, 10, 1000);
        assert!(
            matches!(admit(1, 900), Admit::Run(1)),
            "a running event is not counted"
        );
        assert!(matches!(admit(2, 600), Admit::Queued));
        assert!(matches!(admit(3, 500), Admit::OverBudget(3)));
        assert!(matches!(admit(4, 400), Admit::Queued));
        assert_eq!(q.next(), Some(2));
        assert!(matches!(admit(5, 600), Admit::Queued), "2's bytes are free");
    }
}
