//! [`ErrorKind`]: why an ack is answered with an error, or why a subscriber failed.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why an ack is answered with an error. Serialized in `snake_case`
/// (`"invalid_payload"`); every kind, and when it is answered, is in the guide's dispatch page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// A subscriber returned `Err`.
    Returned,
    /// A subscriber's argument could not be extracted from the payload (for `Data<T>`:
    /// the payload did not deserialize into `T`).
    InvalidPayload,
    /// A subscriber takes `State<T>` and no state of type `T` was registered (services
    /// are registered as `State<Arc<S>>`).
    MissingState,
    /// A subscriber panicked; the panic's text stays in the server's log.
    Panicked,
    /// A subscriber takes `Session<T>` and no `T` was set in the socket's session.
    MissingSession,
    /// A subscriber's return value could not be serialized.
    Unserializable,
    /// A subscriber returned [`Reject`](crate::Reject): the subscribers after it did not run.
    Rejected,
    /// Every subscriber that could have answered was skipped by a refusing guard.
    Forbidden,
    /// No subscriber listens to the event.
    UnknownEvent,
    /// Too many events of the socket were waiting for the one in flight
    /// ([`DispatchSettings::max_queued_events`](crate::DispatchSettings::max_queued_events)):
    /// the event was not dispatched.
    Overloaded,
    /// A subscriber did not finish within its timeout
    /// ([`Binding::timeout`](crate::Binding::timeout),
    /// [`DispatchSettings::subscriber_timeout`](crate::DispatchSettings::subscriber_timeout)).
    Timeout,
    /// The socket sent the event, or events, faster than a rate limit allows
    /// ([`Binding::rate_limit`](crate::Binding::rate_limit),
    /// [`DispatchSettings::rate_limit_per_socket`](crate::DispatchSettings::rate_limit_per_socket)):
    /// no subscriber ran; `retry_after_ms` says when the next one is allowed.
    RateLimited,
}

impl ErrorKind {
    /// The kind as it travels: `"invalid_payload"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Returned => "returned",
            Self::InvalidPayload => "invalid_payload",
            Self::MissingState => "missing_state",
            Self::MissingSession => "missing_session",
            Self::Panicked => "panicked",
            Self::Unserializable => "unserializable",
            Self::Rejected => "rejected",
            Self::UnknownEvent => "unknown_event",
            Self::Forbidden => "forbidden",
            Self::Overloaded => "overloaded",
            Self::Timeout => "timeout",
            Self::RateLimited => "rate_limited",
        }
    }
}

impl ErrorKind {
    /// The kind as a log line and a refused connection name it.
    pub(crate) const fn label(self) -> &'static str {
        match self {
            Self::Returned => "returned an error",
            Self::InvalidPayload => "invalid payload",
            Self::Panicked => "panicked",
            Self::Unserializable => "return value is not serializable",
            Self::MissingState => "missing state",
            kind => kind.as_str(),
        }
    }

    /// Whether a failure of this kind is about the server's inside: its text is for the
    /// log, not for the client.
    pub(crate) const fn is_internal(self) -> bool {
        matches!(
            self,
            Self::Returned
                | Self::Panicked
                | Self::MissingState
                | Self::MissingSession
                | Self::Unserializable
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
