//! The contract as TypeScript: the schemas as interfaces and types, and per namespace
//! the two event maps socket.io-client's `Socket<ListenEvents, EmitEvents>` takes.

use std::fmt::Write;

use serde_json::{Map, Value};

use crate::contract::schema::ref_name;
use crate::contract::{ClientEvent, Contract, NamespaceContract, Typed};

/// The whole `.d.ts`.
pub fn render(contract: &Contract) -> String {
    let mut out = format!(
        "// The events of the Specter app `{}`, generated from its Rust code by its\n\
         // `contract` command. Do not edit: regenerate.\n\
         // Use: `io(url) as Socket<ServerToClientEvents, ClientToServerEvents>` (socket.io-client).\n",
        contract.title
    );
    let defs = &contract.schemas;
    for (name, schema) in defs {
        out.push('\n');
        out.push_str(&definition(name, schema, defs));
    }
    for ns in &contract.namespaces {
        out.push('\n');
        out.push_str(&namespace(ns, defs));
    }
    out
}

/// `export interface Name {..}` for an object with properties, else `export type`.
fn definition(name: &str, schema: &Value, defs: &Map<String, Value>) -> String {
    let mut out = doc(schema, "");
    let name = ident(name);
    let is_interface = schema.get("type").and_then(Value::as_str) == Some("object")
        && schema.get("properties").is_some();
    if is_interface {
        let _ = writeln!(
            out,
            "export interface {name} {}",
            object_body(schema, defs, "")
        );
    } else {
        let _ = writeln!(out, "export type {name} = {};", ts(schema, defs));
    }
    out
}

/// A `/** .. */` comment from the schema's description, if any.
fn doc(schema: &Value, indent: &str) -> String {
    match schema.get("description").and_then(Value::as_str) {
        Some(text) => {
            // The first paragraph: the rest of a Rust doc comment is for Rust readers.
            let first = text.split("\n\n").next().unwrap_or(text);
            let text = first.replace("*/", "* /").replace('\n', " ");
            format!("{indent}/** {text} */\n")
        }
        None => String::new(),
    }
}

/// A definition's name as a TypeScript identifier.
fn ident(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A property or event name, quoted when it is not an identifier.
fn key(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '$');
    if plain {
        name.to_owned()
    } else {
        serde_json::to_string(name).expect("a string")
    }
}

/// `{ a: T; b?: U }` over several lines, indented by `indent`.
fn object_body(schema: &Value, defs: &Map<String, Value>, indent: &str) -> String {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out = String::from("{\n");
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (name, prop) in props {
            out.push_str(&doc(prop, &format!("{indent}  ")));
            let optional = if required.contains(&name.as_str()) {
                ""
            } else {
                "?"
            };
            let _ = writeln!(
                out,
                "{indent}  {}{optional}: {};",
                key(name),
                ts_indented(prop, defs, &format!("{indent}  "))
            );
        }
    }
    if let Some(extra) = schema.get("additionalProperties").filter(|v| v.is_object()) {
        let _ = writeln!(out, "{indent}  [key: string]: {};", ts(extra, defs));
    }
    out.push_str(indent);
    out.push('}');
    out
}

/// The TypeScript type of a schema.
pub fn ts(schema: &Value, defs: &Map<String, Value>) -> String {
    ts_indented(schema, defs, "")
}

fn ts_indented(schema: &Value, defs: &Map<String, Value>, indent: &str) -> String {
    let obj = match schema {
        Value::Bool(true) => return "unknown".into(),
        Value::Bool(false) => return "never".into(),
        Value::Object(obj) => obj,
        _ => return "unknown".into(),
    };
    if let Some(name) = ref_name(schema) {
        return ident(name);
    }
    if obj.contains_key("$ref") {
        // A reference outside the definitions: nothing to name it by.
        return "unknown".into();
    }
    if let Some(c) = obj.get("const") {
        return literal(c);
    }
    if let Some(values) = obj.get("enum").and_then(Value::as_array) {
        return values.iter().map(literal).collect::<Vec<_>>().join(" | ");
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(list) = obj.get(key).and_then(Value::as_array) {
            return union(list.iter().map(|s| ts_indented(s, defs, indent)));
        }
    }
    if let Some(list) = obj.get("allOf").and_then(Value::as_array) {
        return list
            .iter()
            .map(|s| paren(ts_indented(s, defs, indent)))
            .collect::<Vec<_>>()
            .join(" & ");
    }
    match obj.get("type") {
        Some(Value::String(t)) => one(t, schema, defs, indent),
        Some(Value::Array(types)) => union(
            types
                .iter()
                .filter_map(Value::as_str)
                .map(|t| one(t, schema, defs, indent)),
        ),
        _ if obj.contains_key("properties") => object_body(schema, defs, indent),
        _ => "unknown".into(),
    }
}

