//! The Admin UI's login, safe to expose: an auth payload of bounded fields, a budget of
//! attempts per client address and overall, at most a few password checks at a time
//! with a bounded waiting line, and sessions that end.
//!
//! The rule, per node (each node checks its own logins, as each keeps its own sessions),
//! with [`AdminLimits`]' defaults:
//!
//! | what | bound |
//! |---|---|
//! | username, password, session id | at most 256 bytes each; anything larger is refused unread |
//! | failed logins from one address | the 4th and later wait 1 s, 2 s, 4 s ... (at most 60 s) after the last failure; past 10 within 15 minutes, the address is refused for 15 minutes (`too many attempts`) |
//! | addresses tracked | 4,096; past that, new addresses are refused (`busy`) until old entries expire |
//! | password checks | 2 at a time, 8 waiting; past that, `busy` |
//! | sessions | idle 30 minutes, at most 12 hours, 1,000 at once (the oldest go first) |

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use tokio::time::Instant;

use super::limits::AdminLimits;
use crate::adapter::SocketRef;

/// The longest username, password or session id read.
pub(super) const MAX_FIELD: usize = 256;
/// A text field of the login, refused past [`MAX_FIELD`] bytes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Field(pub String);

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Field;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "a string of at most {MAX_FIELD} bytes")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Field, E> {
                if v.len() > MAX_FIELD {
                    return Err(E::custom(format_args!("longer than {MAX_FIELD} bytes")));
                }
                Ok(Field(v.to_owned()))
            }
        }
        d.deserialize_str(Visitor)
    }
}

/// What the UI sends to log in: its credentials, or the session it was given.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct LoginAuth {
    #[serde(default)]
    pub username: Field,
    #[serde(default)]
    pub password: Field,
    #[serde(default)]
    pub session_id: Option<Field>,
}

/// The client address of a socket: the TCP peer `serve` accepted, or none (in-process).
pub(super) fn peer(socket: &SocketRef) -> Option<SocketAddr> {
    socket
        .req_parts()
        .extensions
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

/// Why a login is not checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Refusal {
    /// This address failed too often: retry after the wait.
    TooMany(Duration),
    /// Too many logins are being checked or tracked: retry later.
    Busy,
}

impl Refusal {
    pub fn message(&self) -> String {
        match self {
            Self::TooMany(wait) => format!(
                "too many attempts: retry in {} s",
                wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
            ),
            Self::Busy => "busy: retry later".to_owned(),
        }
    }
}

struct Attempts {
    failures: u32,
    last: Instant,
}

/// The budget of login attempts of one node.
pub(super) struct LoginBudget {
    limits: AdminLimits,
    addresses: Mutex<HashMap<IpAddr, Attempts>>,
    checks: tokio::sync::Semaphore,
    waiting: AtomicUsize,
    /// Refusals since the last admitted attempt (one log line per episode).
    refusing: std::sync::atomic::AtomicBool,
}

/// A place among the waiting checks, given back when dropped.
struct InLine<'a>(&'a AtomicUsize);

impl Drop for InLine<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A place in the line of password checks, given back when dropped.
pub(super) struct Turn<'a> {
    _permit: tokio::sync::SemaphorePermit<'a>,
}

