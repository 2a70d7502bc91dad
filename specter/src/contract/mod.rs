//! The event contract (feature `contract`): what clients may send and receive, read
//! from the code rather than declared a second time.
//!
//! [`Contract::of`] reads a booted app: every subscription of its event table (found
//! through whatever API bound it), the signature the macros recorded for it (the
//! payload types its extractors read, the type it answers with), every
//! `#[derive(ServerEvent)]` type, and JSON Schemas of them all from `schemars`. From
//! that it writes TypeScript event maps ([`typescript`](Contract::typescript)) for
//! socket.io-client, an AsyncAPI 3.0 document ([`asyncapi`](Contract::asyncapi)), and a
//! [`lint`](Contract::lint) of what the code cannot promise.

mod asyncapi;
mod lint;
mod schema;
mod typescript;

use std::path::Path;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::app::manager::ServiceManager;
use crate::ingress::EventRow;
use crate::subscriber::node_event::node_events;
use crate::subscriber::server_event::server_events;
use crate::subscriber::signature::{TypeInfo, described};
use crate::subscriber::{AckErrorWire, ErrorKind, Source};

pub use lint::{Finding, Severity};

/// The contract of an app: per namespace, the events clients may send (with their
/// subscribers, payload and ack) and the events the server emits.
#[derive(Debug, Clone, Serialize)]
pub struct Contract {
    /// The app's title (in the AsyncAPI document and the TypeScript header).
    pub title: String,
    /// The app's version (in the AsyncAPI document).
    pub version: String,
    /// Every namespace with subscribers, `/` first.
    pub namespaces: Vec<NamespaceContract>,
    /// What the app's nodes tell each other ([`NodeEvent`](crate::NodeEvent)s), by name:
    /// part of the catalogue, never of the clients' TypeScript or AsyncAPI.
    pub node_events: Vec<NodeEventContract>,
    /// The JSON Schemas the others refer to (`#/components/schemas/Name`).
    pub schemas: Map<String, Value>,
}

/// One namespace of a [`Contract`].
#[derive(Debug, Clone, Serialize)]
pub struct NamespaceContract {
    /// The namespace's path.
    pub path: String,
    /// The auth payload `connect` subscribers read, when one does.
    pub auth: Option<Typed>,
    /// Events clients may emit, by name.
    pub client_events: Vec<ClientEvent>,
    /// Events the server emits, by name.
    pub server_events: Vec<ServerEventContract>,
}

/// A type of the contract and its schema (`None`: no schema, any value).
#[derive(Debug, Clone, Serialize)]
pub struct Typed {
    /// The type as written in Rust.
    pub name: String,
    /// Its JSON Schema, or a `$ref` to one of [`Contract::schemas`].
    pub schema: Option<Value>,
}

/// An event clients may emit.
#[derive(Debug, Clone, Serialize)]
pub struct ClientEvent {
    /// Its name.
    pub name: String,
    /// Its subscribers, in dispatch order.
    pub subscribers: Vec<SubscriberContract>,
    /// The ack error kinds it can answer.
    pub errors: Vec<ErrorKind>,
}

/// A subscriber of a [`ClientEvent`].
#[derive(Debug, Clone, Serialize)]
pub struct SubscriberContract {
    /// Its owner (handler, controller, or the name given to `subscribe`).
    pub owner: String,
    /// Where it was declared.
    pub source: Source,
    /// Whether its signature was recorded (`#[handler]`, `#[specter::describe]`); a
    /// closure's is not, and the contract then knows nothing of its messages.
    pub described: bool,
    /// The payload types its extractors read as the first argument.
    pub payloads: Vec<Typed>,
    /// The arguments after the first that it reads (`Data<(A, B)>`: `B`).
    pub rest: Vec<Typed>,
    /// The type of the value it answers with, when it answers with one.
    pub ack: Option<Typed>,
    /// The answer's arguments after the first (`Spread<(A, B)>`: `B`).
    pub ack_rest: Vec<Typed>,
}

/// An event one node tells the others.
#[derive(Debug, Clone, Serialize)]
pub struct NodeEventContract {
    /// Its name.
    pub name: String,
    /// Its payload.
    pub payload: Typed,
    /// Where its type is declared.
    pub source: Source,
}

/// An event the server emits.
#[derive(Debug, Clone, Serialize)]
pub struct ServerEventContract {
    /// Its name.
    pub name: String,
    /// Its payload.
    pub payload: Typed,
    /// The client's answer, for an event the server asks (`answer = T`).
    pub answer: Option<Typed>,
    /// Where its type is declared.
    pub source: Source,
}

impl ClientEvent {
    /// The payloads every described subscriber reads, without repeats: a message must
    /// satisfy them all.
    pub fn payloads(&self) -> Vec<&Typed> {
        let mut out: Vec<&Typed> = Vec::new();
        for t in self.subscribers.iter().flat_map(|s| &s.payloads) {
            if !out.iter().any(|o| o.schema == t.schema && o.name == t.name) {
                out.push(t);
            }
        }
        out
    }

    /// The arguments after the first, by position: each the types the subscribers
    /// that read it want (a message must satisfy them all).
    pub fn rest(&self) -> Vec<Vec<&Typed>> {
        let mut out: Vec<Vec<&Typed>> = Vec::new();
        for s in &self.subscribers {
            for (i, t) in s.rest.iter().enumerate() {
                if out.len() <= i {
                    out.push(Vec::new());
                }
                if !out[i]
                    .iter()
                    .any(|o| o.schema == t.schema && o.name == t.name)
                {
                    out[i].push(t);
                }
            }
        }
        out
    }

    /// The answer's arguments after the first, of the subscriber that answers.
    pub fn ack_rest(&self) -> &[Typed] {
        self.subscribers
            .iter()
            .rev()
            .find(|s| s.ack.is_some())
            .map_or(&[], |s| &s.ack_rest)
    }

