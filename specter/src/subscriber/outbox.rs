//! [`Outbox`]: [`Deliver`](crate::Deliver)'s sends for code outside subscribers.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use socketioxide::operators::BroadcastOperators;

use crate::adapter::node_bus::NodeBus;
use crate::adapter::{Adapter, SocketIo, SocketRef};
use crate::subscriber::delivery::{Delivery, Undelivered, emit_to};
use crate::subscriber::node_event::NodeEvent;
use crate::subscriber::server_event::ServerEvent;

/// Emits for code outside subscribers (background tasks, HTTP routes, services), with
/// [`Deliver`](crate::Deliver)'s rules: each recipient waits for room in its buffer up
/// to the send timeout, a broadcast is serialized once for all its recipients, and what
/// is given up is counted in [`DeliveryStats`](crate::DeliveryStats). Typed
/// [`ServerEvent`]s go under their names. From [`Lifecycle::outbox`](crate::Lifecycle::outbox),
/// [`ServiceManager::outbox`](crate::ServiceManager::outbox) or
/// [`SocketIngress::outbox`](crate::SocketIngress::outbox).
///
/// ```
/// use specter::{Lifecycle, ServerEvent};
/// use std::time::Duration;
///
/// #[derive(serde::Serialize, ServerEvent)]
/// #[event("tick")]
/// struct Tick(u64);
///
/// fn start_ticking(lifecycle: &Lifecycle) {
///     let Some(outbox) = lifecycle.outbox().cloned() else { return };
///     lifecycle.every("tick", Duration::from_secs(1), move || {
///         let outbox = outbox.clone();
///         async move { outbox.send_to_everyone(&Tick(1)).await.ok(); }
///     });
/// }
/// ```
#[derive(Clone)]
pub struct Outbox {
    io: SocketIo,
    delivery: Arc<Delivery>,
}

impl fmt::Debug for Outbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbox").finish_non_exhaustive()
    }
}

impl Outbox {
    pub(crate) fn new(io: SocketIo, delivery: Arc<Delivery>) -> Self {
        Self { io, delivery }
    }

    /// The socketioxide instance, to select recipients (`io.to("room")`).
    pub fn io(&self) -> &SocketIo {
        &self.io
    }

    /// Emits `event` with `data` as its one argument to `socket`, waiting for room.
    pub async fn emit<T: Serialize + Sync + ?Sized>(
        &self,
        socket: &SocketRef,
        event: &str,
        data: &T,
    ) -> Result<(), Undelivered> {
        emit_to(&self.delivery, socket, event, &(data,)).await
    }

    /// Emits `event` with `data` as its one argument to every socket `targets` selects,
    /// as [`Deliver::to_all`](crate::Deliver::to_all).
    pub async fn to_all<T: Serialize + Sync + ?Sized>(
        &self,
        targets: BroadcastOperators<Adapter>,
        event: &str,
        data: &T,
    ) -> Result<(), Undelivered> {
        let text = self.delivery.text_wire();
        crate::subscriber::broadcast::to_all(&self.delivery, targets, event, data, text).await
    }

    /// [`to_all`](Self::to_all) the sockets of `/`; [`Undelivered::Closed`] once the app
    /// closed its namespaces (at shutdown).
    pub async fn to_everyone<T: Serialize + Sync + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), Undelivered> {
        let all = self.io.of("/").ok_or(Undelivered::Closed)?;
        self.to_all(all, event, data).await
    }

    /// Emits a typed [`ServerEvent`] to `socket`, under its name.
    pub async fn send<E: ServerEvent + Sync>(
        &self,
        socket: &SocketRef,
        event: &E,
    ) -> Result<(), Undelivered> {
        self.emit(socket, E::NAME, event).await
    }

    /// Emits a typed [`ServerEvent`] to every socket `targets` selects.
    pub async fn send_to<E: ServerEvent + Sync>(
        &self,
        targets: BroadcastOperators<Adapter>,
        event: &E,
    ) -> Result<(), Undelivered> {
        self.to_all(targets, E::NAME, event).await
    }

    /// Tells every other node of the app `event` (see [`NodeEvent`]).
    pub async fn to_nodes<E: NodeEvent + Sync>(&self, event: &E) -> Result<(), Undelivered> {
        crate::subscriber::node_event::to_nodes(self.delivery.nodes(), event).await
    }

    /// The app's node events, to listen to.
    pub(crate) fn nodes(&self) -> &Arc<NodeBus> {
        self.delivery.nodes()
    }

    /// Emits a typed [`ServerEvent`] to every socket of `/`, as
    /// [`to_everyone`](Self::to_everyone).
    pub async fn send_to_everyone<E: ServerEvent + Sync>(
        &self,
        event: &E,
    ) -> Result<(), Undelivered> {
        self.to_everyone(E::NAME, event).await
    }
}
