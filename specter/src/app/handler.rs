//! Handlers: types whose methods own socket events.

use std::sync::Arc;

use crate::app::events::Events;
use crate::app::hooks::DynHooks;
use crate::subscriber::{Binding, DEFAULT_NAMESPACE, Source};

/// A type whose methods own socket events. `#[handler(name = "...")]` implements it
/// from an impl block's `#[on("event")]` methods; implement it by hand for a table built
/// at run time. Lifecycle hooks come from [`Hooks`](crate::Hooks).
///
/// ```
/// use specter::prelude::*;
/// use specter::{Events, Handler};
///
/// /// One subscriber per room, decided at run time.
/// struct Rooms(Vec<String>);
///
/// impl Handler for Rooms {
///     fn name(&self) -> &str { "rooms" }
///     fn source(&self) -> specter::Source { specter::Source::caller() }
///     fn build_events(&self, events: &mut Events<Self>) {
///         for room in &self.0 {
///             events.on(format!("join:{room}"), |_: &Self, s: SocketRef| s.join("x")).priority(5);
///         }
///     }
/// }
/// ```
pub trait Handler: Send + Sync + Sized + 'static {
    /// The handler's name, unique in the app.
    fn name(&self) -> &str;

    /// The namespace its events belong to: [`DEFAULT_NAMESPACE`] unless given.
    fn namespace(&self) -> &str {
        DEFAULT_NAMESPACE
    }

    /// Where the handler is declared.
    fn source(&self) -> Source;

    /// Binds the handler's events, in declaration order.
    fn build_events(&self, events: &mut Events<Self>);

    /// The handler's lifecycle hooks, when it has any. The macros forward this to the
    /// type's [`Hooks`](crate::Hooks) implementation.
    fn hooks(&self) -> Option<&dyn DynHooks> {
        None
    }
}

/// A handler or controller with its type erased: what the ingress subscribes and the
/// manager runs.
#[doc(hidden)]
pub trait EventOwner: Send + Sync + 'static {
    fn name(&self) -> &str;
    fn namespace(&self) -> &str;
    fn source(&self) -> Source;
    fn bindings(self: Arc<Self>) -> Vec<Binding>;
    fn hooks(&self) -> Option<&dyn DynHooks>;
}

impl<H: Handler> EventOwner for H {
    fn name(&self) -> &str {
        Handler::name(self)
    }
    fn namespace(&self) -> &str {
        Handler::namespace(self)
    }
    fn source(&self) -> Source {
        Handler::source(self)
    }
    fn bindings(self: Arc<Self>) -> Vec<Binding> {
        let mut events = Events::new(self.clone());
        self.build_events(&mut events);
        events.into_bindings()
    }
    fn hooks(&self) -> Option<&dyn DynHooks> {
        Handler::hooks(self)
    }
}
