//! The socketioxide side of the ingress: a connect handler per namespace that runs the
//! `connect` subscribers as its middleware and, once the socket is in, registers the
//! namespace's one message listener (socketioxide's fallback handler, so events
//! subscribed later reach the socket too) and its disconnect listener.

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use socketioxide::handler::{ConnectHandler, DisconnectHandler, MessageHandler, Value};
use socketioxide::socket::DisconnectReason;

use crate::adapter::{Adapter, Socket};
use crate::dispatch::Dispatching;
use crate::ingress::Namespace;

/// Marker for socketioxide's handler traits: ours are plain structs, not closures.
pub(crate) enum Glue {}

#[derive(Clone)]
pub(crate) struct NsConnect(pub(crate) Arc<Namespace>);

struct NsMessages(Arc<Namespace>);

struct NsDisconnect(Arc<Namespace>);

type MiddlewareFuture<'a> =
    Pin<Box<dyn Future<Output = Result<(), Box<dyn Display + Send>>> + Send + 'a>>;

impl ConnectHandler<Adapter, Glue> for NsConnect {
    fn call(&self, s: Arc<Socket>, _auth: Option<Value>) {
        // Synchronously, before socketioxide reads the socket's next packet.
        s.on_fallback(NsMessages(self.0.clone()));
        s.on_disconnect(NsDisconnect(self.0.clone()));
    }

    fn call_middleware<'a>(
        &'a self,
        s: Arc<Socket>,
        auth: &'a Option<Value>,
    ) -> MiddlewareFuture<'a> {
        Box::pin(async move {
            self.0
                .dispatch_connect(s, auth)
                .await
                .map_err(|reason| Box::new(reason) as Box<dyn Display + Send>)
        })
    }
}

impl MessageHandler<Adapter, Glue> for NsMessages {
    fn call(&self, s: Arc<Socket>, v: Value, ack_id: Option<i64>) {
        self.0.dispatch_message(s, v, ack_id);
    }
}

impl DisconnectHandler<Adapter, Glue> for NsDisconnect {
    fn call_with_defer(&self, s: Arc<Socket>, reason: DisconnectReason, defer: fn(Arc<Socket>)) {
        let d = Dispatching::new(&self.0);
        tokio::spawn(async move {
            d.ns().dispatch_disconnect(s.clone(), reason).await;
            defer(s);
        });
    }
}
