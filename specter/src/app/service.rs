//! Services: long-lived parts of an app (a database pool, a message history) with async
//! start and stop hooks, reachable from handlers, controllers and other services by type.

use std::any::{Any, TypeId, type_name};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, RwLock};

use crate::app::hooks::HookFuture;
use crate::app::lifecycle::Lifecycle;
use crate::error::{BoxError, Error};

/// A long-lived part of the app. `start` runs `on_start`, `stop` runs `on_stop` and then
/// the cleanups added through the [`Lifecycle`], last-in-first-out; both idempotent.
///
/// ```
/// use specter::{Lifecycle, Service, BoxError};
/// use std::sync::Mutex;
///
/// #[derive(Default)]
/// struct History(Mutex<Vec<String>>);
///
/// impl Service for History {
///     async fn on_start(&self, _lifecycle: &Lifecycle) -> Result<(), BoxError> {
///         self.0.lock().unwrap().push("welcome".into());
///         Ok(())
///     }
/// }
/// ```
pub trait Service: Send + Sync + 'static {
    /// The service's name in logs and health reports; its type's name by default.
    fn name(&self) -> &str {
        short_type_name::<Self>()
    }

    /// Runs once when the app boots, before any handler is set up.
    fn on_start(&self, lifecycle: &Lifecycle) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = lifecycle;
        async { Ok(()) }
    }

    /// Runs once when the app shuts down, after every handler is torn down.
    fn on_stop(&self, lifecycle: &Lifecycle) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = lifecycle;
        async { Ok(()) }
    }
}

fn short_type_name<T: ?Sized>() -> &'static str {
    let full = type_name::<T>();
    let end = full.find('<').unwrap_or(full.len());
    full[..end].rsplit("::").next().map_or(full, |last| {
        let start = full[..end].len() - last.len();
        &full[start..]
    })
}

/// The object-safe face of a [`Service`].
pub(crate) trait DynService: Send + Sync + 'static {
    fn name(&self) -> &str;
    fn start<'a>(&'a self, lifecycle: &'a Lifecycle) -> HookFuture<'a>;
    fn stop<'a>(&'a self, lifecycle: &'a Lifecycle) -> HookFuture<'a>;
}

impl<S: Service> DynService for S {
    fn name(&self) -> &str {
        Service::name(self)
    }
    fn start<'a>(&'a self, lifecycle: &'a Lifecycle) -> HookFuture<'a> {
        Box::pin(async move { self.on_start(lifecycle).await.map_err(|e| e.to_string()) })
    }
    fn stop<'a>(&'a self, lifecycle: &'a Lifecycle) -> HookFuture<'a> {
        Box::pin(async move { self.on_stop(lifecycle).await.map_err(|e| e.to_string()) })
    }
}

/// The app's services by type. Cheap to clone; every clone sees services registered
/// later. Subscribers reach it with the `State<Services>` extractor.
///
/// ```
/// use specter::{Service, Services};
/// use std::sync::Arc;
///
/// struct Clock;
/// impl Service for Clock {}
///
/// let services = Services::default();
/// services.insert(Arc::new(Clock));
/// assert!(services.get::<Clock>().is_some());
/// let err = services.require::<String>().unwrap_err();
/// assert_eq!(err.to_string(), "no service of type `alloc::string::String` is registered");
/// ```
#[derive(Clone, Default)]
pub struct Services {
    map: Arc<RwLock<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>>,
}

impl Services {
    /// Adds (or replaces) the service of type `S`.
    pub fn insert<S: Send + Sync + 'static>(&self, service: Arc<S>) {
        self.map.write().unwrap().insert(TypeId::of::<S>(), service);
    }

    /// The service of type `S`, if one is registered.
    pub fn get<S: Send + Sync + 'static>(&self) -> Option<Arc<S>> {
        let any = self.map.read().unwrap().get(&TypeId::of::<S>())?.clone();
        any.downcast::<S>().ok()
    }

    /// The service of type `S`, or an error naming the missing type.
    pub fn require<S: Send + Sync + 'static>(&self) -> Result<Arc<S>, Error> {
        self.get::<S>()
            .ok_or(Error::MissingService(type_name::<S>()))
    }
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("count", &self.map.read().unwrap().len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn short_names() {
        struct Local;
        assert_eq!(super::short_type_name::<Local>(), "Local");
        assert_eq!(super::short_type_name::<Vec<u8>>(), "Vec<u8>");
    }
}
