//! The lint of a contract: what the code cannot promise clients, each finding naming
//! the subscribers and where they are declared. Run it in a test:
//! `assert!(Contract::of(&app, "chat").lint().iter().all(|f| f.severity != Severity::Error))`.

use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::contract::schema::{json_types, resolve};
use crate::contract::{Contract, SubscriberContract, Typed};
use crate::ingress::EventRow;
use crate::ingress::settings::DispatchSettings;
use crate::subscriber::{ErrorKind, Source};

/// How bad a [`Finding`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The contract is wrong: no message can satisfy it.
    Error,
    /// The contract is vague: a message or an answer is not described.
    Warning,
}

/// One thing the contract cannot promise.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// How bad it is.
    pub severity: Severity,
    /// The namespace.
    pub namespace: String,
    /// The event.
    pub event: String,
    /// What is wrong.
    pub message: String,
    /// The subscribers (or server event types) concerned, with where they are.
    pub sources: Vec<(String, Source)>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{level}: {} {:?}: {}",
            self.namespace, self.event, self.message
        )?;
        for (who, at) in &self.sources {
            write!(f, "\n  {who} at {at}")?;
        }
        Ok(())
    }
}

/// The ack error kinds an event with these subscribers can answer.
pub(super) fn error_kinds(
    row: &EventRow,
    subscribers: &[SubscriberContract],
    policy: &DispatchSettings,
) -> Vec<ErrorKind> {
    let mut kinds = vec![ErrorKind::Panicked, ErrorKind::Overloaded];
    let mut add = |yes: bool, kind| {
        if yes && !kinds.contains(&kind) {
            kinds.push(kind);
        }
    };
    let subs = &row.subscribers;
    add(
        subscribers
            .iter()
            .any(|s| !s.payloads.is_empty() || !s.described),
        ErrorKind::InvalidPayload,
    );
    add(
        subscribers.iter().any(|s| !s.described),
        ErrorKind::Returned,
    );
    add(
        subscribers.iter().any(|s| !s.described),
        ErrorKind::Rejected,
    );
    add(subs.iter().any(|s| s.guards > 0), ErrorKind::Forbidden);
    add(
        subs.iter().any(|s| s.timeout_ms.is_some()) || policy.subscriber_timeout.is_some(),
        ErrorKind::Timeout,
    );
    add(
        subs.iter().any(|s| s.rate.is_some())
            || policy.socket_rate.is_some()
            || policy.event_rate.is_some(),
        ErrorKind::RateLimited,
    );
    kinds
}

fn at(s: &SubscriberContract) -> (String, Source) {
    (s.owner.clone(), s.source)
}

/// Whether two payload schemas can accept one message: the JSON types they accept
/// overlap, and for objects, every property both name does.
fn compatible(a: &Value, b: &Value, defs: &Map<String, Value>) -> bool {
    let (Some(ta), Some(tb)) = (json_types(a, defs), json_types(b, defs)) else {
        return true;
    };
    if !ta.iter().any(|t| tb.contains(t)) {
        return false;
    }
    let (ra, rb) = (resolve(a, defs), resolve(b, defs));
    if let (Some(pa), Some(pb)) = (
        ra.get("properties").and_then(Value::as_object),
        rb.get("properties").and_then(Value::as_object),
    ) {
        for (name, sa) in pa {
            if let Some(sb) = pb.get(name) {
                if !compatible(sa, sb, defs) {
                    return false;
                }
            }
        }
    }
    true
}

pub(super) fn lint(contract: &Contract) -> Vec<Finding> {
    let defs = &contract.schemas;
    let mut out = Vec::new();
    for ns in &contract.namespaces {
        let finding = |severity, event: &str, message: String, sources| Finding {
            severity,
            namespace: ns.path.clone(),
            event: event.to_owned(),
            message,
            sources,
        };
        for e in &ns.client_events {
            // Payloads that no one message can satisfy.
            let with: Vec<(&SubscriberContract, &Typed)> = e
                .subscribers
                .iter()
                .flat_map(|s| s.payloads.iter().map(move |p| (s, p)))
                .collect();
            'pairs: for (i, (sa, pa)) in with.iter().enumerate() {
                for (sb, pb) in &with[i + 1..] {
                    if let (Some(a), Some(b)) = (&pa.schema, &pb.schema) {
                        if !compatible(a, b, defs) {
                            out.push(finding(
                                Severity::Error,
                                &e.name,
                                format!(
                                    "no payload satisfies both `{}` ({}) and `{}` ({})",
                                    pa.name, sa.owner, pb.name, sb.owner
                                ),
                                vec![at(sa), at(sb)],
                            ));
                            break 'pairs;
                        }
                    }
                }
            }
            // Two answers: the last one wins.
            let answering: Vec<&SubscriberContract> =
                e.subscribers.iter().filter(|s| s.ack.is_some()).collect();
            if answering.len() > 1 {
                out.push(finding(
                    Severity::Warning,
                    &e.name,
                    format!(
                        "{} subscribers answer the ack; the last one's value wins ({})",
                        answering.len(),
                        answering.last().expect("two or more").owner
                    ),
                    answering.iter().map(|s| at(s)).collect(),
                ));
            }
            for s in &e.subscribers {
                if !s.described {
                    out.push(finding(
                        Severity::Warning,
                        &e.name,
                        format!(
                            "the signature of `{}`'s subscriber is not recorded (a closure, or a method outside `#[handler]` / `#[specter::describe]`): its payload and ack are any",
                            s.owner
                        ),
                        vec![at(s)],
                    ));
                }
                for t in s
                    .payloads
                    .iter()
                    .chain(&s.ack)
                    .filter(|t| t.schema.is_none())
                {
                    out.push(finding(
                        Severity::Warning,
                        &e.name,
                        format!(
                            "`{}` has no JSON Schema (derive `schemars::JsonSchema`): it is any",
                            t.name
                        ),
                        vec![at(s)],
                    ));
                }
            }
        }
        for e in &ns.server_events {
            if e.payload.schema.is_none() {
                out.push(finding(
                    Severity::Warning,
                    &e.name,
                    format!(
                        "server event `{}` has no JSON Schema (derive `schemars::JsonSchema`): it is any",
                        e.payload.name
                    ),
                    vec![(e.payload.name.clone(), e.source)],
                ));
            }
        }
    }
    out
}
