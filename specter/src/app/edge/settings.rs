//! The bounds of the edge and their defaults: each has a builder method on
//! [`ServiceManagerBuilder`](crate::ServiceManagerBuilder) and a line in the table of bounds,
//! [`guide::bounds`](crate::guide::bounds).

use std::time::Duration;

/// The largest message a client may send, in bytes, over either transport, by default
/// (node's `maxHttpBufferSize`).
pub const DEFAULT_MAX_PAYLOAD: u64 = 1_000_000;

/// How long an engine.io session may stay without joining a namespace, by default
/// (node's `connectTimeout` is 45 s).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a connection may take to send a request's head, by default, counted from
/// when it is ready for one: from the accept, and between requests of a connection that
/// does not upgrade (node's `headersTimeout` is 60 s).
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest request head (request line and headers) a client may send, by default
/// (node's `maxHeaderSize`).
pub const DEFAULT_MAX_HEADER_BYTES: usize = 16 * 1024;

/// How many TCP connections the server holds at once, by default.
pub const DEFAULT_MAX_CONNECTIONS: usize = 50_000;

/// How many TCP connections one client address may hold at once, by default. Behind a
/// reverse proxy every client has the proxy's address: raise it there.
pub const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS: usize = 1_000;

/// How long a write to a client's connection may make no progress, by default, before
/// it fails and the client, who stopped reading, is disconnected by its heartbeat.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a graceful shutdown may take, every phase together, by default.
pub const DEFAULT_SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);

/// The HTTP bounds `serve` applies to every connection it accepts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EdgeLimits {
    pub header_read_timeout: Duration,
    pub max_header_bytes: usize,
    pub max_connections: usize,
    pub max_connections_per_address: usize,
    pub shutdown_deadline: Duration,
    pub write_timeout: Duration,
}

impl Default for EdgeLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_address: DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
            shutdown_deadline: DEFAULT_SHUTDOWN_DEADLINE,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
        }
    }
}
