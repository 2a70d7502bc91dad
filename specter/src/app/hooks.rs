//! Lifecycle hooks of handlers and controllers: the [`Hooks`] trait. `#[handler]` and
//! `#[derive(Controller)]` forward to it when the type implements it, and do nothing
//! otherwise; they never look for methods by name.

use std::future::Future;
use std::pin::Pin;

use crate::app::lifecycle::Lifecycle;
use crate::error::{BoxError, Error};

/// The future of a lifecycle hook: `Err` carries the error's text.
pub type HookFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// Awaits a hook, when there is one; its error names the component and the hook.
pub(crate) async fn run_hook(
    hook: Option<HookFuture<'_>>,
    owner: &str,
    name: &'static str,
) -> Result<(), Error> {
    match hook {
        Some(hook) => hook.await.map_err(|message| Error::Hook {
            owner: owner.to_owned(),
            hook: name,
            message,
        }),
        None => Ok(()),
    }
}

/// Lifecycle hooks of a handler or controller: implement it to run code after its events
/// are subscribed, and before they are removed. A [`Service`](crate::Service) has the
/// same pair as `on_start` / `on_stop`.
///
/// ```
/// use specter::prelude::*;
/// use specter::{BoxError, Hooks, Lifecycle};
///
/// #[derive(Default)]
/// struct Presence;
///
/// #[handler(name = "presence")]
/// impl Presence {
///     #[on("heartbeat")]
///     fn heartbeat(&self) {}
/// }
///
/// impl Hooks for Presence {
///     async fn on_setup(&self, lifecycle: &Lifecycle) -> Result<(), BoxError> {
///         lifecycle.add_cleanup(|| println!("presence: cleaned up"));
///         Ok(())
///     }
/// }
/// ```
pub trait Hooks: Send + Sync + 'static {
    /// Runs after the events are subscribed. An error fails the component's setup (and
    /// boot reports it).
    fn on_setup(&self, lifecycle: &Lifecycle) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = lifecycle;
        async { Ok(()) }
    }

    /// Runs at teardown, before the cleanups (which remove the subscriptions), last in
    /// first out. An error is logged; the cleanups still run.
    fn on_teardown(
        &self,
        lifecycle: &Lifecycle,
    ) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = lifecycle;
        async { Ok(()) }
    }
}

/// The object-safe face of [`Hooks`].
#[doc(hidden)]
pub trait DynHooks: Send + Sync {
    fn setup<'a>(&'a self, lifecycle: &'a Lifecycle) -> HookFuture<'a>;
    fn teardown<'a>(&'a self, lifecycle: &'a Lifecycle) -> HookFuture<'a>;
}

impl<T: Hooks> DynHooks for T {
    fn setup<'a>(&'a self, lifecycle: &'a Lifecycle) -> HookFuture<'a> {
        Box::pin(async move { self.on_setup(lifecycle).await.map_err(|e| e.to_string()) })
    }
    fn teardown<'a>(&'a self, lifecycle: &'a Lifecycle) -> HookFuture<'a> {
        Box::pin(async move { self.on_teardown(lifecycle).await.map_err(|e| e.to_string()) })
    }
}

/// How the macros forward to [`Hooks`] when a concrete type implements it, and to
/// nothing otherwise: `(&HooksOf(self)).hooks()` picks [`ViaHooks`] (no auto-ref) when
/// `T: Hooks`, else [`NoHooks`] (one auto-ref). Works because the macros only accept
/// non-generic types.
#[doc(hidden)]
pub struct HooksOf<'a, T>(pub &'a T);

#[doc(hidden)]
pub trait ViaHooks<'a> {
    fn hooks(&self) -> Option<&'a dyn DynHooks>;
}

impl<'a, T: Hooks> ViaHooks<'a> for HooksOf<'a, T> {
    fn hooks(&self) -> Option<&'a dyn DynHooks> {
        Some(self.0)
    }
}

#[doc(hidden)]
pub trait NoHooks<'a> {
    fn hooks(&self) -> Option<&'a dyn DynHooks> {
        None
    }
}

impl<'a, T> NoHooks<'a> for &HooksOf<'a, T> {}
