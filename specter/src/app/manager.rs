//! [`ServiceManager`]: the app built from discovered and registered components; it
//! boots them, serves them ([`edge::serve`](crate::app::edge)) and shuts them down.

use std::sync::{Arc, Mutex};

use axum::Router;
use serde::Serialize;
use socketioxide::layer::SocketIoLayer;

use crate::adapter::{Adapter, SocketIo};
use crate::app::component::{Component, ComponentHealth};
use crate::app::controller::{Controller, ControllerParts};
use crate::app::edge::EdgeStats;
use crate::app::edge::caps::Caps;
use crate::app::edge::gate::{self, Gate};
use crate::app::edge::settings::EdgeLimits;
use crate::app::handler::Handler;
use crate::app::registry::ComponentKind;
use crate::app::service::{Service, Services};
use crate::error::Error;
use crate::ingress::{EventRow, SocketIngress, format_table};
use crate::subscriber::Source;

/// `health()` as JSON: 200 when up, 503 otherwise; states only, unless `details`.
fn health_response(app: &ServiceManager, details: bool) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut health = app.health();
    if !details {
        health.components = health
            .components
            .into_iter()
            .map(ComponentHealth::states_only)
            .collect();
        if let Some(broker) = &mut health.broker {
            broker.reason = None;
            broker.nodes.clear();
            broker.unanswered.clear();
        }
    }
    let code = match health.status {
        "up" => axum::http::StatusCode::OK,
        _ => axum::http::StatusCode::SERVICE_UNAVAILABLE,
    };
    (code, axum::Json(health)).into_response()
}

/// A layer the app wraps its whole HTTP service in (`http_layer`).
pub(crate) type HttpLayer = Arc<dyn Fn(Router) -> Router + Send + Sync>;

/// Fails when `c`'s name is already taken, naming both places.
pub(crate) fn check_unique(existing: &[Arc<Component>], c: &Component) -> Result<(), Error> {
    match existing.iter().find(|e| e.name == c.name) {
        Some(first) => Err(Error::DuplicateName {
            name: c.name.clone(),
            first: first.source.unwrap_or(Source {
                file: "<service>",
                line: 0,
            }),
            second: c.source.unwrap_or(Source {
                file: "<service>",
                line: 0,
            }),
        }),
        None => Ok(()),
    }
}

/// The app: its ingress, its services, handlers and controllers, and their lifecycles.
#[derive(Clone)]
pub struct ServiceManager {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) layer: SocketIoLayer<Adapter>,
    pub(crate) ingress: SocketIngress,
    pub(crate) services: Services,
    pub(crate) components: Mutex<Vec<Arc<Component>>>,
    pub(crate) routes: Mutex<Vec<Router>>,
    /// Serializes boot, shutdown and registration; true while booted.
    pub(crate) gate: tokio::sync::Mutex<bool>,
    /// Set when a shutdown begins: health answers 503 from then on.
    pub(crate) closing: std::sync::atomic::AtomicBool,
    /// Where `router()` serves `health()`, when the app asked for it, and with what.
    pub(crate) health_path: Option<String>,
    pub(crate) health_details: bool,
    /// The gate on the Socket.IO path, the connection caps and the HTTP bounds.
    pub(crate) origin_gate: Arc<Gate>,
    pub(crate) caps: Arc<Caps>,
    pub(crate) edge: EdgeLimits,
    pub(crate) http_layers: Vec<HttpLayer>,
    /// The link to Redis, whose state health reports.
    #[cfg(feature = "redis")]
    pub(crate) link: Arc<crate::adapter::redis_link::Link>,
}

/// What [`ServiceManager::health`] reports.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    /// `up` (every component up, no background task failed), `shutting_down` (a
    /// shutdown began and components are still up), `down` (none up), or `degraded`.
    pub status: &'static str,
    /// Every component in registration order.
    pub components: Vec<ComponentHealth>,
    /// The link to the other nodes (feature `redis`): while it is down the app is
    /// `degraded`, its broadcasts reaching this node's clients only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broker: Option<crate::adapter::LinkHealth>,
}

impl ServiceManager {
    /// The ingress every component subscribes through.
    pub fn ingress(&self) -> &SocketIngress {
        &self.inner.ingress
    }

    /// The socketioxide instance.
    pub fn io(&self) -> &SocketIo {
        self.inner.ingress.io()
    }

    /// Emits with [`Deliver`](crate::Deliver)'s rules, for code outside subscribers.
    pub fn outbox(&self) -> crate::Outbox {
        self.inner.ingress.outbox()
    }

    /// The app's services by type.
    pub fn services(&self) -> &Services {
        &self.inner.services
    }

    fn components(&self) -> Vec<Arc<Component>> {
        self.inner.components.lock().unwrap().clone()
    }

    /// Starts every service in order, then sets up every handler and controller in
    /// order. Idempotent, also under concurrent calls. A hook that fails or panics is
    /// logged and the others still run; then boot returns [`Error::Boot`] listing the
    /// failures (what did start stays up).
    pub async fn boot(&self) -> Result<(), Error> {
        let mut booted = self.inner.gate.lock().await;
        self.inner
            .closing
            .store(false, std::sync::atomic::Ordering::Relaxed);
        let components = self.components();
        let (services, sockets): (Vec<_>, Vec<_>) = components.iter().partition(|c| c.is_service());
        let mut failures = Vec::new();
        for c in services.iter().chain(&sockets) {
            if let Err(e) = c.start(&self.inner.ingress).await {
                tracing::error!(component = %c.name, error = %e, "boot failed");
                failures.push(e);
            }
        }
        self.inner.ingress.ready().await;
        *booted = true;
        if tracing::enabled!(tracing::Level::DEBUG) {
            tracing::debug!("event table:\n{}", self.print_event_table());
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(Error::Boot(failures))
        }
    }