impl LoginBudget {
    pub fn new(limits: AdminLimits) -> Self {
        Self {
            limits,
            addresses: Mutex::default(),
            checks: tokio::sync::Semaphore::new(limits.checks_at_once),
            waiting: AtomicUsize::new(0),
            refusing: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// How long `failures` recent failures make an address wait after the last one.
    fn delay(&self, failures: u32) -> Option<Duration> {
        let l = &self.limits;
        match failures {
            n if n >= l.lockout_failures => Some(l.lockout),
            n if n >= l.free_failures => {
                let doubled = 2u32.saturating_pow(n - l.free_failures);
                Some((Duration::from_secs(1) * doubled).min(l.max_delay))
            }
            _ => None,
        }
    }

    /// Whether an attempt from `address` may be checked now.
    pub fn admit(&self, address: Option<SocketAddr>) -> Result<(), Refusal> {
        let ip = address.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
        let now = Instant::now();
        let mut addresses = self.addresses.lock().unwrap();
        let (window, max) = (self.limits.lockout, self.limits.max_addresses);
        if addresses.len() >= max && !addresses.contains_key(&ip) {
            addresses.retain(|_, a| now.duration_since(a.last) < window);
            if addresses.len() >= max {
                return self.refuse(ip, Refusal::Busy);
            }
        }
        if let Some(a) = addresses.get_mut(&ip) {
            if now.duration_since(a.last) >= window {
                a.failures = 0;
            }
            if let Some(wait) = self.delay(a.failures) {
                let ready = a.last + wait;
                if now < ready {
                    let left = ready - now;
                    return self.refuse(ip, Refusal::TooMany(left));
                }
            }
        }
        self.refusing.store(false, Ordering::Relaxed);
        Ok(())
    }

    fn refuse(&self, ip: IpAddr, refusal: Refusal) -> Result<(), Refusal> {
        if !self.refusing.swap(true, Ordering::Relaxed) {
            tracing::warn!(address = %ip, reason = %refusal.message(), "refusing admin UI logins (logged once until one is admitted)");
        }
        #[cfg(feature = "metrics")]
        metrics::counter!("specter_admin_logins_refused_total").increment(1);
        Err(refusal)
    }

    /// Waits for a turn to check a password; `busy` when the line is full. A wait that
    /// is dropped (its client left) gives its place in the line back.
    pub async fn turn(&self) -> Result<Turn<'_>, Refusal> {
        if self.waiting.fetch_add(1, Ordering::Relaxed) >= self.limits.checks_waiting {
            self.waiting.fetch_sub(1, Ordering::Relaxed);
            return Err(Refusal::Busy);
        }
        let in_line = InLine(&self.waiting);
        let permit = self.checks.acquire().await.map_err(|_| Refusal::Busy)?;
        drop(in_line);
        Ok(Turn { _permit: permit })
    }

    /// The check of an attempt from `address` ended.
    pub fn record(&self, address: Option<SocketAddr>, passed: bool) {
        let ip = address.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
        let mut addresses = self.addresses.lock().unwrap();
        if passed {
            addresses.remove(&ip);
            return;
        }
        let now = Instant::now();
        let entry = addresses.entry(ip).or_insert(Attempts {
            failures: 0,
            last: now,
        });
        entry.failures += 1;
        entry.last = now;
    }
}

struct Session {
    created: Instant,
    used: Instant,
    /// The address that logged in, when sessions are bound to it.
    address: Option<IpAddr>,
}

/// The sessions of one node: each ends when idle too long, or too old.
#[derive(Default)]
pub(crate) struct Sessions(Mutex<HashMap<String, Session>>);

impl Sessions {
    /// A new session, of the client at `address` when sessions are bound to it.
    pub fn open(&self, address: Option<IpAddr>, limits: &AdminLimits) -> String {
        let id = socketioxide::socket::Sid::new().to_string();
        let now = Instant::now();
        let mut sessions = self.0.lock().unwrap();
        sessions.retain(|_, s| alive(s, now, limits));
        if sessions.len() >= limits.max_sessions {
            if let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, s)| s.used)
                .map(|(id, _)| id.clone())
            {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(
            id.clone(),
            Session {
                created: now,
                used: now,
                address,
            },
        );
        id
    }

    /// Whether `id` is a live session of a client at `address`; using it keeps it from
    /// idling out.
    pub fn resume(&self, id: &str, address: Option<IpAddr>, limits: &AdminLimits) -> bool {
        let now = Instant::now();
        let mut sessions = self.0.lock().unwrap();
        match sessions.get_mut(id) {
            Some(s) if s.address.is_some() && s.address != address => false,
            Some(s) if alive(s, now, limits) => {
                s.used = now;
                true
            }
            Some(_) => {
                sessions.remove(id);
                false
            }
            None => false,
        }
    }

