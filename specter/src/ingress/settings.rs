//! [`DispatchSettings`]: how the ingress takes in what clients send and answers them,
//! with the defaults.

use std::time::Duration;

use crate::subscriber::Rate;

/// How the ingress dispatches what clients send: per-socket order, what may wait per
/// socket, budgets and rate limits, timeouts. One value, built with its methods from
/// [`DispatchSettings::default`] and given once to
/// [`ServiceManagerBuilder::dispatch`](crate::ServiceManagerBuilder::dispatch) (or
/// [`SocketIngress::with_settings`](crate::SocketIngress::with_settings)).
///
/// ```
/// use std::time::Duration;
/// use specter::{DispatchSettings, ServiceManager};
///
/// let app = ServiceManager::builder()
///     .dispatch(
///         DispatchSettings::default()
///             .rate_limit_per_socket("20/s".parse()?)
///             .subscriber_timeout(Duration::from_secs(5)),
///     )
///     .build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DispatchSettings {
    pub(crate) ordered: bool,
    pub(crate) max_queued_events: usize,
    pub(crate) max_queued_bytes: usize,
    pub(crate) max_unknown_events: u64,
    pub(crate) send_timeout: Duration,
    pub(crate) subscriber_timeout: Option<Duration>,
    pub(crate) socket_rate: Option<Rate>,
    pub(crate) event_rate: Option<Rate>,
    pub(crate) max_dynamic_namespaces: usize,
    pub(crate) recovery: Option<crate::RecoverySettings>,
}

impl Default for DispatchSettings {
    fn default() -> Self {
        Self {
            ordered: true,
            max_queued_events: 4096,
            max_queued_bytes: 16 << 20,
            max_unknown_events: 1000,
            send_timeout: Duration::from_secs(5),
            subscriber_timeout: None,
            socket_rate: None,
            event_rate: None,
            max_dynamic_namespaces: 10_000,
            recovery: None,
        }
    }
}

impl DispatchSettings {
    /// Whether the events of one socket are dispatched in the order they arrived
    /// (default `true`): the next event's subscribers start when the previous event's are
    /// done. An event whose subscribers are all bound `concurrent` opts out on its own.
    pub fn ordered(mut self, ordered: bool) -> Self {
        self.ordered = ordered;
        self
    }

    /// How many events of one socket may wait for the one in flight (plus those in
    /// flight that opted out of ordering) before the next ones are refused with kind
    /// `overloaded` (default 4,096).
    pub fn max_queued_events(mut self, n: usize) -> Self {
        self.max_queued_events = n;
        self
    }

    /// How many bytes of payload the events of one socket that wait may hold together
    /// (default 16 MiB); an event past it disconnects the socket.
    pub fn max_queued_bytes(mut self, bytes: usize) -> Self {
        self.max_queued_bytes = bytes;
        self
    }

    /// How many events nobody subscribes to one socket may send within a minute before
    /// it is disconnected (default 1,000). Each is answered `unknown_event`; the first of
    /// a minute is logged, the rest counted.
    pub fn max_unknown_events(mut self, n: u64) -> Self {
        self.max_unknown_events = n;
        self
    }

    /// How long an ack or a `Deliver` emit waits for room in a full outgoing buffer
    /// before the client counts as stalled (default 5 s).
    pub fn send_timeout(mut self, timeout: Duration) -> Self {
        self.send_timeout = timeout;
        self
    }

    /// How long an async subscriber may run unless its binding says otherwise (default:
    /// no limit; past it, kind `timeout`). A subscriber that never finishes otherwise
    /// holds its socket's queue.
    pub fn subscriber_timeout(mut self, timeout: Duration) -> Self {
        self.subscriber_timeout = Some(timeout);
        self
    }

    /// How many events, of any name, one socket may send (default: no limit); past it,
    /// kind `rate_limited`.
    pub fn rate_limit_per_socket(mut self, rate: Rate) -> Self {
        self.socket_rate = Some(rate);
        self
    }

    /// How often one socket may send each event that has no limit of its own
    /// ([`Binding::rate_limit`](crate::Binding::rate_limit), `#[on(.., rate = "..")]`;
    /// default: no limit).
    pub fn rate_limit_per_event(mut self, rate: Rate) -> Self {
        self.event_rate = Some(rate);
        self
    }

    /// Connection state recovery (default off): a client that loses its connection
    /// and comes back within the settings' bounds gets its socket's rooms and
    /// [`Session`](crate::Session) values back, and every event Specter's emits sent it
    /// meanwhile, in order, before anything new ([`Recovery`](crate::Recovery)). The
    /// client needs the module `specter-recovery.mjs` (see the README).
    pub fn recovery(mut self, settings: crate::RecoverySettings) -> Self {
        self.recovery = Some(settings);
        self
    }

    /// How many namespaces of one dynamic pattern (`/tenant/{id}`) may be open at once
    /// (default 10,000): a connection to one more is refused with `too many namespaces
    /// are open`. A namespace closes when its last socket leaves.
    pub fn max_dynamic_namespaces(mut self, n: usize) -> Self {
        self.max_dynamic_namespaces = n;
        self
    }
}
