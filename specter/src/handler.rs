//! Handlers: types whose methods own socket events, with a managed lifecycle.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::error::Error;
use crate::ingress::SocketIngress;
use crate::lifecycle::Lifecycle;
use crate::subscriber::Subscriber;
use crate::table::Source;

/// The future of a lifecycle hook: `Err` carries the error's text.
pub type HookFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// One row of a handler's event table: an event, its priority and its subscriber.
#[derive(Debug, Clone)]
pub struct Binding {
    /// The event.
    pub event: Cow<'static, str>,
    /// Lower runs first; the default is [`DEFAULT_PRIORITY`](crate::DEFAULT_PRIORITY).
    pub priority: i32,
    /// Where the binding is declared.
    pub source: Source,
    /// What runs.
    pub subscriber: Subscriber,
}

/// A type whose methods own socket events. `#[handler(name = "...")]` implements it
/// from an impl block's `#[on("event")]` methods; implement it by hand only for
/// tables built at run time.
///
/// Methods named `on_setup` and `on_teardown` in the `#[handler]` impl block become the
/// lifecycle hooks; they may be async, may take a `&Lifecycle` argument (to
/// [`add_cleanup`](Lifecycle::add_cleanup)), and return `()` or `Result<(), E: Display>`.
pub trait Handler: Send + Sync + 'static {
    /// The handler's name, unique in the app.
    fn name(&self) -> &str;

    /// The namespace its events belong to; `/` unless the macro is given `namespace`.
    fn namespace(&self) -> &str {
        "/"
    }

    /// Where the handler is declared.
    fn source(&self) -> Source;

    /// The event table, in declaration order.
    fn bindings(self: Arc<Self>) -> Vec<Binding>;

    /// Runs after the table is subscribed.
    fn on_setup<'a>(&'a self, _lifecycle: &'a Lifecycle) -> HookFuture<'a> {
        Box::pin(async { Ok(()) })
    }

    /// Runs before the cleanups (which remove the subscriptions).
    fn on_teardown<'a>(&'a self, _lifecycle: &'a Lifecycle) -> HookFuture<'a> {
        Box::pin(async { Ok(()) })
    }
}

/// A handler instance with its lifecycle: what the manager sets up and tears down.
///
/// `setup` subscribes the table through the ingress, then runs `on_setup`; `teardown`
/// runs `on_teardown`, then the cleanups last-in-first-out, which remove the
/// subscriptions. Both are idempotent, also when called concurrently.
#[derive(Clone)]
pub struct Mounted {
    handler: Arc<dyn Handler>,
    lifecycle: Arc<Lifecycle>,
}

impl Mounted {
    /// Wraps a handler instance; nothing is subscribed until [`setup`](Self::setup).
    pub fn new(handler: Arc<dyn Handler>) -> Self {
        Self {
            handler,
            lifecycle: Arc::default(),
        }
    }

    /// The handler.
    pub fn handler(&self) -> &Arc<dyn Handler> {
        &self.handler
    }

    /// Its lifecycle.
    pub fn lifecycle(&self) -> &Lifecycle {
        &self.lifecycle
    }

    /// Subscribes the handler's table, then runs `on_setup`. Returns whether it ran
    /// (false when it was already set up).
    pub async fn setup(&self, ingress: &SocketIngress) -> Result<bool, Error> {
        let h = &self.handler;
        let lifecycle = &self.lifecycle;
        let owner: Arc<str> = Arc::from(h.name());
        lifecycle
            .setup(async || {
                let subs = ingress.add_all(h.namespace(), owner.clone(), h.clone().bindings())?;
                lifecycle.add_cleanup(move || {
                    crate::Subscription::unsubscribe_all(subs);
                });
                h.on_setup(lifecycle).await.map_err(|message| Error::Hook {
                    owner: owner.to_string(),
                    hook: "on_setup",
                    message,
                })
            })
            .await
            .map_err(|e| e.owned_by(h.name()))
    }

    /// Runs `on_teardown`, then the cleanups. Returns whether it ran.
    pub async fn teardown(&self) -> bool {
        let h = &self.handler;
        let lifecycle = &self.lifecycle;
        lifecycle
            .teardown(async || {
                h.on_teardown(lifecycle)
                    .await
                    .map_err(|message| Error::Hook {
                        owner: h.name().to_owned(),
                        hook: "on_teardown",
                        message,
                    })
            })
            .await
    }
}
