//! [`Mounted`]: a handler or controller instance with its lifecycle.

use std::sync::Arc;

use crate::app::handler::{EventOwner, Handler};
use crate::app::hooks::run_hook;
use crate::app::lifecycle::Lifecycle;
use crate::error::Error;
use crate::ingress::{SocketIngress, Subscription};

/// A handler (or controller) instance with its lifecycle: what the manager sets up and
/// tears down.
///
/// `setup` subscribes the events through the ingress, then runs the
/// [`Hooks::on_setup`](crate::Hooks::on_setup) hook; `teardown` runs `on_teardown`,
/// then the cleanups last-in-first-out, which remove the subscriptions. Both are
/// idempotent, also when called concurrently.
#[derive(Clone)]
pub struct Mounted {
    owner: Arc<dyn EventOwner>,
    lifecycle: Arc<Lifecycle>,
}

impl Mounted {
    /// Wraps a handler; nothing is subscribed until [`setup`](Self::setup).
    pub fn new(handler: impl Handler) -> Self {
        Self::of(Arc::new(handler))
    }

    pub(crate) fn of(owner: Arc<dyn EventOwner>) -> Self {
        Self {
            owner,
            lifecycle: Arc::default(),
        }
    }

    pub(crate) fn owner(&self) -> &Arc<dyn EventOwner> {
        &self.owner
    }

    /// Its lifecycle.
    pub fn lifecycle(&self) -> &Lifecycle {
        &self.lifecycle
    }

    /// Subscribes the events, then runs `on_setup`. Returns whether it ran (false when
    /// it was already set up).
    pub async fn setup(&self, ingress: &SocketIngress) -> Result<bool, Error> {
        let owner = &self.owner;
        let lifecycle = &self.lifecycle;
        let name: Arc<str> = Arc::from(owner.name());
        lifecycle
            .setup(async || {
                let subs =
                    ingress.add_all(owner.namespace(), name.clone(), owner.clone().bindings())?;
                lifecycle.add_cleanup(move || {
                    Subscription::unsubscribe_all(subs);
                });
                let hook = owner.hooks().map(|h| h.setup(lifecycle));
                run_hook(hook, &name, "on_setup").await
            })
            .await
            .map_err(|e| e.owned_by(owner.name()))
    }

    /// Runs `on_teardown`, then the cleanups. Returns whether it ran.
    pub async fn teardown(&self) -> bool {
        let owner = &self.owner;
        self.lifecycle
            .teardown(async || {
                let hook = owner.hooks().map(|h| h.teardown(&self.lifecycle));
                run_hook(hook, owner.name(), "on_teardown").await
            })
            .await
    }
}
