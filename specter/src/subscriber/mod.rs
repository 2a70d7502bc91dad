//! The subscriber model: what a subscriber takes ([`FromEvent`]), what it returns
//! ([`IntoOutcome`]) and how an error reaches the client ([`AckError`]), the type-erased
//! callable the ingress runs ([`Subscriber`]), and the [`Binding`] of one subscriber to
//! one event. Nothing here knows about the ingress or the app.

pub mod ack_error;
pub mod args;
pub mod ask;
pub mod binding;
pub(crate) mod broadcast;
pub(crate) mod carried_session;
pub mod delivery;
pub mod error_kind;
pub mod event_name;
pub mod extract;
pub mod guard;
pub mod method;
pub mod node_event;
mod ns_params;
pub mod outbox;
pub mod outcome;
mod payload_error;
pub mod rate;
pub mod recovery;
pub mod server_event;
pub mod session;
pub mod signature;
pub mod source;
#[allow(clippy::module_inception)]
pub mod subscriber;
#[cfg(feature = "validate")]
pub mod validate;

pub use ack_error::{AckError, AckErrorWire, FieldError};
pub use args::{Arg, Args, Spread};
pub use ask::{Answers, Unanswered};
pub use binding::{Binding, DEFAULT_NAMESPACE, DEFAULT_PRIORITY};
pub(crate) use delivery::Delivery;
pub use delivery::{Deliver, DeliveryStats, Undelivered};
pub use error_kind::ErrorKind;
pub use extract::{EventCtx, EventKind, EventKinds, ExtractError, FromEvent, SharedData};
pub use guard::{Guard, IntoGuard, IntoVerdict};
pub use method::Method;
pub use node_event::NodeEvent;
pub use ns_params::NsParams;
pub use outbox::Outbox;
pub use outcome::{Ack, Failure, IntoOutcome, Outcome, Public, Reject, Reply};
pub use rate::{Rate, RateError};
pub use recovery::{Recovery, RecoverySettings};
pub use server_event::{Asks, ServerEvent};
pub use session::Session;
pub use source::Source;
pub use subscriber::{BoxOutcomeFuture, Call, IntoSubscriber, Subscriber};
