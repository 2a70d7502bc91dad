//! [`AdminLimits`]: the bounds of the Admin UI's login, sessions and event log.

use std::time::Duration;

/// The bounds of the Admin UI, per node: its login budget, its sessions, its event log
/// (`AdminUi::limits`). The defaults are [`AdminLimits::DEFAULT`]; the login's fields are
/// read up to 256 bytes each, whatever the limits.
///
/// ```
/// use std::time::Duration;
/// use specter::admin::AdminLimits;
///
/// let strict = AdminLimits {
///     lockout_failures: 5,
///     session_idle: Duration::from_secs(10 * 60),
///     ..AdminLimits::DEFAULT
/// };
/// # let _ = strict;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminLimits {
    /// Failed logins from one address before each attempt waits (default 3).
    pub free_failures: u32,
    /// The longest wait between attempts: waits double from 1 s up to it (default 60 s).
    pub max_delay: Duration,
    /// Failed logins from one address within `lockout` after which it is refused for
    /// `lockout` (default 10).
    pub lockout_failures: u32,
    /// How long failures are remembered, and how long a locked-out address waits
    /// (default 15 minutes).
    pub lockout: Duration,
    /// Addresses whose failures are tracked at once; past it, new addresses are `busy`
    /// (default 4,096).
    pub max_addresses: usize,
    /// Password checks at once (default 2).
    pub checks_at_once: usize,
    /// Password checks waiting for a turn; past it, `busy` (default 8).
    pub checks_waiting: usize,
    /// How long an unused session lives (default 30 minutes).
    pub session_idle: Duration,
    /// How long any session lives (default 12 hours).
    pub session_max: Duration,
    /// Sessions at once; past it the least recently used goes (default 1,000).
    pub max_sessions: usize,
    /// Events a second the event log shows, per node (development mode; default 50).
    pub events_per_second: u32,
    /// The largest payload the event log shows whole, in bytes (default 2,048).
    pub event_shown_bytes: usize,
}

impl AdminLimits {
    /// The defaults.
    pub const DEFAULT: Self = Self {
        free_failures: 3,
        max_delay: Duration::from_secs(60),
        lockout_failures: 10,
        lockout: Duration::from_secs(15 * 60),
        max_addresses: 4096,
        checks_at_once: 2,
        checks_waiting: 8,
        session_idle: Duration::from_secs(30 * 60),
        session_max: Duration::from_secs(12 * 3600),
        max_sessions: 1000,
        events_per_second: 50,
        event_shown_bytes: 2048,
    };
}

impl Default for AdminLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
