//! The UI's event log (development mode, as the npm package's): every event a client
//! of a shown namespace emits is told to the UI as `event_received(nsp, id, args,
//! date)`, through a [`Interceptor`] on those namespaces. It is bounded by [`AdminLimits`]: at
//! most `events_per_second` a second per node (the rest are not shown), and a payload
//! over `event_shown_bytes` is shown as its name and its size only. Fields
//! named like secrets (`password`, `token`, ...) read `[redacted]`, as in handshakes.
//!
//! Events the server sends (`event_sent`) are not logged: socketioxide has no hook on
//! outgoing packets.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::limits::AdminLimits;
use super::protocol::{ADMIN_NAMESPACE, Notice, Notices};
use super::sockets::{REDACTED, secret_param};
use crate::ingress::interceptor::{EventInfo, Interceptor};

/// The interceptor: see the module's documentation.
pub(super) struct EventLog {
    notices: Arc<Notices>,
    /// The current second, and how many events it told.
    second: Mutex<(Instant, u32)>,
    /// Show secret-looking fields (`AdminUi::show_credentials`).
    credentials: bool,
    limits: AdminLimits,
}

impl EventLog {
    pub(super) fn new(notices: Arc<Notices>, credentials: bool, limits: AdminLimits) -> Self {
        Self {
            notices,
            second: Mutex::new((Instant::now(), 0)),
            credentials,
            limits,
        }
    }

    fn admit(&self) -> bool {
        let mut second = self.second.lock().unwrap();
        if second.0.elapsed() >= Duration::from_secs(1) {
            *second = (Instant::now(), 0);
        }
        second.1 += 1;
        second.1 <= self.limits.events_per_second
    }
}

impl Interceptor for EventLog {
    fn before(&self, event: &EventInfo<'_>) -> Result<(), String> {
        if event.namespace() == ADMIN_NAMESPACE || !self.admit() {
            return Ok(());
        }
        let mut args = match event.payload_text() {
            Some(text) if event.payload_len() <= self.limits.event_shown_bytes => {
                serde_json::from_str::<Value>(text).unwrap_or_else(|_| json!([event.event()]))
            }
            _ => json!([
                event.event(),
                format!("({} bytes, not shown)", event.payload_len())
            ]),
        };
        if !self.credentials {
            redact(&mut args);
        }
        self.notices.send(Notice::EventReceived(
            event.namespace().to_owned(),
            event.socket_id().to_string(),
            args,
            iso_date(SystemTime::now()),
        ));
        Ok(())
    }

    fn name(&self) -> &str {
        "admin-ui event log"
    }
}

/// Replaces the values of fields named like secrets, at any depth.
fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if secret_param(key) {
                    *v = json!(REDACTED);
                } else {
                    redact(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// `at` as an ISO 8601 date in UTC, as the UI receives node's dates
/// (`2026-12-01T21:36:06.123Z`).
pub(super) fn iso_date(at: SystemTime) -> String {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_named_like_secrets_are_redacted_at_any_depth() {
        let mut args =
            json!(["login", {"user": "ann", "password": "x", "nested": [{"apiKey": "k"}]}]);
        redact(&mut args);
        assert_eq!(
            args,
            json!(["login", {"user": "ann", "password": "[redacted]", "nested": [{"apiKey": "[redacted]"}]}])
        );
    }

    #[test]
    fn dates_are_written_as_node_writes_them() {
        let at = UNIX_EPOCH + Duration::from_millis(1_795_383_366_123);
        assert_eq!(iso_date(at), "2026-11-22T21:36:06.123Z");
        assert_eq!(iso_date(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(iso_date(leap), "2000-02-29T00:00:00.000Z");
    }
}