    /// Tears every handler and controller down in reverse order, then stops every
    /// service in reverse order. Idempotent, also under concurrent calls.
    pub async fn shutdown(&self) {
        self.start_draining();
        let mut booted = self.inner.gate.lock().await;
        let components = self.components();
        let (services, sockets): (Vec<_>, Vec<_>) = components.iter().partition(|c| c.is_service());
        for c in sockets.iter().rev().chain(services.iter().rev()) {
            c.stop().await;
        }
        *booted = false;
    }

    async fn register(&self, component: Component) -> Result<(), Error> {
        let booted = self.inner.gate.lock().await;
        let component = Arc::new(component);
        {
            let mut all = self.inner.components.lock().unwrap();
            check_unique(&all, &component)?;
            all.push(component.clone());
        }
        if *booted {
            component.start(&self.inner.ingress).await?;
        }
        Ok(())
    }

    /// Adds a service; when the app is booted it starts at once. Reachable through
    /// [`Services`] (`State<Arc<S>>` only for services added to the builder).
    pub async fn register_service<S: Service>(&self, service: S) -> Result<(), Error> {
        let service = Arc::new(service);
        self.inner.services.insert(service.clone());
        self.register(Component::service(service)).await
    }

    /// Adds a handler; when the app is booted it is set up at once.
    pub async fn register_handler(&self, handler: impl Handler) -> Result<(), Error> {
        self.register(Component::socket(Arc::new(handler), ComponentKind::Handler))
            .await
    }

    /// Adds a controller; when the app is booted it is set up at once. Its routes are
    /// in every [`router`](Self::router) built afterwards, not in one already serving.
    pub async fn register_controller<C: Controller>(&self, controller: C) -> Result<(), Error> {
        let parts = ControllerParts::new(controller);
        self.register(Component::socket(parts.handler, ComponentKind::Controller))
            .await?;
        self.inner.routes.lock().unwrap().push(parts.routes);
        Ok(())
    }

    /// Marks the app as draining: from now on `health()` says `shutting_down` and the
    /// health route answers 503, while the app keeps serving, so that a load balancer
    /// stops sending new clients before the node stops. `serve` does it when its
    /// shutdown signal arrives; `boot` clears it.
    pub fn start_draining(&self) {
        self.inner
            .closing
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Every component with its state and subscription count.
    pub fn health(&self) -> Health {
        let table = self.inner.ingress.event_table();
        let components: Vec<_> = self
            .components()
            .iter()
            .map(|c| {
                let subscriptions = table
                    .iter()
                    .filter(|row| Some(row.namespace.as_str()) == c.namespace())
                    .flat_map(|row| &row.subscribers)
                    .filter(|s| s.owner == c.name)
                    .count();
                c.health(subscriptions)
            })
            .collect();
        let up = components.iter().filter(|c| c.state == "up").count();
        let failed_tasks = components.iter().any(|c| !c.task_failures.is_empty());
        let closing = self
            .inner
            .closing
            .load(std::sync::atomic::Ordering::Relaxed);
        #[cfg(feature = "redis")]
        let broker = Some(self.inner.link.health());
        #[cfg(not(feature = "redis"))]
        let broker: Option<crate::adapter::LinkHealth> = None;
        let broker_down = broker.as_ref().is_some_and(|b| b.state != "up");
        let status = match up {
            0 if !components.is_empty() => "down",
            _ if closing => "shutting_down",
            n if n == components.len() && !failed_tasks && !broker_down => "up",
            _ => "degraded",
        };
        Health {
            status,
            components,
            broker,
        }
    }

    /// The event table: every namespace and event with its subscribers in dispatch
    /// order, their owners, priorities and source locations.
    pub fn event_table(&self) -> Vec<EventRow> {
        self.inner.ingress.event_table()
    }

    /// [`event_table`](Self::event_table) as text; also logged at boot at debug level.
    pub fn print_event_table(&self) -> String {
        format_table(&self.event_table())
    }

    /// An axum router with every controller's routes and the Socket.IO layer, to serve
    /// or to merge into an app of your own. Routes reach the services with
    /// `Extension<Services>`.
    pub fn router(&self) -> Router {
        let routes = self.inner.routes.lock().unwrap().clone();
        let router = routes
            .into_iter()
            .fold(Router::new(), Router::merge)
            .layer(axum::Extension(self.inner.services.clone()))
            .layer(self.inner.layer.clone())
            // Outside socketioxide's layer, so it runs first: see `edge::gate`.
            .layer(axum::middleware::from_fn_with_state(
                self.inner.origin_gate.clone(),
                gate::gate,
            ));
        let router = match &self.inner.health_path {
            Some(path) => {
                let (app, details) = (self.clone(), self.inner.health_details);
                router.route(
                    path,
                    axum::routing::get(async move || health_response(&app, details)),
                )
            }
            None => router,
        };
        self.inner
            .http_layers
            .iter()
            .fold(router, |r, layer| layer(r))
    }

    /// What the edge refused, and the connections open now.
    pub fn edge_stats(&self) -> EdgeStats {
        EdgeStats {
            refused_connections: self
                .inner
                .caps
                .refused
                .load(std::sync::atomic::Ordering::Relaxed),
            refused_origins: self
                .inner
                .origin_gate
                .refused_origins
                .load(std::sync::atomic::Ordering::Relaxed),
            open_connections: self.inner.caps.open(),
        }
    }
}
