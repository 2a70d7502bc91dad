//! Controllers: feature-level units with an HTTP route prefix and socket events bound at
//! run time in `build_events`.

use std::sync::Arc;

use axum::Router;

use crate::app::events::Events;
use crate::app::handler::{EventOwner, Handler};
use crate::app::hooks::DynHooks;
use crate::subscriber::Source;

/// What `#[derive(Controller)]` records: name, route prefix, namespace, location.
pub trait ControllerInfo {
    /// The controller's name, unique in the app.
    const NAME: &'static str;
    /// The prefix its HTTP routes are mounted under (`/` merges them at the root).
    const ROUTE: &'static str;
    /// The namespace of its socket events.
    const NAMESPACE: &'static str;
    /// Where the controller is declared.
    const SOURCE: Source;

    /// Its lifecycle hooks: the derive forwards this to the type's
    /// [`Hooks`](crate::Hooks) implementation, when it has one.
    fn hooks(&self) -> Option<&dyn DynHooks> {
        None
    }

    /// Adds its controller-wide guards (`#[controller(.., guard = f)]`) to `events`.
    fn guard_all(events: &mut Events<Self>)
    where
        Self: Sized,
    {
        let _ = events;
    }
}

/// A feature-level unit: socket events bound in [`build_events`](Self::build_events),
/// HTTP routes in [`build_routes`](Self::build_routes). Derive [`ControllerInfo`] with
/// `#[derive(Controller)]` and implement this trait; lifecycle hooks come from
/// [`Hooks`](crate::Hooks), as for handlers. A controller is a [`Handler`] with routes:
/// it binds its events through the same [`Events`] API.
///
/// ```
/// use specter::prelude::*;
/// use specter::{Controller, Events};
///
/// #[derive(Default, Controller)]
/// #[controller(name = "chat", route = "/chat")]
/// struct Chat;
///
/// impl Chat {
///     // `Deliver` waits for room in a full buffer; what it gave up is logged and counted.
///     async fn on_message(&self, socket: SocketRef, deliver: Deliver, Data(text): Data<String>) -> Result<(), specter::Undelivered> {
///         deliver.to_all(socket.broadcast(), "message", &text).await
///     }
///     async fn on_typing(&self, socket: SocketRef, deliver: Deliver) -> Result<(), specter::Undelivered> {
///         deliver.to_all(socket.broadcast(), "typing", &socket.id.to_string()).await
///     }
/// }
///
/// impl Controller for Chat {
///     fn build_events(&self, events: &mut Events<Self>) {
///         events.on(specter::event!("message"), Self::on_message);
///         events.on("typing", Self::on_typing).priority(200);
///     }
///
///     fn build_routes(&self, routes: axum::Router<std::sync::Arc<Self>>) -> axum::Router<std::sync::Arc<Self>> {
///         routes.route("/", axum::routing::get(async || "chat"))
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` derives `Controller` but does not implement `specter::Controller`",
    label = "its socket events are never bound",
    note = "add `impl specter::Controller for {Self} {{ fn build_events(&self, events: &mut specter::Events<Self>) {{ events.on(\"message\", Self::on_message); }} }}`"
)]
pub trait Controller: ControllerInfo + Send + Sync + Sized + 'static {
    /// Binds socket events: `events.on("message", Self::on_message)`.
    fn build_events(&self, events: &mut Events<Self>);

    /// Adds HTTP routes, relative to [`ControllerInfo::ROUTE`]; the controller is the
    /// routes' state (`State(this): State<Arc<Self>>`).
    fn build_routes(&self, routes: Router<Arc<Self>>) -> Router<Arc<Self>> {
        routes
    }
}

/// A controller is a handler: its events go through the same binding path.
impl<C: Controller> Handler for C {
    fn name(&self) -> &str {
        C::NAME
    }

    fn namespace(&self) -> &str {
        C::NAMESPACE
    }

    fn source(&self) -> Source {
        C::SOURCE
    }

    fn build_events(&self, events: &mut Events<Self>) {
        C::guard_all(events);
        Controller::build_events(self, events);
    }

    fn hooks(&self) -> Option<&dyn DynHooks> {
        ControllerInfo::hooks(self)
    }
}

/// A controller's parts: its handler face and its mounted routes.
#[doc(hidden)]
pub struct ControllerParts {
    pub(crate) handler: Arc<dyn EventOwner>,
    pub(crate) routes: Router,
}

impl std::fmt::Debug for ControllerParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ControllerParts")
            .field("name", &self.handler.name())
            .finish()
    }
}

impl ControllerParts {
    pub(crate) fn new<C: Controller>(controller: C) -> Self {
        let this = Arc::new(controller);
        let routes = this.build_routes(Router::new()).with_state(this.clone());
        let routes = match C::ROUTE.trim_end_matches('/') {
            "" => routes,
            prefix => Router::new().nest(prefix, routes),
        };
        Self {
            handler: this,
            routes,
        }
    }
}

/// An event name checked at compile time by the same rule as `#[on]`:
/// `events.on(specter::event!("message"), Self::on_message)`.
///
/// ```compile_fail
/// let _ = specter::event!(" message"); // white space: does not compile
/// ```
#[macro_export]
macro_rules! event {
    ($name:literal) => {{
        const _: () = $crate::event_name::assert_event_name($name);
        $name
    }};
}
