//! The gate in front of socketioxide: every request to the Socket.IO path passes it
//! before engine.io sees it. It refuses new sessions once shutdown began (503), pages of
//! origins not allowed (403), what the app's `allow_request` hook refuses (its status),
//! and answers CORS for the origins it allows (tower-http's `CorsLayer`). Other routes
//! of the app pass untouched.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower::{Layer, ServiceExt};
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

use super::origin::Origins;
use super::request_head;

/// The app's hook on handshakes and upgrades: `Err(status)` refuses the request.
pub(crate) type AllowRequest = Arc<
    dyn Fn(Parts) -> Pin<Box<dyn Future<Output = Result<(), StatusCode>> + Send>> + Send + Sync,
>;

/// What the gate knows and counts.
pub(crate) struct Gate {
    /// The Socket.IO path (`/socket.io`), with its trailing slash.
    path: String,
    origins: Origins,
    allow_request: Option<AllowRequest>,
    cors: CorsLayer,
    /// Set when shutdown begins: new sessions are refused.
    pub closed: AtomicBool,
    pub refused_origins: AtomicU64,
}

impl Gate {
    pub fn new(path: &str, origins: Origins, allow_request: Option<AllowRequest>) -> Self {
        let allowed = origins.clone();
        let cors = CorsLayer::new()
            .allow_origin(AllowOrigin::predicate(move |origin, head| {
                allowed.allow_origin(origin, head)
            }))
            .allow_credentials(true)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers(AllowHeaders::mirror_request());
        Self {
            path: format!("{}/", path.trim_end_matches('/')),
            origins,
            allow_request,
            cors,
            closed: AtomicBool::new(false),
            refused_origins: AtomicU64::new(0),
        }
    }

    fn guards(&self, path: &str) -> bool {
        path.starts_with(&self.path) || path == self.path.trim_end_matches('/')
    }
}

/// The middleware: see the module's documentation.
pub(crate) async fn gate(State(gate): State<Arc<Gate>>, req: Request, next: Next) -> Response {
    if !gate.guards(req.uri().path()) {
        return next.run(req).await;
    }
    let (head, body) = req.into_parts();
    let opening = request_head::opens(&head);
    if opening && gate.closed.load(Ordering::Relaxed) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is shutting down",
        )
            .into_response();
    }
    if !gate.origins.allow(&head) {
        if gate.refused_origins.fetch_add(1, Ordering::Relaxed) == 0 {
            tracing::warn!(
                origin = ?head.headers.get(header::ORIGIN),
                "refused a request from a page of another origin (logged once; see `allowed_origins`)"
            );
        }
        return (StatusCode::FORBIDDEN, "this origin may not connect").into_response();
    }
    if let (true, Some(hook)) = (opening, &gate.allow_request) {
        if let Err(status) = hook(head.clone()).await {
            return status.into_response();
        }
    }
    let has_origin = head.headers.contains_key(header::ORIGIN);
    let req = Request::from_parts(head, body);
    let req = if opening {
        request_head::detach(req)
    } else {
        req
    };
    if !has_origin {
        return next.run(req).await;
    }
    match gate.cors.layer(next).oneshot(req).await {
        Ok(response) => response.into_response(),
        Err(never) => match never {},
    }
}
