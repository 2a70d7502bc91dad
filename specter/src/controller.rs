//! Controllers: feature-level units with an HTTP route prefix and socket events bound at
//! run time in `build_events`.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;

use axum::Router;

use crate::error::BoxError;
use crate::handler::{Binding, Handler, HookFuture};
use crate::ingress::DEFAULT_PRIORITY;
use crate::lifecycle::Lifecycle;
use crate::method::Method;
use crate::table::Source;

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
}

/// A feature-level unit: socket events bound in [`build_events`](Self::build_events),
/// HTTP routes in [`build_routes`](Self::build_routes). Derive [`ControllerInfo`] with
/// `#[derive(Controller)]` and implement this trait.
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
///     async fn on_message(&self, socket: SocketRef, Data(text): Data<String>) {
///         socket.broadcast().emit("message", &text).await.ok();
///     }
///     async fn on_typing(&self, socket: SocketRef) {
///         socket.broadcast().emit("typing", &socket.id.to_string()).await.ok();
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

    /// Runs after the events are subscribed.
    fn on_setup(&self, lifecycle: &Lifecycle) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = lifecycle;
        async { Ok(()) }
    }

    /// Runs before the cleanups (which remove the subscriptions).
    fn on_teardown(
        &self,
        lifecycle: &Lifecycle,
    ) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = lifecycle;
        async { Ok(()) }
    }
}

/// The events a controller binds, handed to [`Controller::build_events`].
pub struct Events<C> {
    this: Arc<C>,
    bindings: Vec<Binding>,
}

impl<C: Send + Sync + 'static> Events<C> {
    /// Binds `method` to `event` at the default priority; the returned binding's
    /// [`priority`](Binding::priority) changes it. A bad event name is an error at boot
    /// naming the controller and the event; [`event!`](crate::event!) checks a literal at
    /// compile time instead.
    #[track_caller]
    pub fn on<M>(
        &mut self,
        event: impl Into<Cow<'static, str>>,
        method: impl Method<C, M>,
    ) -> &mut Binding {
        self.bindings.push(Binding {
            event: event.into(),
            priority: DEFAULT_PRIORITY,
            source: Source::caller(),
            subscriber: method.bind(self.this.clone()),
        });
        self.bindings.last_mut().expect("just pushed")
    }
}

/// A controller seen as a handler: the ingress and the manager treat both alike.
pub(crate) struct ControllerHandler<C>(pub(crate) Arc<C>);

impl<C: Controller> Handler for ControllerHandler<C> {
    fn name(&self) -> &str {
        C::NAME
    }

    fn namespace(&self) -> &str {
        C::NAMESPACE
    }

    fn source(&self) -> Source {
        C::SOURCE
    }

    fn bindings(self: Arc<Self>) -> Vec<Binding> {
        let mut events = Events {
            this: self.0.clone(),
            bindings: Vec::new(),
        };
        self.0.build_events(&mut events);
        events.bindings
    }

    fn on_setup<'a>(&'a self, lifecycle: &'a Lifecycle) -> HookFuture<'a> {
        Box::pin(async move { self.0.on_setup(lifecycle).await.map_err(|e| e.to_string()) })
    }

    fn on_teardown<'a>(&'a self, lifecycle: &'a Lifecycle) -> HookFuture<'a> {
        Box::pin(async move {
            self.0
                .on_teardown(lifecycle)
                .await
                .map_err(|e| e.to_string())
        })
    }
}

/// A controller's parts: its handler face and its mounted routes.
#[doc(hidden)]
pub struct ControllerParts {
    pub(crate) handler: Arc<dyn Handler>,
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
            handler: Arc::new(ControllerHandler(this)),
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

impl Binding {
    /// Sets the priority (lower runs first).
    pub fn priority(&mut self, priority: i32) -> &mut Self {
        self.priority = priority;
        self
    }
}
