//! Events nobody subscribes to, per socket: logged once per episode with a count, and
//! bounded by a budget past which the socket is disconnected.
//!
//! A client that sends names nobody listens to is mistaken or probing. One log line per
//! such event lets one client write the server's log at its own rate (a 3 s flood wrote
//! 200,000 lines), so an episode (a minute from its first unknown event) logs its first
//! event at once and its count when the next episode begins or the socket goes. More
//! than the budget within one episode disconnects the socket.

use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use socketioxide::socket::Sid;

use crate::client_text::Shown;

/// How long an episode of unknown events lasts, from its first.
pub(crate) const EPISODE: Duration = Duration::from_secs(60);

/// The unknown events of one socket in one namespace. Nothing is allocated or locked
/// until the first one.
#[derive(Default)]
pub(crate) struct UnknownEvents {
    episode: Mutex<Option<Episode>>,
}

struct Episode {
    namespace: Arc<str>,
    socket: Sid,
    started: Instant,
    count: u64,
}

/// What to do with an unknown event.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Budget {
    /// Answer it (`unknown_event`) and go on.
    Left,
    /// The socket went over its budget: disconnect it.
    Spent,
}

impl UnknownEvents {
    /// Counts an unknown event `event` of `socket`; logs it when it opens an episode.
    #[cold]
    pub fn count(&self, namespace: &Arc<str>, socket: Sid, event: &str, budget: u64) -> Budget {
        let mut slot = self.episode.lock().unwrap();
        let now = Instant::now();
        match slot.as_mut() {
            Some(episode) if now.duration_since(episode.started) < EPISODE => {
                episode.count += 1;
            }
            _ => {
                if let Some(previous) = slot.take() {
                    previous.summarize();
                }
                tracing::warn!(
                    namespace = %namespace,
                    socket = %socket,
                    event = ?Shown(event),
                    "no subscriber for event (further ones from this socket are counted, \
                     not logged, for a minute)"
                );
                *slot = Some(Episode {
                    namespace: namespace.clone(),
                    socket,
                    started: now,
                    count: 1,
                });
            }
        }
        let count = slot.as_ref().map_or(0, |e| e.count);
        if count > budget {
            tracing::warn!(
                namespace = %namespace,
                socket = %socket,
                count,
                budget,
                "too many events nobody subscribes to: disconnecting the socket"
            );
            // Its count is in this line: no summary when the socket goes.
            slot.take();
            return Budget::Spent;
        }
        Budget::Left
    }
}

impl Episode {
    /// The episode's count, when there was more than its first event.
    fn summarize(&self) {
        if self.count > 1 {
            tracing::info!(
                namespace = %self.namespace,
                socket = %self.socket,
                count = self.count,
                "events nobody subscribes to, in the last episode of this socket"
            );
        }
    }
}

impl Drop for UnknownEvents {
    fn drop(&mut self) {
        if let Some(episode) = self.episode.get_mut().ok().and_then(|e| e.take()) {
            episode.summarize();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_is_disconnected_past_its_budget_within_an_episode() {
        let unknown = UnknownEvents::default();
        let ns: Arc<str> = Arc::from("/");
        let sid = Sid::new();
        for _ in 0..3 {
            assert_eq!(unknown.count(&ns, sid, "nope", 3), Budget::Left);
        }
        assert_eq!(unknown.count(&ns, sid, "nope", 3), Budget::Spent);
    }
}
