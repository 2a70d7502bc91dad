//! # Specter
//!
//! Socket.IO servers where several parts of an app react to the same event.
//!
//! socketioxide keeps one handler per event per socket: registering a second one
//! replaces the first. Specter puts one dispatcher, the [`SocketIngress`], in front of
//! every event and fans each event out to all its subscribers in priority order, with
//! failures isolated and acks always answered.
//!
//! ```no_run
//! use specter::prelude::*;
//! use std::sync::atomic::{AtomicU64, Ordering};
//!
//! #[derive(Default)]
//! struct PresenceHandler {
//!     beats: AtomicU64,
//! }
//!
//! #[handler(name = "presence")]
//! impl PresenceHandler {
//!     #[on("heartbeat", priority = 10)] // lower runs first; default 100
//!     async fn heartbeat(&self, Data(_beat): Data<serde_json::Value>) -> serde_json::Value {
//!         self.beats.fetch_add(1, Ordering::Relaxed);
//!         serde_json::json!({ "ok": true }) // the returned value answers the ack
//!     }
//!
//!     #[on("disconnect")]
//!     async fn disconnect(&self, socket: SocketRef) {
//!         println!("{} left", socket.id);
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), specter::Error> {
//!     ServiceManager::builder()
//!         .discover() // every #[handler] linked into the program
//!         .build()?
//!         .serve("127.0.0.1:3000")
//!         .await
//! }
//! ```
//!
//! ## Dispatch and the ack rule
//!
//! Subscribers of an event run one after the other, lower priority first, ties in
//! subscription order. Subscription order is declaration order inside a handler, and
//! the order handlers are added to the [`ServiceManager`] across handlers;
//! [`discover`](ServiceManagerBuilder::discover) adds the discovered ones sorted by name.
//! A subscriber that fails (returns `Err`, cannot extract its arguments, panics) is
//! logged, handed to the error subscribers, and the next one runs. One that returns
//! [`Reject`] stops the dispatch. Plain (non-async) subscribers run at once, without
//! spawning a task; from the first async one on, the dispatch continues in a task.
//!
//! When the client asked for an ack, it is answered once all subscribers ran: with the
//! value returned by the **last** subscriber that returned one; else, if a subscriber
//! failed, with an [`AckError`] `{"error": {"handler": .., "kind": .., "message": ..}}`
//! for the first failure (see [`ErrorKind`] for every kind); else with no value. What
//! the client reads names nothing of the server's inside: a payload that does not
//! deserialize is described by its field path (`name: missing`), and an `Err(e)`, a
//! panic or a missing state reads `internal error` with the `id` of the log line that
//! has the rest, unless the app returns `Err(Public(e))` ([`Public`]). An event that nobody subscribes to
//! is answered with kind `unknown_event`, a rejected one with kind `rejected`.
//!
//! ## Order and delivery
//!
//! The events of one socket are dispatched in the order they arrived: the next one's
//! subscribers start when the previous one's are done (an event whose subscribers are
//! all bound `concurrent` skips the queue). What waits per socket is bounded
//! ([`DispatchSettings::max_queued_events`]; past it, kind `overloaded`). An ack that finds
//! the connection's buffer full waits for room instead of being lost, as do emits made
//! through [`Deliver`]; a client that stops reading is dropped by a bounded policy (see
//! [`DispatchSettings::send_timeout`]), and [`SocketIngress::delivery_stats`] counts what was given up.
//!
//! ## The dispatch pipeline
//!
//! Between a client's event and its ack, in this order (each stage costs nothing when
//! unused):
//!
//! 1. **rate limits**, as the event arrives: per socket over all events
//!    ([`DispatchSettings::rate_limit_per_socket`]), then per socket and event
//!    ([`Binding::rate_limit`], `#[on(.., rate = "10/s")]`,
//!    [`DispatchSettings::rate_limit_per_event`]); ack kind `rate_limited`;
//! 2. the socket's **queue** (arrival order);
//! 3. **interceptors** ([`Interceptor::before`]), app-wide then the namespace's; a refusal is kind
//!    `rejected`;
//! 4. for each subscriber in (priority, subscription order): its **guards**
//!    ([`Guard`]; a refusal skips it), the **extraction** of its arguments (with
//!    validation for `Valid<T>`, feature `validate`), the **call** under its
//!    **timeout**; a [`Reject`] stops the rest;
//! 5. interceptors' [`Interceptor::after`], inside out;
//! 6. the **ack**: the last value; else the first failure; else `forbidden` when a
//!    guard refused and nobody answered; else empty.
//!
//! ## One binding path
//!
//! `#[on("heartbeat", priority = 10)]` expands to `events.on("heartbeat",
//! Self::heartbeat).priority(10)` inside a generated [`Handler::build_events`]; a
//! [`Controller`] calls the same [`Events::on`] in its own `build_events`, and
//! [`SocketIngress::on`] builds the same [`Binding`]. Lifecycle hooks of handlers
//! and controllers are the [`Hooks`] trait; services have [`Service::on_start`] /
//! [`Service::on_stop`].
//!
//! ## Layout
//!
//! The crate is three layers, each importing only the ones below it:
//!
//! * `subscriber/`: what a subscriber takes ([`FromEvent`], [`SharedData`]), what it
//!   returns ([`IntoOutcome`], [`Reject`]), the [`AckError`] wire type, the type-erased
//!   [`Subscriber`] and the [`Binding`] of one subscriber to one event;
//! * `ingress/`: the [`SocketIngress`], its event table, the dispatch of one event, and
//!   the listeners registered with socketioxide;
//! * `app/`: [`Events`], [`Handler`], [`Controller`], [`Hooks`], [`Lifecycle`],
//!   [`Service`], discovery ([`registry`]) and the [`ServiceManager`].
//!
//! `testing` (feature `testing`) holds the in-process test client.
//!
//! ## Discovery
//!
//! `#[handler]` submits the type through `inventory` so that `discover()` finds it;
//! such a type must implement `Default`. A handler that needs state says
//! `#[handler(name = "...", discover = false)]` and is added as an instance with
//! [`ServiceManagerBuilder::handler`]. A crate whose handlers nothing else references
//! is not linked, and its handlers are not discovered: write `use my_handlers as _;`
//! in the binary.
//!
//! ## The reference
//!
//! Every rule in depth, page by page, in [`guide`]: [`guide::app`] (controllers,
//! services, the manager, discovery, compile-time checks), [`guide::dispatch`] (order,
//! failures, the ack rule, hooks, arguments, asking clients, dynamic namespaces, the
//! pipeline), [`guide::contract`], [`guide::bounds`], [`guide::testing`],
//! [`guide::cluster`] and [`guide::operations`].

#![warn(missing_docs)]
// On docs.rs (`--cfg docsrs`), each item behind a feature says which.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod adapter;
/// The server side of the Socket.IO Admin UI (feature `admin`).
#[cfg(feature = "admin")]
pub use app::admin;
mod app;
mod client_text;
#[cfg(feature = "contract")]
pub mod contract;
pub mod error;
mod ingress;
mod subscriber;
#[cfg(feature = "testing")]
pub mod testing;

pub use app::builder::ServiceManagerBuilder;
pub use app::component::ComponentHealth;
pub use app::controller::Controller;
pub use app::events::Events;
pub use app::handler::Handler;
pub use app::hooks::Hooks;
pub use app::lifecycle::Lifecycle;
pub use app::manager::{Health, ServiceManager};
pub use app::mounted::Mounted;
pub use app::registry;
pub use app::registry::ComponentKind;
pub use app::service::{Service, Services};
pub use error::{BoxError, Error};
pub use ingress::interceptor;
pub use ingress::interceptor::Interceptor;
pub use ingress::settings::DispatchSettings;
pub use ingress::{
    DEFAULT_OWNER, ErrorEvent, EventRow, OnError, SocketIngress, Subscribe, SubscriberRow,
    Subscription,
};
pub use subscriber::event_name;
/// The validating extractor [`Valid<T>`](validate::Valid) (feature `validate`).
#[cfg(feature = "validate")]
pub use subscriber::validate;
pub use subscriber::{
    Ack, AckError, AckErrorWire, Answers, Arg, Args, Asks, Binding, DEFAULT_NAMESPACE,
    DEFAULT_PRIORITY, Deliver, DeliveryStats, ErrorKind, EventCtx, EventKind, EventKinds,
    ExtractError, Failure, FieldError, FromEvent, Guard, IntoGuard, IntoOutcome, IntoSubscriber,
    IntoVerdict, Method, NodeEvent, NsParams, Outbox, Outcome, Public, Rate, RateError, Recovery,
    RecoverySettings, Reject, ServerEvent, Session, SharedData, Source, Spread, Unanswered,
    Undelivered,
};
// Named by the signatures of `IntoSubscriber` and `Hooks`, never by an app: public, and
// out of the docs.
#[doc(hidden)]
pub use app::hooks::HookFuture;
#[doc(hidden)]
pub use subscriber::{BoxOutcomeFuture, Call, Subscriber};

pub use adapter::{Adapter, SocketIo, SocketRef};
pub use socketioxide;
pub use socketioxide::extract::{Data, Event, State, TryData};
pub use socketioxide::socket::DisconnectReason;
pub use socketioxide::{ProtocolVersion, TransportType};
pub use specter_macros::{Controller, NodeEvent, ServerEvent, describe, handler, on};

/// The reference: how Specter works, page by page (the same pages are in the
/// repository's `specter/docs/`; their examples run as doctests).
pub mod guide {
    #[doc = include_str!("../docs/app.md")]
    pub mod app {}
    #[doc = include_str!("../docs/dispatch.md")]
    pub mod dispatch {}
    #[doc = include_str!("../docs/contract.md")]
    pub mod contract {}
    #[doc = include_str!("../docs/bounds.md")]
    pub mod bounds {}
    #[doc = include_str!("../docs/testing.md")]
    pub mod testing {}
    #[doc = include_str!("../docs/cluster.md")]
    pub mod cluster {}
    #[doc = include_str!("../docs/recovery.md")]
    pub mod recovery {}
    #[doc = include_str!("../docs/operations.md")]
    pub mod operations {}
}

/// What a handler writes every day: `use specter::prelude::*;`. The rest (controllers'
/// What a handler writes every day: `use specter::{Controller, Events, Hooks, Lifecycle, Service};
/// `Controller` and `Events`, `Service`, `Hooks`, `Lifecycle`, the ingress) is named
/// where it is used.
pub mod prelude {
    pub use crate::{
        Ack, Data, Deliver, Reject, ServiceManager, Session, SharedData, SocketRef, State, handler,
        on,
    };
}

/// Used by the code the macros generate; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::ComponentKind;
    pub use crate::app::controller::ControllerInfo;
    pub use crate::app::handler::EventOwner;
    pub use crate::app::hooks::{DynHooks, HooksOf, NoHooks, ViaHooks};
    pub use crate::app::registry::{Construct, Registration, construct_controller};
    pub use crate::event_name::assert_event_name;
    pub use crate::subscriber::carried_session::CarriedSession;
    pub use crate::subscriber::node_event::NodeEventInfo;
    pub use crate::subscriber::rate::{assert_duration, assert_rate};
    pub use crate::subscriber::server_event::ServerEventInfo;
    pub use crate::subscriber::signature::{
        Described, Probe, Signature, TypeInfo, ViaAny, ViaSchema, id_of,
    };
    pub use crate::subscriber::{FromEvent, IntoOutcome};
    pub use inventory;
    pub use std::boxed::Box;
    pub use std::sync::Arc;
    pub use std::vec::Vec;

    /// Asserts at compile time that a discovered handler can be constructed.
    #[diagnostic::on_unimplemented(
        message = "handler `{Self}` is discovered, so it must implement `Default`",
        label = "discovery builds this handler with `Default::default()`",
        note = "derive or implement `Default`, or write `#[handler(name = \"...\", discover = false)]` and add an instance with `ServiceManager::builder().handler(...)`"
    )]
    pub trait Discoverable: Default {}
    impl<T: Default> Discoverable for T {}

    /// `#[on]` checks each argument type with this, spanned on the type, so that an
    /// argument that is not an extractor is reported where it is written.
    pub fn check_extractor<T: crate::FromEvent + Send + 'static>() {}

    /// `#[on]` checks a method's return type with this, spanned on the type.
    pub fn check_ack<T: crate::IntoOutcome>() {}

    /// Builds a discovered handler.
    pub fn construct<T: Discoverable + crate::Handler>() -> Arc<dyn EventOwner> {
        Arc::new(T::default())
    }
}
