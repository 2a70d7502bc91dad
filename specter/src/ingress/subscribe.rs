//! The builders of [`SocketIngress::on`], [`on_any`](SocketIngress::on_any) and
//! [`on_error`](SocketIngress::on_error): one subscription, its options, then
//! `subscribe()`.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::error::Error;
use crate::ingress::SocketIngress;
use crate::ingress::error_subscribers::ErrorEvent;
use crate::ingress::subscription::Subscription;
use crate::subscriber::{Binding, DEFAULT_NAMESPACE, DEFAULT_PRIORITY, IntoGuard, Rate};

/// The owner of a subscription that does not name one: what logs, the event table and
/// error acks (`handler`) say.
pub const DEFAULT_OWNER: &str = "app";

/// One subscription being built by [`SocketIngress::on`] or
/// [`on_any`](SocketIngress::on_any): set its options, then
/// [`subscribe`](Self::subscribe).
///
/// ```
/// # let (_layer, io) = specter::SocketIo::new_layer();
/// # let ingress = specter::SocketIngress::new(io);
/// use specter::{Data, NsParams};
///
/// let rooms = ingress
///     .on("join", |params: NsParams, Data(room): Data<String>| format!("{}/{room}", params.get("id").unwrap_or("")))
///     .namespace("/tenant/{id}")
///     .owner("rooms")
///     .guard(|Data(room): Data<String>| !room.is_empty())
///     .subscribe()?;
/// # Ok::<(), specter::Error>(())
/// ```
#[must_use = "nothing is subscribed until `subscribe()`"]
pub struct Subscribe<'a> {
    ingress: &'a SocketIngress,
    namespace: String,
    owner: Arc<str>,
    binding: Binding,
}

impl<'a> Subscribe<'a> {
    pub(crate) fn new(ingress: &'a SocketIngress, binding: Binding) -> Self {
        Self {
            ingress,
            namespace: DEFAULT_NAMESPACE.to_owned(),
            owner: Arc::from(DEFAULT_OWNER),
            binding,
        }
    }

    /// On behalf of `owner` (default [`DEFAULT_OWNER`], `"app"`): the name logs, the
    /// event table and error acks give the subscriber.
    pub fn owner(mut self, owner: &str) -> Self {
        self.owner = Arc::from(owner);
        self
    }

    /// An event of `namespace` (default `/`), a path or a pattern (`/tenant/{id}`).
    pub fn namespace(mut self, namespace: &str) -> Self {
        namespace.clone_into(&mut self.namespace);
        self
    }

    /// See [`Binding::priority`]; default [`DEFAULT_PRIORITY`].
    pub fn priority(mut self, priority: i32) -> Self {
        self.binding.priority(priority);
        self
    }

    /// See [`Binding::timeout`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.binding.timeout(timeout);
        self
    }

    /// See [`Binding::guard`].
    pub fn guard<M>(mut self, guard: impl IntoGuard<M>) -> Self {
        self.binding.guard(guard);
        self
    }

    /// See [`Binding::rate_limit`].
    pub fn rate_limit(mut self, rate: Rate) -> Self {
        self.binding.rate_limit(rate);
        self
    }

    /// See [`Binding::concurrent`].
    pub fn concurrent(mut self) -> Self {
        self.binding.concurrent();
        self
    }

    /// Adds the subscriber; it takes the next events at once, also of sockets already
    /// connected. Fails when the event name breaks the
    /// [rule](crate::event_name::check_event_name), when the namespace is not one, or
    /// when the event cannot provide one of the callback's arguments.
    pub fn subscribe(self) -> Result<Subscription, Error> {
        let mut subs = self
            .ingress
            .add_all(&self.namespace, self.owner, vec![self.binding])?;
        Ok(subs.pop().expect("one binding, one subscription"))
    }
}

/// An error subscription being built by [`SocketIngress::on_error`]: set its priority,
/// then [`subscribe`](Self::subscribe).
#[must_use = "nothing is subscribed until `subscribe()`"]
pub struct OnError<'a, F> {
    ingress: &'a SocketIngress,
    callback: F,
    priority: i32,
}

impl<'a, F, Fut> OnError<'a, F>
where
    F: Fn(ErrorEvent) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    pub(crate) fn new(ingress: &'a SocketIngress, callback: F) -> Self {
        Self {
            ingress,
            callback,
            priority: DEFAULT_PRIORITY,
        }
    }

    /// Lower runs first; ties run in subscription order. Default [`DEFAULT_PRIORITY`].
    pub fn priority(mut self, priority: i32) -> Self {
        self.priority = priority;
        self
    }

    /// Adds the error subscriber.
    pub fn subscribe(self) -> Subscription {
        self.ingress.add_error(self.callback, self.priority)
    }
}
