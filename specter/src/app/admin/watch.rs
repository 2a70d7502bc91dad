//! The watch of a namespace the UI shows: its sockets connecting and leaving, told to
//! the UI as they happen and counted for its dashboard.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde_json::{Value, json};
use socketioxide::socket::DisconnectReason;

use super::protocol::{Notice, Notices, OWNER};
use super::settings::Reveal;
use super::sockets::{ConnectedAt, epoch_ms, serialize, shown};
use crate::adapter::SocketRef;
use crate::app::events::Events;
use crate::app::handler::Handler;
use crate::subscriber::Source;

/// What the dashboard's connection chart shows (`aggregatedEvents` of `server_stats`):
/// the sockets that connected to and left the shown namespaces, per second and, for
/// those that left, per reason. Taken, and emptied, by each `server_stats`.
#[derive(Default)]
pub(super) struct Aggregated(Mutex<BTreeMap<Counted, u64>>);

/// The second (ms since the epoch), the kind, and the reason of what is counted.
type Counted = (u64, &'static str, Option<&'static str>);

impl Aggregated {
    fn count(&self, kind: &'static str, sub_kind: Option<&'static str>) {
        let second = epoch_ms(SystemTime::now()) / 1000 * 1000;
        let mut counts = self.0.lock().unwrap();
        *counts.entry((second, kind, sub_kind)).or_default() += 1;
    }

    /// The counts since the last call, as the UI reads them.
    pub(super) fn take(&self) -> Vec<Value> {
        let counts = std::mem::take(&mut *self.0.lock().unwrap());
        let shown = counts
            .into_iter()
            .map(|((timestamp, kind, sub_kind), count)| {
                let mut value = json!({ "timestamp": timestamp, "type": kind, "count": count });
                if let Some(sub_kind) = sub_kind {
                    value["subType"] = json!(sub_kind);
                }
                value
            });
        shown.collect()
    }
}

/// Node's socket.io names of why a socket left, which the UI shows.
fn reason_name(reason: DisconnectReason) -> &'static str {
    match reason {
        DisconnectReason::TransportClose => "transport close",
        DisconnectReason::MultipleHttpPollingError => "transport error",
        DisconnectReason::PacketParsingError => "parse error",
        DisconnectReason::TransportError => "transport error",
        DisconnectReason::HeartbeatTimeout => "ping timeout",
        DisconnectReason::ClientNSDisconnect => "client namespace disconnect",
        DisconnectReason::ServerNSDisconnect => "server namespace disconnect",
        DisconnectReason::ClosingServer => "server shutting down",
    }
}

/// Watches a namespace the UI shows: tells the UI of each socket that connects or
/// leaves it.
pub(super) struct AdminWatch {
    name: String,
    namespace: String,
    aggregated: Arc<Aggregated>,
    notices: Arc<Notices>,
    reveal: Reveal,
    /// Live socket events are told in development mode only.
    development: bool,
}

impl AdminWatch {
    pub(super) fn new(
        namespace: &str,
        reveal: Reveal,
        development: bool,
        aggregated: Arc<Aggregated>,
        notices: Arc<Notices>,
    ) -> Self {
        Self {
            name: format!("{OWNER} watch {namespace}"),
            namespace: namespace.to_owned(),
            reveal,
            development,
            aggregated,
            notices,
        }
    }

    /// Runs after every other `connect` subscriber: the socket is in.
    fn connected(&self, socket: SocketRef) {
        socket.extensions.insert(ConnectedAt(SystemTime::now()));
        self.aggregated.count("rawConnection", None);
        if self.development {
            let here = serialize(&socket, &self.namespace, self.reveal);
            let rooms = socket.rooms().iter().map(|r| r.to_string()).collect();
            let elsewhere = shown(&socket.id.to_string(), &self.namespace, rooms);
            self.notices.send(Notice::Connected { here, elsewhere });
        }
    }

    fn disconnected(&self, socket: SocketRef, reason: DisconnectReason) {
        let reason = reason_name(reason);
        self.aggregated.count("rawDisconnection", Some(reason));
        if self.development {
            let (nsp, id) = (self.namespace.clone(), socket.id.to_string());
            self.notices.send(Notice::Disconnected(nsp, id, reason));
        }
    }
}

impl Handler for AdminWatch {
    fn name(&self) -> &str {
        &self.name
    }

    fn namespace(&self) -> &str {
        &self.namespace
    }

    fn source(&self) -> Source {
        Source {
            file: file!(),
            line: line!(),
        }
    }

    fn build_events(&self, events: &mut Events<Self>) {
        events.on("connect", Self::connected).priority(i32::MAX);
        events.on("disconnect", Self::disconnected);
    }
}
