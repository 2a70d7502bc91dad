//! [`DeliveryPolicy`]: the settings of dispatch and delivery, with their defaults.

use std::time::Duration;

use crate::subscriber::rate::Rate;

/// How Specter delivers events to the clients and dispatches what they send: set with
/// [`ServiceManagerBuilder::delivery`](crate::ServiceManagerBuilder::delivery).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveryPolicy {
    /// Dispatch the events of one socket in the order they arrived (default `true`):
    /// the next event's subscribers start when the previous event's are done. An event
    /// whose subscribers are all bound `concurrent` opts out on its own.
    pub ordered: bool,
    /// How many events of one socket may wait for the one in flight (plus those in
    /// flight when they opted out of ordering) before the next ones are refused with an
    /// ack error of kind `overloaded` (default 4096).
    pub max_queued_events: usize,
    /// How long an ack or an emit waits for room in a full outgoing buffer before the
    /// client counts as stalled (default 5 s).
    pub send_timeout: Duration,
    /// How long a write to a client's connection may make no progress before it fails
    /// and the client, who stopped reading, is disconnected by its heartbeat (default
    /// 10 s). Applies to connections that `ServiceManager::serve` accepts.
    pub write_timeout: Duration,
    /// How long an async subscriber may run unless its binding says otherwise (default:
    /// no limit). A subscriber that never finishes otherwise holds its socket's queue.
    pub subscriber_timeout: Option<Duration>,
    /// How many events, of any name, one socket may send (default: no limit). Past
    /// it, events are refused with kind `rate_limited`.
    pub socket_rate: Option<Rate>,
    /// How often one socket may send each event that has no limit of its own
    /// (default: no limit).
    pub event_rate: Option<Rate>,
    /// How many events nobody subscribes to one socket may send within a minute before
    /// it is disconnected (default 1,000). Each is answered `unknown_event`; the first
    /// of a minute is logged, the rest counted.
    pub max_unknown_events: u64,
    /// How many bytes of payload the events of one socket that wait for the one in
    /// flight may hold together (default 16 MiB); an event past it disconnects the
    /// socket. With the message size bound (1 MB), it bounds a socket's queue in memory
    /// as `max_queued_events` does in number.
    pub max_queued_bytes: usize,
    /// How many namespaces of one dynamic pattern (`/tenant/{id}`) may be open at once
    /// (default 10,000): a connection to one more is refused with
    /// `too many namespaces are open`. A namespace closes when its last socket leaves.
    pub max_dynamic_namespaces: usize,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        Self {
            ordered: true,
            max_queued_events: 4096,
            send_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(10),
            subscriber_timeout: None,
            socket_rate: None,
            event_rate: None,
            max_unknown_events: 1000,
            max_queued_bytes: 16 << 20,
            max_dynamic_namespaces: 10_000,
        }
    }
}

impl DeliveryPolicy {
    /// How many namespaces of one dynamic pattern may be open at once.
    pub fn max_dynamic_namespaces(mut self, n: usize) -> Self {
        self.max_dynamic_namespaces = n;
        self
    }

    /// How many bytes of payload the waiting events of one socket may hold together
    /// before the socket is disconnected.
    pub fn max_queued_bytes(mut self, bytes: usize) -> Self {
        self.max_queued_bytes = bytes;
        self
    }

    /// How many events nobody subscribes to one socket may send within a minute before
    /// it is disconnected.
    pub fn max_unknown_events(mut self, n: u64) -> Self {
        self.max_unknown_events = n;
        self
    }

    /// Whether events are dispatched in arrival order per socket.
    pub fn ordered(mut self, ordered: bool) -> Self {
        self.ordered = ordered;
        self
    }

    /// The bound on events waiting per socket.
    pub fn max_queued_events(mut self, n: usize) -> Self {
        self.max_queued_events = n;
        self
    }

    /// Limits how many events, of any name, one socket may send.
    pub fn rate_limit_per_socket(mut self, rate: Rate) -> Self {
        self.socket_rate = Some(rate);
        self
    }

    /// Limits how often one socket may send each event without a limit of its own
    /// ([`Binding::rate_limit`](crate::Binding::rate_limit)).
    pub fn rate_limit_per_event(mut self, rate: Rate) -> Self {
        self.event_rate = Some(rate);
        self
    }

    /// How long a send waits for room.
    pub fn send_timeout(mut self, timeout: Duration) -> Self {
        self.send_timeout = timeout;
        self
    }

    /// How long a write to a connection may make no progress.
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// How long an async subscriber may run, by default.
    pub fn subscriber_timeout(mut self, timeout: Duration) -> Self {
        self.subscriber_timeout = Some(timeout);
        self
    }
}
