//! The one wire type of an ack that answers with an error.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::client_text::Shown;
use crate::subscriber::error_kind::ErrorKind;
use crate::subscriber::outcome::Failure;

/// An ack answered with an error. Clients receive it as one argument
/// `{"error": {"handler": .., "kind": .., "message": ..}}`; `handler` names the handler,
/// controller or subscriber owner that caused it, and is absent when none did (an
/// unknown event).
///
/// ```
/// use specter::{AckError, ErrorKind};
///
/// let e = AckError::new(ErrorKind::Rejected, "spam is not welcome").with_handler("moderation");
/// assert_eq!(
///     serde_json::to_value(e.to_wire()).unwrap(),
///     serde_json::json!({"error": {"handler": "moderation", "kind": "rejected", "message": "spam is not welcome"}})
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "contract",
    derive(schemars::JsonSchema),
    schemars(rename = "AckErrorBody")
)]
pub struct AckError {
    /// Who answered with the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handler: Option<String>,
    /// Why.
    pub kind: ErrorKind,
    /// A sentence for the client.
    pub message: String,
    /// Kind `rate_limited`: milliseconds until the event is allowed again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// Kind `invalid_payload` from a validating extractor: each invalid field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
    /// An `internal error`: the id of the server's log line that says what went wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// One invalid field of a payload: its path (`"text"`, `"items[2].name"`, empty for the
/// payload itself) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
pub struct FieldError {
    /// Where the field is in the payload.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

/// The envelope an [`AckError`] travels in: `{"error": {..}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "contract",
    derive(schemars::JsonSchema),
    schemars(rename = "AckError")
)]
pub struct AckErrorWire {
    /// The error.
    pub error: AckError,
}

impl AckError {
    /// An error of `kind` with a message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            handler: None,
            kind,
            message: message.into(),
            retry_after_ms: None,
            fields: Vec::new(),
            id: None,
        }
    }

    /// The same error, owned by `handler`.
    pub fn with_handler(mut self, handler: impl Into<String>) -> Self {
        self.handler = Some(handler.into());
        self
    }

    /// The answer to an event nobody subscribes to. The name is the client's own: it is
    /// cut to 64 characters and escaped, never echoed whole.
    pub fn unknown_event(event: &str) -> Self {
        Self::new(
            ErrorKind::UnknownEvent,
            format!("no subscriber for event {:?}", Shown(event)),
        )
    }

    /// The answer for `owner`'s failure: what the client may be told of it (see
    /// [`Failure::told`]); `internal error` carries the `id` of the failure's log line.
    pub fn from_failure(owner: &str, failure: &Failure) -> Self {
        let message = match &failure.public {
            Some(text) => text.clone(),
            None => "internal error".to_owned(),
        };
        Self {
            fields: failure.fields.clone(),
            id: failure.id.map(|id| id.to_string()),
            ..Self::new(failure.kind, message).with_handler(owner)
        }
    }

    /// The error in its envelope, as clients receive it.
    pub fn to_wire(&self) -> AckErrorWire {
        AckErrorWire {
            error: self.clone(),
        }
    }
}

impl fmt::Display for AckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.handler {
            Some(h) => write!(f, "{h}: {}: {}", self.kind, self.message),
            None => write!(f, "{}: {}", self.kind, self.message),
        }
    }
}

impl std::error::Error for AckError {}
