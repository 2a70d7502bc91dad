//! [`ServerEvent`]: an event the server emits, declared once as a type.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::subscriber::signature::TypeInfo;
use crate::subscriber::source::Source;

/// An event the server emits to clients, declared once as a type whose value is the
/// payload: `#[derive(Serialize, ServerEvent)] #[event("message")] struct ChatMessage {..}`.
/// The name is checked at compile time by the rule of every event name. Emit it with
/// [`Deliver::send`](crate::Deliver::send) / [`Deliver::send_to`](crate::Deliver::send_to)
/// in subscribers, or the same calls of an [`Outbox`](crate::Outbox) outside them; with
/// the feature `contract` it appears in the app's contract.
///
/// ```
/// use specter::prelude::*;
/// use specter::ServerEvent;
///
/// #[derive(serde::Serialize, ServerEvent)]
/// #[event("typing")]
/// struct Typing {
///     user: String,
/// }
///
/// assert_eq!(Typing::NAME, "typing");
/// ```
pub trait ServerEvent: Serialize {
    /// The event's name.
    const NAME: &'static str;
}

/// A server event's record, submitted by `#[derive(ServerEvent)]`.
#[doc(hidden)]
pub struct ServerEventInfo {
    pub name: &'static str,
    /// The namespaces it is emitted on (empty: every namespace of the app).
    pub namespaces: &'static [&'static str],
    pub source: Source,
    pub describe: fn() -> TypeInfo,
    /// The client's answer, for an event declared with `answer = T`.
    pub answer: Option<fn() -> TypeInfo>,
}

inventory::collect!(ServerEventInfo);

/// A [`ServerEvent`] the client answers through its callback:
/// `#[event("name", answer = T)]` declares it, [`Deliver::ask_event`](crate::Deliver::ask_event)
/// asks it, and the contract types the client's callback.
///
/// ```
/// use specter::{Asks, ServerEvent};
///
/// #[derive(serde::Serialize, ServerEvent)]
/// #[event("confirm", answer = bool)]
/// struct Confirm {
///     question: String,
/// }
///
/// fn answer_of<E: Asks>() -> &'static str {
///     std::any::type_name::<E::Answer>()
/// }
/// assert_eq!(answer_of::<Confirm>(), "bool");
/// ```
pub trait Asks: ServerEvent {
    /// The client's answer: the first argument of its callback.
    type Answer: DeserializeOwned + Send + 'static;
}

/// Every server event linked into the program.
#[cfg_attr(not(feature = "contract"), allow(dead_code))]
pub(crate) fn server_events() -> impl Iterator<Item = &'static ServerEventInfo> {
    inventory::iter::<ServerEventInfo>.into_iter()
}
