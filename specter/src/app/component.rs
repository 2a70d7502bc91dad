//! One unit the manager runs: a service, a handler or a controller, with its lifecycle
//! and its last failure.

use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::app::handler::EventOwner;
use crate::app::hooks::run_hook;
use crate::app::lifecycle::Lifecycle;
use crate::app::mounted::Mounted;
use crate::app::registry::ComponentKind;
use crate::app::service::DynService;
use crate::error::Error;
use crate::ingress::SocketIngress;
use crate::subscriber::Source;

pub(crate) struct Component {
    pub name: String,
    pub kind: ComponentKind,
    pub source: Option<Source>,
    body: Body,
    failure: Mutex<Option<String>>,
}

enum Body {
    Service {
        service: Arc<dyn DynService>,
        lifecycle: Lifecycle,
    },
    Socket(Mounted),
}

/// A component as [`ServiceManager::health`](crate::ServiceManager::health) reports it.
#[derive(Debug, Clone, Serialize)]
pub struct ComponentHealth {
    /// Its name.
    pub name: String,
    /// Service, handler or controller.
    pub kind: ComponentKind,
    /// `up`, `down`, or `failed` (its last start or setup failed).
    pub state: &'static str,
    /// Why it failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How many event subscriptions it holds.
    pub subscriptions: usize,
    /// How many of its background tasks panicked.
    pub failed_tasks: usize,
    /// Its background tasks that panicked, as `name: message`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub task_failures: Vec<String>,
}

impl ComponentHealth {
    /// The same, without the texts of errors and panics: what the health route tells
    /// anyone who asks, unless the app opts into details.
    pub(crate) fn states_only(mut self) -> Self {
        self.error = None;
        self.task_failures = Vec::new();
        self
    }
}

impl Component {
    pub fn service(service: Arc<dyn DynService>) -> Self {
        Self {
            name: service.name().to_owned(),
            kind: ComponentKind::Service,
            source: None,
            body: Body::Service {
                service,
                lifecycle: Lifecycle::new(),
            },
            failure: Mutex::default(),
        }
    }

    pub fn socket(owner: Arc<dyn EventOwner>, kind: ComponentKind) -> Self {
        Self {
            name: owner.name().to_owned(),
            kind,
            source: Some(owner.source()),
            body: Body::Socket(Mounted::of(owner)),
            failure: Mutex::default(),
        }
    }

    pub fn is_service(&self) -> bool {
        matches!(self.body, Body::Service { .. })
    }

    pub fn namespace(&self) -> Option<&str> {
        match &self.body {
            Body::Socket(m) => Some(m.owner().namespace()),
            Body::Service { .. } => None,
        }
    }

    fn lifecycle(&self) -> &Lifecycle {
        match &self.body {
            Body::Service { lifecycle, .. } => lifecycle,
            Body::Socket(m) => m.lifecycle(),
        }
    }

    /// Starts a service or sets up a handler or controller; idempotent.
    pub async fn start(&self, ingress: &SocketIngress) -> Result<(), Error> {
        self.lifecycle().set_outbox(ingress.outbox());
        let result = match &self.body {
            Body::Service { service, lifecycle } => {
                lifecycle
                    .setup(async || {
                        run_hook(Some(service.start(lifecycle)), &self.name, "on_start").await
                    })
                    .await
            }
            Body::Socket(m) => m.setup(ingress).await,
        };
        let result = result.map(drop).map_err(|e| e.owned_by(&self.name));
        *self.failure.lock().unwrap() = result.as_ref().err().map(ToString::to_string);
        result
    }

    /// Stops a service or tears down a handler or controller; idempotent.
    pub async fn stop(&self) {
        match &self.body {
            Body::Service { service, lifecycle } => {
                lifecycle
                    .teardown(async || {
                        run_hook(Some(service.stop(lifecycle)), &self.name, "on_stop").await
                    })
                    .await;
            }
            Body::Socket(m) => {
                m.teardown().await;
            }
        }
    }

    pub fn health(&self, subscriptions: usize) -> ComponentHealth {
        let error = self.failure.lock().unwrap().clone();
        let state = match (self.lifecycle().is_up(), &error) {
            (true, _) => "up",
            (false, Some(_)) => "failed",
            (false, None) => "down",
        };
        let task_failures = self.lifecycle().task_failures();
        ComponentHealth {
            name: self.name.clone(),
            kind: self.kind,
            state,
            error,
            subscriptions,
            failed_tasks: task_failures.len(),
            task_failures,
        }
    }
}