    /// Whether the event's payload is unknown: a subscriber has no recorded signature
    /// and none of the described ones reads a payload.
    pub fn payload_unknown(&self) -> bool {
        self.payloads().is_empty() && self.subscribers.iter().any(|s| !s.described)
    }

    /// The type the ack answers with: the last subscriber's that answers with one (the
    /// ack rule: the last value wins).
    pub fn ack(&self) -> Option<&Typed> {
        self.subscribers.iter().rev().find_map(|s| s.ack.as_ref())
    }
}

/// A row only the Admin UI's handlers subscribe to: the UI speaks a protocol of its
/// own, not the app's.
#[cfg(feature = "admin")]
fn admin_ui_only(row: &EventRow) -> bool {
    let owner = crate::app::admin::OWNER;
    row.subscribers.iter().all(|s| s.owner == owner)
}

#[cfg(not(feature = "admin"))]
fn admin_ui_only(_: &EventRow) -> bool {
    false
}

impl Contract {
    /// The contract of `app`, which must be booted (its event table is filled at boot).
    pub fn of(app: &ServiceManager, title: &str, version: &str) -> Self {
        let mut generator = schema::generator();
        let mut schema_of = |t: &TypeInfo| Typed {
            name: t.name.to_owned(),
            schema: t.schema.map(|f| f(&mut generator).to_value()),
        };
        let mut rows = app.event_table();
        rows.retain(|row| !admin_ui_only(row));
        let mut paths: Vec<String> = rows.iter().map(|r| r.namespace.clone()).collect();
        paths.sort_by_key(|p| (p != "/", p.clone()));
        paths.dedup();
        if paths.is_empty() {
            paths.push("/".to_owned());
        }
        let policy = *app.ingress().settings();
        let mut namespaces = Vec::new();
        for path in paths {
            let mut ns = NamespaceContract {
                path: path.clone(),
                auth: None,
                client_events: Vec::new(),
                server_events: Vec::new(),
            };
            for row in rows.iter().filter(|r| r.namespace == path) {
                let subscribers: Vec<SubscriberContract> = row
                    .subscribers
                    .iter()
                    .map(|s| {
                        let signature = described(s.callable);
                        let sig = signature.clone().unwrap_or_default();
                        SubscriberContract {
                            owner: s.owner.clone(),
                            source: s.source,
                            described: signature.is_some(),
                            payloads: sig.payloads.iter().map(&mut schema_of).collect(),
                            rest: sig.rest.iter().map(&mut schema_of).collect(),
                            ack: sig.ack.as_ref().map(&mut schema_of),
                            ack_rest: sig.ack_rest.iter().map(&mut schema_of).collect(),
                        }
                    })
                    .collect();
                match row.event.as_str() {
                    "connect" => {
                        ns.auth = subscribers.iter().find_map(|s| s.payloads.first().cloned());
                    }
                    "disconnect" | crate::event_name::CONNECTED | "*" => {}
                    event => {
                        let errors = lint::error_kinds(row, &subscribers, &policy);
                        ns.client_events.push(ClientEvent {
                            name: event.to_owned(),
                            subscribers,
                            errors,
                        });
                    }
                }
            }
            for info in server_events() {
                if info.namespaces.is_empty() || info.namespaces.contains(&path.as_str()) {
                    ns.server_events.push(ServerEventContract {
                        name: info.name.to_owned(),
                        payload: schema_of(&(info.describe)()),
                        answer: info.answer.map(|answer| schema_of(&answer())),
                        source: info.source,
                    });
                }
            }
            ns.server_events.sort_by(|a, b| a.name.cmp(&b.name));
            ns.server_events.dedup_by(|a, b| a.name == b.name);
            namespaces.push(ns);
        }
        let mut node_events: Vec<NodeEventContract> = node_events()
            .map(|info| NodeEventContract {
                name: info.name.to_owned(),
                payload: schema_of(&(info.describe)()),
                source: info.source,
            })
            .collect();
        node_events.sort_by(|a, b| a.name.cmp(&b.name));
        node_events.dedup_by(|a, b| a.name == b.name);
        generator.subschema_for::<AckErrorWire>();
        let schemas = generator.take_definitions(true);
        Self {
            title: title.to_owned(),
            version: version.to_owned(),
            namespaces,
            node_events,
            schemas,
        }
    }

    /// The TypeScript event maps, one `.d.ts` for the app: for each namespace
    /// `ServerToClientEvents` and `ClientToServerEvents` (prefixed with the namespace's
    /// name, `AdminServerToClientEvents`, but for `/`), in the form socket.io-client's
    /// `Socket<ListenEvents, EmitEvents>` takes, and the payload types as interfaces.
    pub fn typescript(&self) -> String {
        typescript::render(self)
    }

    /// The AsyncAPI 3.0 document: one channel per namespace, one operation per event in
    /// each direction, acks as replies, payloads as schemas.
    pub fn asyncapi(&self) -> Value {
        asyncapi::render(self)
    }

    /// What the contract cannot promise: incompatible payloads of one event, two
    /// subscribers answering one ack, messages without schemas. Each finding names the
    /// subscribers and where they are declared.
    pub fn lint(&self) -> Vec<Finding> {
        lint::lint(self)
    }

    /// Writes `socket-events.d.ts` and `asyncapi.json` into `dir` (created if missing).
    pub fn write(&self, dir: impl AsRef<Path>) -> std::io::Result<()> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("socket-events.d.ts"), self.typescript())?;
        let mut json = serde_json::to_string_pretty(&self.asyncapi())?;
        json.push('\n');
        std::fs::write(dir.join("asyncapi.json"), json)
    }
}
