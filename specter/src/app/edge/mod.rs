//! Everything between a TCP accept and socketioxide: the connection caps, TCP_NODELAY,
//! the header read timeout and size, the write timeout (`accept`, `caps`, `stream`); the
//! gate on the Socket.IO path: origins, CORS, the `allow_request` hook, refusals once
//! shutdown began (`gate`, `origin`); the request head detached from hyper's buffer
//! (`request_head`); and the bounds' defaults (`settings`).

pub(crate) mod accept;
pub(crate) mod caps;
pub(crate) mod gate;
pub(crate) mod origin;
pub(crate) mod request_head;
pub mod settings;
pub(crate) mod stream;

/// What the edge refused, since the app was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct EdgeStats {
    /// TCP connections answered 503 for being over a connection cap.
    pub refused_connections: u64,
    /// Socket.IO requests answered 403 for coming from a page of an origin not allowed.
    pub refused_origins: u64,
    /// TCP connections open now (those `serve` accepted).
    pub open_connections: usize,
}
