//! The names the UI and the server share, and how the server speaks to every UI.

use serde::Serialize;

use crate::adapter::SocketIo;

/// The namespace the UI connects to.
pub(crate) const ADMIN_NAMESPACE: &str = "/admin";

/// The name of the `/admin` handler, which owns its subscriptions.
pub(crate) const OWNER: &str = "admin-ui";

/// Tells every connected Admin UI, on every node, of `event` with `args` (a tuple: one
/// argument each).
pub(crate) async fn tell(io: &SocketIo, event: &str, args: &impl Serialize) {
    let Some(admin) = io.of(ADMIN_NAMESPACE) else {
        return;
    };
    if let Err(e) = admin.emit(event, args).await {
        tracing::debug!(error = %e, event, "the admin UI was not told");
    }
}