fn one(t: &str, schema: &Value, defs: &Map<String, Value>, indent: &str) -> String {
    match t {
        "string" => "string".into(),
        "integer" | "number" => "number".into(),
        "boolean" => "boolean".into(),
        "null" => "null".into(),
        "array" => {
            if let Some(items) = schema.get("prefixItems").and_then(Value::as_array) {
                let items: Vec<String> =
                    items.iter().map(|s| ts_indented(s, defs, indent)).collect();
                format!("[{}]", items.join(", "))
            } else {
                match schema.get("items") {
                    Some(items) => format!("{}[]", paren(ts_indented(items, defs, indent))),
                    None => "unknown[]".into(),
                }
            }
        }
        "object" => {
            if schema.get("properties").is_some() {
                object_body(schema, defs, indent)
            } else {
                match schema.get("additionalProperties") {
                    Some(extra) if extra.is_object() => {
                        format!("{{ [key: string]: {} }}", ts_indented(extra, defs, indent))
                    }
                    _ => "{ [key: string]: unknown }".into(),
                }
            }
        }
        _ => "unknown".into(),
    }
}

/// `A | B` without repeats.
fn union(parts: impl Iterator<Item = String>) -> String {
    let mut seen: Vec<String> = Vec::new();
    for p in parts {
        if !seen.contains(&p) {
            seen.push(p);
        }
    }
    seen.join(" | ")
}

/// `(A | B)` where precedence needs it.
fn paren(t: String) -> String {
    if t.contains(" | ") || t.contains(" & ") {
        format!("({t})")
    } else {
        t
    }
}

fn literal(v: &Value) -> String {
    serde_json::to_string(v).expect("a JSON value")
}

/// The TypeScript type of a contract type: its schema's, or `unknown` without one.
fn typed(t: &Typed, defs: &Map<String, Value>) -> String {
    t.schema.as_ref().map_or("unknown".into(), |s| ts(s, defs))
}

/// `Admin` for `/admin`, empty for `/`.
fn prefix(path: &str) -> String {
    path.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

fn namespace(ns: &NamespaceContract, defs: &Map<String, Value>) -> String {
    let p = prefix(&ns.path);
    let mut out = String::new();
    if let Some(auth) = &ns.auth {
        let _ = writeln!(
            out,
            "/** The auth payload of `connect` on `{}`. */\nexport type {p}Auth = {};\n",
            ns.path,
            typed(auth, defs)
        );
    }
    let _ = writeln!(
        out,
        "/** Events the server emits on `{}`. */\nexport interface {p}ServerToClientEvents {{",
        ns.path
    );
    for e in &ns.server_events {
        let callback = match &e.answer {
            Some(answer) => format!(", callback: (answer: {}) => void", typed(answer, defs)),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "  {}: (payload: {}{callback}) => void;",
            key(&e.name),
            typed(&e.payload, defs)
        );
    }
    out.push_str("}\n\n");
    let _ = writeln!(
        out,
        "/** Events clients may emit on `{}`, with their acks. */\nexport interface {p}ClientToServerEvents {{",
        ns.path
    );
    for e in &ns.client_events {
        let _ = writeln!(out, "  {}: {};", key(&e.name), client_event(e, defs));
    }
    out.push_str("}\n");
    out
}

/// `(payload: T, arg2: U, ack?: (answer: A | AckError, arg2?: B) => void) => void`:
/// positional arguments after the payload (`Data<(T, U)>`) and answers of several
/// arguments (`Spread<(A, B)>`) get `argN`, N their place.
fn client_event(e: &ClientEvent, defs: &Map<String, Value>) -> String {
    let all = |types: &[&Typed]| {
        let types: Vec<String> = types.iter().map(|t| paren(typed(t, defs))).collect();
        types.join(" & ")
    };
    let payloads = e.payloads();
    let mut params = Vec::new();
    if e.payload_unknown() {
        params.push("payload?: unknown".to_owned());
    } else if !payloads.is_empty() {
        params.push(format!("payload: {}", all(&payloads)));
    }
    for (i, types) in e.rest().iter().enumerate() {
        if params.is_empty() {
            params.push("payload: unknown".to_owned());
        }
        params.push(format!("arg{}: {}", i + 2, all(types)));
    }
    let answer = match e.ack().map(|t| typed(t, defs)) {
        Some(t) if t == "unknown" => t,
        Some(t) => format!("{} | AckError", paren(t)),
        None if e.subscribers.iter().any(|s| !s.described) => "unknown".to_owned(),
        None => "AckError | undefined".to_owned(),
    };
    let mut answers = vec![format!("answer: {answer}")];
    for (i, t) in e.ack_rest().iter().enumerate() {
        // An error answer is one argument: the others may be missing.
        answers.push(format!("arg{}?: {}", i + 2, typed(t, defs)));
    }
    params.push(format!("ack?: ({}) => void", answers.join(", ")));
    format!("({}) => void", params.join(", "))
}
