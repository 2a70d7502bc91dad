//! What the macros submitted through `inventory`, in a documented order.
//!
//! `inventory` collects registrations at link time in an unspecified order; Specter sorts
//! them by name (then by source location), so discovery is the same on every run and on
//! every platform. A crate that nothing references is not linked, and its registrations
//! are lost: reference it with `use my_handlers as _;`.

use std::sync::Arc;

use serde::Serialize;

use crate::app::controller::{Controller, ControllerParts};
use crate::app::handler::EventOwner;
use crate::subscriber::Source;

/// The kinds of components a [`ServiceManager`](crate::ServiceManager) runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentKind {
    /// A [`Service`](crate::Service).
    Service,
    /// A `#[handler]`.
    Handler,
    /// A `#[derive(Controller)]`.
    Controller,
}

/// A discoverable `#[handler]` or `#[derive(Controller)]` type.
#[derive(Debug)]
pub struct Registration {
    /// Its name.
    pub name: &'static str,
    /// Handler or controller.
    pub kind: ComponentKind,
    /// Its namespace.
    pub namespace: &'static str,
    /// Where it is declared.
    pub source: Source,
    #[doc(hidden)]
    pub construct: Construct,
}

/// How discovery builds an instance (with `Default`).
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum Construct {
    Handler(fn() -> Arc<dyn EventOwner>),
    Controller(fn() -> ControllerParts),
}

inventory::collect!(Registration);

/// Every discovered handler and controller, sorted by (name, file, line): the order
/// [`discover`](crate::ServiceManagerBuilder::discover) adds them in.
///
/// ```
/// for r in specter::registry::discovered() {
///     println!("{:?} {} ({}) at {}", r.kind, r.name, r.namespace, r.source);
/// }
/// ```
pub fn discovered() -> Vec<&'static Registration> {
    let mut all: Vec<_> = inventory::iter::<Registration>.into_iter().collect();
    all.sort_by_key(|r| (r.name, r.source.file, r.source.line));
    all
}

/// Builds a discovered controller.
#[doc(hidden)]
pub fn construct_controller<T: Controller + Default>() -> ControllerParts {
    ControllerParts::new(T::default())
}
