//! The contract as an AsyncAPI 3.0 document: one channel per namespace, one operation
//! per event in each direction (from the server's side: clients' events are `receive`,
//! the server's are `send`), acks as replies, payloads as JSON Schemas.

use serde_json::{Map, Value, json};

use crate::contract::{ClientEvent, Contract, Typed};

/// An id AsyncAPI accepts for channels, messages and operations: `[A-Za-z0-9._-]`.
fn id(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The channel id of a namespace: `root` for `/`, `admin` for `/admin`.
fn channel_id(path: &str) -> String {
    match path.trim_start_matches('/') {
        "" => "root".to_owned(),
        rest => id(rest),
    }
}

/// The payload schema of several types a message must satisfy at once.
fn all_of(types: &[&Typed]) -> Value {
    let schemas: Vec<Value> = types.iter().map(|t| typed(t)).collect();
    match schemas.len() {
        1 => schemas.into_iter().next().expect("one"),
        _ => json!({ "allOf": schemas }),
    }
}

/// A type's schema; `{}` (any value) without one. AsyncAPI wants an object where JSON
/// Schema would take `true`.
fn typed(t: &Typed) -> Value {
    match &t.schema {
        Some(Value::Bool(true)) | None => json!({}),
        Some(schema) => schema.clone(),
    }
}

fn summary(e: &ClientEvent) -> String {
    let owners: Vec<String> = e
        .subscribers
        .iter()
        .map(|s| format!("{} ({})", s.owner, s.source))
        .collect();
    let kinds: Vec<&str> = e.errors.iter().map(|k| k.as_str()).collect();
    format!(
        "Subscribers in dispatch order: {}. Ack errors: {}.",
        owners.join(", "),
        kinds.join(", ")
    )
}

/// The schema of several arguments: an array of them, in order.
fn arguments(items: Vec<Value>) -> Value {
    json!({
        "type": "array",
        "description": "the arguments, in order",
        "items": items,
        "minItems": items.len(),
        "maxItems": items.len(),
    })
}

pub fn render(contract: &Contract) -> Value {
    let mut channels = Map::new();
    let mut operations = Map::new();
    let mut messages = Map::new();
    messages.insert(
        "ackError".into(),
        json!({
            "name": "ackError",
            "title": "An ack answered with an error",
            "payload": { "$ref": "#/components/schemas/AckError" },
        }),
    );
    for ns in &contract.namespaces {
        let ch = channel_id(&ns.path);
        let channel_ref = json!({ "$ref": format!("#/channels/{ch}") });
        let message_ref = |m: &str| json!({ "$ref": format!("#/channels/{ch}/messages/{m}") });
        let mut channel_messages = Map::new();
        let mut add = |mid: String, message: Value, channel_messages: &mut Map<String, Value>| {
            let global = format!("{ch}.{mid}");
            messages.insert(global.clone(), message);
            channel_messages.insert(
                mid,
                json!({ "$ref": format!("#/components/messages/{global}") }),
            );
        };
        channel_messages.insert(
            "ackError".into(),
            json!({ "$ref": "#/components/messages/ackError" }),
        );
        for e in &ns.client_events {
            let mid = format!("client.{}", id(&e.name));
            let payloads = e.payloads();
            let mut message = json!({ "name": e.name, "summary": summary(e) });
            if !payloads.is_empty() || e.payload_unknown() {
                message["payload"] = if payloads.is_empty() {
                    json!({})
                } else {
                    all_of(&payloads)
                };
            }
            let rest = e.rest();
            if !rest.is_empty() {
                // Several arguments: the payload is their list, in order.
                let first = message.get("payload").cloned().unwrap_or_else(|| json!({}));
                let items: Vec<Value> = std::iter::once(first)
                    .chain(rest.iter().map(|types| all_of(types)))
                    .collect();
                message["payload"] = arguments(items);
            }
            add(mid.clone(), message, &mut channel_messages);
            let mut reply_messages = vec![message_ref("ackError")];
            if let Some(ack) = e.ack() {
                let ack_id = format!("{mid}.ack");
                let payload = if e.ack_rest().is_empty() {
                    typed(ack)
                } else {
                    arguments(
                        std::iter::once(typed(ack))
                            .chain(e.ack_rest().iter().map(typed))
                            .collect(),
                    )
                };
                add(
                    ack_id.clone(),
                    json!({ "name": format!("{} ack", e.name), "payload": payload }),
                    &mut channel_messages,
                );
                reply_messages.insert(0, message_ref(&ack_id));
            }
            operations.insert(
                format!("{ch}.{mid}"),
                json!({
                    "action": "receive",
                    "title": format!("A client emits `{}`", e.name),
                    "channel": channel_ref,
                    "messages": [message_ref(&mid)],
                    "reply": { "channel": channel_ref, "messages": reply_messages },
                }),
            );
        }
        for e in &ns.server_events {
            let mid = format!("server.{}", id(&e.name));
            add(
                mid.clone(),
                json!({
                    "name": e.name,
                    "summary": format!("`{}` declared at {}", e.payload.name, e.source),
                    "payload": typed(&e.payload),
                }),
                &mut channel_messages,
            );
            let mut operation = json!({
                "action": "send",
                "title": format!("The server emits `{}`", e.name),
                "channel": channel_ref,
                "messages": [message_ref(&mid)],
            });
            if let Some(answer) = &e.answer {
                let answer_id = format!("{mid}.answer");
                add(
                    answer_id.clone(),
                    json!({ "name": format!("{} answer", e.name), "payload": typed(answer) }),
                    &mut channel_messages,
                );
                operation["reply"] =
                    json!({ "channel": channel_ref, "messages": [message_ref(&answer_id)] });
            }
            operations.insert(format!("{ch}.{mid}"), operation);
        }
        let mut channel = json!({
            "address": ns.path,
            "title": format!("Socket.IO namespace {}", ns.path),
            "messages": channel_messages,
        });
        if let Some(auth) = &ns.auth {
            channel["description"] = json!(format!(
                "Clients connect with an auth payload of type `{}` (schema `{}`).",
                auth.name,
                auth.schema.as_ref().map_or("any".into(), |s| s.to_string())
            ));
        }
        channels.insert(ch, channel);
    }
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": contract.title,
            "version": contract.version,
            "description": format!(
                "The Socket.IO events of the Specter app `{}`, generated from its Rust code. \
                 Every client event may ask for an ack, answered with the reply's value or an `AckError`.",
                contract.title
            ),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": contract.schemas,
        },
    })
}
