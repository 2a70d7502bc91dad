//! [`NodeEvent`]: what one node of the app tells the others.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::adapter::node_bus::NodeBus;
use crate::subscriber::delivery::Undelivered;
use crate::subscriber::signature::TypeInfo;
use crate::subscriber::source::Source;

/// An event one node of the app tells the others, not its clients (node socket.io's
/// `serverSideEmit`): declared once as a type whose value is the payload,
/// `#[derive(Serialize, Deserialize, NodeEvent)] #[event("presence:changed")]`, the
/// name checked at compile time as every event name is.
///
/// Sent with [`Outbox::to_nodes`](crate::Outbox::to_nodes) or
/// [`Deliver::to_nodes`](crate::Deliver::to_nodes); received on every *other* node by
/// the listeners of [`Lifecycle::on_node_event`](crate::Lifecycle::on_node_event), in
/// the order sent. On one node, or without the `redis` feature, there is no other node
/// to tell. Node events travel on the app's Redis link: while it is down they are held
/// in order with the adapter's messages and sent once it is back; past what the link may
/// hold (`LinkSettings::held_messages`, `held_bytes`), `to_nodes` fails with
/// [`Undelivered::Adapter`]. The contract
/// lists them in `node_events`, never in the clients' TypeScript.
///
/// ```
/// use specter::NodeEvent;
///
/// #[derive(serde::Serialize, serde::Deserialize, NodeEvent)]
/// #[event("presence:changed")]
/// struct Changed {
///     socket: String,
///     user: Option<String>,
/// }
///
/// assert_eq!(Changed::NAME, "presence:changed");
/// ```
pub trait NodeEvent: Serialize + DeserializeOwned + Send + 'static {
    /// The event's name.
    const NAME: &'static str;
}

/// A node event's record, submitted by `#[derive(NodeEvent)]`.
#[doc(hidden)]
pub struct NodeEventInfo {
    pub name: &'static str,
    pub source: Source,
    pub describe: fn() -> TypeInfo,
}

inventory::collect!(NodeEventInfo);

/// Every node event linked into the program.
#[cfg_attr(not(feature = "contract"), allow(dead_code))]
pub(crate) fn node_events() -> impl Iterator<Item = &'static NodeEventInfo> {
    inventory::iter::<NodeEventInfo>.into_iter()
}

/// Tells the other nodes `event`.
pub(crate) async fn to_nodes<E: NodeEvent + Sync>(
    nodes: &NodeBus,
    event: &E,
) -> Result<(), Undelivered> {
    let data = serde_json::to_value(event).map_err(|e| Undelivered::Serialize(e.to_string()))?;
    nodes
        .publish(E::NAME, data)
        .await
        .map_err(Undelivered::Adapter)
}