    /// Ends every session.
    pub fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

fn alive(s: &Session, now: Instant, limits: &AdminLimits) -> bool {
    now.duration_since(s.used) < limits.session_idle
        && now.duration_since(s.created) < limits.session_max
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: AdminLimits = AdminLimits::DEFAULT;
    const WINDOW: Duration = L.lockout;
    const MAX_DELAY: Duration = L.max_delay;
    const SESSION_IDLE: Duration = L.session_idle;

    fn addr(ip: &str) -> Option<SocketAddr> {
        Some(SocketAddr::new(ip.parse().unwrap(), 1000))
    }

    #[tokio::test(start_paused = true)]
    async fn failures_make_an_address_wait_longer_then_lock_it_out_and_the_window_frees_it() {
        let budget = LoginBudget::new(L);
        let (a, b) = (addr("10.0.0.1"), addr("10.0.0.2"));
        for _ in 0..3 {
            assert_eq!(budget.admit(a), Ok(()));
            budget.record(a, false);
        }
        assert_eq!(
            budget.admit(a),
            Err(Refusal::TooMany(Duration::from_secs(1)))
        );
        assert_eq!(budget.admit(b), Ok(()), "another address is not slowed");
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(budget.admit(a), Ok(()));
        budget.record(a, false);
        assert_eq!(
            budget.admit(a),
            Err(Refusal::TooMany(Duration::from_secs(2)))
        );
        for _ in 0..6 {
            tokio::time::advance(MAX_DELAY).await;
            budget.record(a, false);
        }
        assert_eq!(budget.admit(a), Err(Refusal::TooMany(WINDOW)), "locked out");
        assert_eq!(
            Refusal::TooMany(WINDOW).message(),
            "too many attempts: retry in 900 s"
        );
        tokio::time::advance(WINDOW).await;
        assert_eq!(budget.admit(a), Ok(()), "the window forgets");
        budget.record(a, true);
    }

    #[tokio::test(start_paused = true)]
    async fn the_limits_are_the_apps_to_set() {
        let strict = AdminLimits {
            free_failures: 1,
            ..AdminLimits::DEFAULT
        };
        let budget = LoginBudget::new(strict);
        let a = addr("10.0.0.1");
        assert_eq!(budget.admit(a), Ok(()));
        budget.record(a, false);
        assert_eq!(
            budget.admit(a),
            Err(Refusal::TooMany(Duration::from_secs(1))),
            "one failure is enough to wait"
        );
    }

    #[tokio::test]
    async fn at_most_a_few_checks_run_and_a_few_wait() {
        let budget = LoginBudget::new(L);
        let running: Vec<_> =
            futures_util::future::join_all((0..L.checks_at_once).map(|_| budget.turn()))
                .await
                .into_iter()
                .map(Result::unwrap)
                .collect();
        let waiting: Vec<_> = (0..L.checks_waiting)
            .map(|_| Box::pin(budget.turn()))
            .collect();
        let mut waiting = waiting;
        for w in &mut waiting {
            assert!(futures_util::poll!(w.as_mut()).is_pending());
        }
        assert!(
            matches!(budget.turn().await, Err(Refusal::Busy)),
            "the line is full"
        );
        drop(running);
        drop(waiting);
        assert!(budget.turn().await.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn sessions_end_when_idle_or_old() {
        let sessions = Sessions::default();
        let id = sessions.open(None, &L);
        assert!(sessions.resume(&id, None, &L));
        tokio::time::advance(SESSION_IDLE - Duration::from_secs(1)).await;
        assert!(sessions.resume(&id, None, &L), "used in time");
        tokio::time::advance(SESSION_IDLE).await;
        assert!(!sessions.resume(&id, None, &L), "idle too long");
        let old = sessions.open(None, &L);
        for _ in 0..50 {
            tokio::time::advance(SESSION_IDLE / 2).await;
            sessions.resume(&old, None, &L);
        }
        assert!(
            !sessions.resume(&old, None, &L),
            "older than the absolute limit"
        );
        let here = addr("10.0.0.1").map(|a| a.ip());
        let bound = sessions.open(here, &L);
        assert!(
            !sessions.resume(&bound, addr("10.0.0.2").map(|a| a.ip()), &L),
            "another address"
        );
        assert!(sessions.resume(&bound, here, &L));
        sessions.clear();
        assert!(!sessions.resume(&bound, here, &L), "revoked");
    }
}
