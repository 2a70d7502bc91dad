//! Metrics through the `metrics` facade (feature `metrics`): whatever recorder the app
//! installs (Prometheus, StatsD, ..) receives them. Without the feature every function
//! here is empty and compiles away.
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `specter_dispatches_total` | counter | namespace, event |
//! | `specter_dispatches_in_flight` | gauge | |
//! | `specter_subscriber_duration_seconds` | histogram | owner, event |
//! | `specter_subscriber_failures_total` | counter | owner, event, kind (timeouts are kind `timeout`) |
//! | `specter_rejections_total` | counter | owner, event |
//! | `specter_refusals_total` | counter | namespace, kind (`rate_limited`, `unknown_event`, `overloaded`) |
//! | `specter_connected_sockets` | gauge | namespace |
//!
//! Label values come from subscriptions, never from names a client sends: an event
//! that only catch-all subscribers take is counted as `*`, so a client cannot grow the
//! number of series.

use std::sync::Arc;

/// What metrics read of a subscription (the event table's entries implement it): its
/// handles and the labels it is counted under. Without the feature nothing reads it.
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) trait Labelled {
    fn handles(&self) -> &PerEntry;
    fn owner(&self) -> &Arc<str>;
    /// The event it is subscribed to; a catch-all subscriber is counted as `*`.
    fn event(&self) -> Option<&Arc<str>>;
}

#[cfg(feature = "metrics")]
mod on {
    use std::sync::{Arc, OnceLock};
    use std::time::Duration;

    use metrics::{Counter, Gauge, Histogram, SharedString};

    use super::Labelled;
    use crate::subscriber::{ErrorKind, Outcome};

    /// The handles of one subscriber's metrics, registered with the recorder on its
    /// first dispatch and reused after (no label is built on the hot path). Install the
    /// recorder before the app serves.
    #[derive(Default)]
    pub struct EntryMetrics(OnceLock<Handles>);

    struct Handles {
        /// The dispatches of the subscriber's own event.
        dispatches: Counter,
        duration: Histogram,
    }

    impl EntryMetrics {
        fn get(&self, namespace: &Arc<str>, entry: &impl Labelled) -> &Handles {
            self.0.get_or_init(|| {
                let event = event_label(entry);
                Handles {
                    dispatches: metrics::counter!("specter_dispatches_total", "namespace" => arc(namespace), "event" => event.clone()),
                    duration: metrics::histogram!("specter_subscriber_duration_seconds", "owner" => arc(entry.owner()), "event" => event),
                }
            })
        }
    }

    impl std::fmt::Debug for EntryMetrics {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("EntryMetrics")
        }
    }

    /// What a subscription carries for its metrics.
    pub type PerEntry = Arc<EntryMetrics>;

    fn arc(s: &Arc<str>) -> SharedString {
        SharedString::from(s.clone())
    }

    fn event_label(entry: &impl Labelled) -> SharedString {
        entry.event().map_or(SharedString::const_str("*"), arc)
    }

    fn in_flight() -> &'static Gauge {
        static GAUGE: OnceLock<Gauge> = OnceLock::new();
        GAUGE.get_or_init(|| metrics::gauge!("specter_dispatches_in_flight"))
    }

    /// The event's own subscriber whose counter counts it: the first that is not a
    /// catch-all, else the first.
    fn counted<E: Labelled>(entries: &[E]) -> Option<&E> {
        entries
            .iter()
            .find(|e| e.event().is_some())
            .or_else(|| entries.first())
    }

    #[inline]
    pub fn dispatched(namespace: &Arc<str>, entries: &[impl Labelled]) {
        if let Some(e) = counted(entries) {
            e.handles().get(namespace, e).dispatches.increment(1);
        }
        in_flight().increment(1.0);
    }

    #[inline]
    pub fn finished() {
        in_flight().decrement(1.0);
    }

    #[inline]
    pub fn subscriber_done(
        namespace: &Arc<str>,
        entry: &impl Labelled,
        outcome: &Outcome,
        took: Duration,
    ) {
        let handles = entry.handles().get(namespace, entry);
        handles.duration.record(took.as_secs_f64());
        // Failures and rejections are rare: their handles are looked up when they occur.
        match outcome {
            Outcome::Failed(f) => metrics::counter!(
                "specter_subscriber_failures_total",
                "owner" => arc(entry.owner()), "event" => event_label(entry), "kind" => f.kind.as_str()
            )
            .increment(1),
            Outcome::Rejected(_) => metrics::counter!(
                "specter_rejections_total",
                "owner" => arc(entry.owner()), "event" => event_label(entry)
            )
            .increment(1),
            _ => {}
        }
    }

    #[inline]
    pub fn refused(namespace: &Arc<str>, kind: ErrorKind) {
        metrics::counter!("specter_refusals_total", "namespace" => arc(namespace), "kind" => kind.as_str()).increment(1);
    }

    #[inline]
    pub fn connected(namespace: &Arc<str>, by: f64) {
        metrics::gauge!("specter_connected_sockets", "namespace" => arc(namespace)).increment(by);
    }

    /// A clock for subscriber durations.
    pub type Started = std::time::Instant;

    #[inline]
    pub fn start() -> Started {
        std::time::Instant::now()
    }

    #[inline]
    pub fn elapsed(started: Started) -> Duration {
        started.elapsed()
    }
}

#[cfg(not(feature = "metrics"))]
mod on {
    //! Without the feature: nothing, inlined away.
    use std::sync::Arc;
    use std::time::Duration;

    use super::Labelled;
    use crate::subscriber::{ErrorKind, Outcome};

    /// What a subscription carries for its metrics: nothing.
    pub type PerEntry = ();

    #[inline(always)]
    pub fn dispatched(_: &Arc<str>, _: &[impl Labelled]) {}
    #[inline(always)]
    pub fn finished() {}
    #[inline(always)]
    pub fn subscriber_done(_: &Arc<str>, _: &impl Labelled, _: &Outcome, _: Duration) {}
    #[inline(always)]
    pub fn refused(_: &Arc<str>, _: ErrorKind) {}
    #[inline(always)]
    pub fn connected(_: &Arc<str>, _: f64) {}

    /// No clock: a zero-sized stand-in.
    #[derive(Clone, Copy)]
    pub struct Started;
    #[inline(always)]
    pub fn start() -> Started {
        Started
    }
    #[inline(always)]
    pub fn elapsed(_: Started) -> Duration {
        Duration::ZERO
    }
}

pub(crate) use on::*;
