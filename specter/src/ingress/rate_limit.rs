//! Rate limits, the first stage of the pipeline: per socket over all events
//! ([`DispatchSettings::rate_limit_per_socket`](crate::DispatchSettings::rate_limit_per_socket)), per socket and event (a binding's
//! [`rate_limit`](crate::Binding::rate_limit), else
//! [`DispatchSettings::rate_limit_per_event`](crate::DispatchSettings::rate_limit_per_event)).
//!
//! Checked as an event arrives, before it waits in its socket's queue, so a flood is
//! refused without being queued. The limiters belong to the socket's message listener:
//! they are made on the first event that needs one and dropped with the socket. An app
//! without limits makes none and pays one branch per event.

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use rustc_hash::FxHashMap;

use crate::client_text::Shown;
use crate::ingress::settings::DispatchSettings;
use crate::ingress::table::Entry;
use crate::subscriber::{AckError, ErrorKind, Rate};

/// The rate limiters of one socket in one namespace.
#[derive(Default)]
pub(crate) struct SocketLimits {
    limiters: OnceLock<Box<Limiters>>,
}

struct Limiters {
    socket: Option<Limiter>,
    events: Mutex<FxHashMap<Key, Limiter>>,
}

/// The limiters read tokio's clock, which the runtime's other timers read too (and a
/// test can pause and advance), not the system's.
#[derive(Clone, Copy, Debug, Default)]
struct TokioClock;

impl Clock for TokioClock {
    type Instant = std::time::Instant;

    fn now(&self) -> std::time::Instant {
        tokio::time::Instant::now().into_std()
    }
}

type Limiter = RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<std::time::Instant>>;

fn limiter(quota: Quota) -> Limiter {
    RateLimiter::direct_with_clock(quota, TokioClock)
}

/// What a per-event limiter counts: the events of one binding (its own limit), or of
/// one subscribed event (the app's default). Keys come from subscriptions, never from
/// names a client sends, so a client cannot make the map grow.
#[derive(Hash, PartialEq, Eq)]
enum Key {
    Binding(u64),
    /// An event's own name, or `None` for the events only catch-all subscribers take.
    Event(Option<Arc<str>>),
}

/// An event refused by a limit.
pub(crate) struct Limited {
    error: AckError,
}

impl Limited {
    fn new(rate: Rate, scope: fmt::Arguments<'_>, wait: Duration, owner: Option<&str>) -> Self {
        // Rounded up, so that retrying after it succeeds.
        let ms = wait.as_nanos().div_ceil(1_000_000).max(1) as u64;
        let mut error = AckError::new(
            ErrorKind::RateLimited,
            format!(
                "more than {} {scope} per {:?}; retry in {ms} ms",
                rate.count(),
                rate.period()
            ),
        );
        error.retry_after_ms = Some(ms);
        if let Some(owner) = owner {
            error = error.with_handler(owner);
        }
        Self { error }
    }

    pub fn into_error(self) -> AckError {
        self.error
    }
}

/// Whether anything limits an event with these subscribers.
#[inline]
fn limited(policy: &DispatchSettings, entries: Option<&[Entry]>) -> bool {
    policy.socket_rate.is_some()
        || (entries.is_some() && policy.event_rate.is_some())
        || entries.is_some_and(|list| list.iter().any(|e| e.rate.is_some()))
}

impl SocketLimits {
    /// Counts an event named `event` with subscribers `entries` (`None`: it has none)
    /// against every limit that applies; the first limit it exceeds refuses it.
    #[inline]
    pub fn check(
        &self,
        policy: &DispatchSettings,
        event: &str,
        entries: Option<&[Entry]>,
    ) -> Result<(), Limited> {
        if !limited(policy, entries) {
            return Ok(());
        }
        self.check_slow(policy, event, entries)
    }

    #[cold]
    fn check_slow(
        &self,
        policy: &DispatchSettings,
        event: &str,
        entries: Option<&[Entry]>,
    ) -> Result<(), Limited> {
        let limiters = self.limiters.get_or_init(|| {
            Box::new(Limiters {
                socket: policy.socket_rate.map(|r| limiter(r.quota())),
                events: Mutex::default(),
            })
        });
        if let (Some(limiter), Some(rate)) = (&limiters.socket, policy.socket_rate) {
            take(limiter, rate, format_args!("events from this socket"), None)?;
        }
        let Some(entries) = entries else {
            return Ok(());
        };
        let mut events = limiters.events.lock().unwrap();
        let mut own = false;
        for e in entries.iter() {
            let Some(rate) = e.rate else { continue };
            own |= e.event.is_some();
            let limiter = events
                .entry(Key::Binding(e.seq))
                .or_insert_with(|| limiter(rate.quota()));
            let scope = format_args!("{:?} events", Shown(event));
            take(limiter, rate, scope, Some(&e.owner))?;
        }
        if let (false, Some(rate)) = (own, policy.event_rate) {
            // The event's own name as subscribed; events only catch-all subscribers
            // take share the key of the catch-all list.
            let key = entries.iter().find_map(|e| e.event.clone());
            let limiter = events
                .entry(Key::Event(key))
                .or_insert_with(|| limiter(rate.quota()));
            take(
                limiter,
                rate,
                format_args!("{:?} events", Shown(event)),
                None,
            )?;
        }
        Ok(())
    }
}

/// Counts one event against `limiter` (of `rate`); refused, the error says what was
/// limited (`scope`, formatted only then) and, for a binding's own limit, its owner.
fn take(
    limiter: &Limiter,
    rate: Rate,
    scope: fmt::Arguments<'_>,
    owner: Option<&str>,
) -> Result<(), Limited> {
    limiter.check().map_err(|not_until| {
        let wait = not_until.wait_time_from(TokioClock.now());
        Limited::new(rate, scope, wait, owner)
    })
}
