//! Errors of setting up and running a Specter app.

use std::fmt;

use crate::event_name::EventNameError;
use crate::subscriber::{EventKind, Source};

/// The error type of lifecycle hooks: any error, so `?` works in them.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Everything that can go wrong while building, booting or serving an app.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// An event name broke the [event-name rule](crate::event_name::check_event_name).
    InvalidEventName {
        /// The name as given.
        event: String,
        /// Who tried to subscribe to it.
        owner: String,
        /// What is wrong with it.
        reason: EventNameError,
    },
    /// A subscriber takes an argument that its event cannot provide
    /// (`Data<T>` on `disconnect`, `DisconnectReason` on a message).
    UnavailableExtractor {
        /// The event.
        event: String,
        /// Who tried to subscribe to it.
        owner: String,
        /// The kind of that event.
        kind: EventKind,
    },
    /// A namespace path that does not start with `/`.
    InvalidNamespace(String),
    /// A dynamic namespace's pattern that is not one (`/t/x{id}`).
    InvalidPattern {
        /// The namespace as given.
        namespace: String,
        /// Why.
        reason: String,
    },
    /// Two handlers or controllers share a name.
    DuplicateName {
        /// The name.
        name: String,
        /// Where the first one is declared.
        first: Source,
        /// Where the second one is declared.
        second: Source,
    },
    /// A lifecycle hook (`on_setup`, `on_start`, ...) failed.
    Hook {
        /// The component's name.
        owner: String,
        /// The hook.
        hook: &'static str,
        /// Its error text.
        message: String,
    },
    /// [`Services::require`](crate::Services::require) found no service of this type.
    MissingService(&'static str),
    /// Some components failed to boot; the others are up.
    Boot(Vec<Error>),
    /// The Redis adapter could not be set up.
    Redis(String),
    /// Binding or serving the HTTP listener failed.
    Io(std::io::Error),
    /// An allowed origin that is not an origin (`allowed_origins`).
    InvalidOrigin(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidEventName {
                event,
                owner,
                reason,
            } => write!(f, "`{owner}` cannot subscribe to {event:?}: {reason}"),
            Error::UnavailableExtractor { event, owner, kind } => write!(
                f,
                "`{owner}` cannot subscribe to {event:?}: one of its arguments is not \
                 available in a {kind:?} event"
            ),
            Error::InvalidNamespace(ns) => {
                write!(f, "namespace {ns:?} must start with `/`")
            }
            Error::InvalidPattern { namespace, reason } => {
                write!(f, "namespace pattern {namespace:?}: {reason}")
            }
            Error::DuplicateName {
                name,
                first,
                second,
            } => write!(
                f,
                "two components are named {name:?}: one at {first}, one at {second}; \
                 names must be unique"
            ),
            Error::Hook {
                owner,
                hook,
                message,
            } => write!(f, "`{owner}`: {hook} failed: {message}"),
            Error::MissingService(ty) => write!(f, "no service of type `{ty}` is registered"),
            Error::Boot(errors) => {
                write!(f, "{} component(s) failed to boot", errors.len())?;
                for e in errors {
                    write!(f, "; {e}")?;
                }
                Ok(())
            }
            Error::Redis(e) => write!(f, "redis adapter: {e}"),
            Error::Io(e) => write!(f, "i/o error: {e}"),
            Error::InvalidOrigin(e) => f.write_str(e),
        }
    }
}

impl Error {
    /// A hook error raised without the component's name gets `owner`.
    pub(crate) fn owned_by(self, owner: &str) -> Self {
        match self {
            Error::Hook {
                owner: o,
                hook,
                message,
            } if o.is_empty() => Error::Hook {
                owner: owner.to_owned(),
                hook,
                message,
            },
            e => e,
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::InvalidEventName { reason, .. } => Some(reason),
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}
