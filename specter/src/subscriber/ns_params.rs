//! [`NsParams`]: the parameters of a socket's dynamic namespace (`/tenant/{id}`).

use std::sync::Arc;

use crate::adapter::Socket;

/// The parameters of a socket's namespace, by the pattern its subscribers are bound to:
/// `/tenant/{id}` and a socket on `/tenant/acme` give `id` = `acme`. A subscriber
/// argument; empty on a plain namespace.
///
/// ```
/// use specter::prelude::*;
/// use specter::NsParams;
///
/// struct Tenants;
///
/// #[handler(name = "tenants", namespace = "/tenant/{id}", discover = false)]
/// impl Tenants {
///     #[on("whoami")]
///     fn whoami(&self, params: NsParams) -> String {
///         params.get("id").unwrap_or_default().to_owned()
///     }
/// }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NsParams(Vec<(Arc<str>, String)>);

impl NsParams {
    /// The value of parameter `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| &**n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every parameter, in the pattern's order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (&**n, v.as_str()))
    }

    pub(crate) fn new(params: Vec<(Arc<str>, String)>) -> Self {
        Self(params)
    }

    /// The parameters of socket `s`, set when it connected.
    pub(crate) fn of(s: &Socket) -> Self {
        s.extensions.get::<NsParams>().unwrap_or_default()
    }
}
