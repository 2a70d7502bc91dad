//! What the macros submitted through `inventory`, in a documented order.
//!
//! `inventory` collects registrations at link time in an unspecified order; Specter sorts
//! them by name (then by source location), so discovery is the same on every run and on
//! every platform. A crate that nothing references is not linked, and its registrations
//! are lost: reference it with `use my_handlers as _;`.

use std::sync::Arc;

use crate::handler::Handler;
use crate::table::Source;

/// A `#[handler]` type that discovery can construct (with `Default`).
#[derive(Debug)]
pub struct HandlerRegistration {
    /// The handler's name.
    pub name: &'static str,
    /// Its namespace.
    pub namespace: &'static str,
    /// Where its impl block is.
    pub source: Source,
    /// Builds an instance.
    pub construct: fn() -> Arc<dyn Handler>,
}

inventory::collect!(HandlerRegistration);

/// Every discovered handler, sorted by (name, file, line).
///
/// ```
/// for h in specter::registry::handlers() {
///     println!("{} ({}) at {}", h.name, h.namespace, h.source);
/// }
/// ```
pub fn handlers() -> Vec<&'static HandlerRegistration> {
    let mut all: Vec<_> = inventory::iter::<HandlerRegistration>.into_iter().collect();
    all.sort_by_key(|r| (r.name, r.source.file, r.source.line));
    all
}
