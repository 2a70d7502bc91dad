//! What a client is told of a payload that does not deserialize: the path of the field
//! and a short reason (`name: missing`, `text: expected a string`), with no Rust type
//! name, module path or serde line and column. The server's log keeps serde's own text.
//!
//! Only failures pay: the payload is decoded again, as JSON, with the field path tracked
//! (serde_path_to_error), after socketioxide's decode failed.

use serde::de::DeserializeOwned;
use serde_json::Value as Json;
use socketioxide::handler::Value;
use socketioxide_core::parser::is_de_tuple;

use crate::subscriber::ack_error::FieldError;

/// The invalid field of a payload that did not deserialize into `T`, as the client is
/// told: `args` are the event's arguments (or the auth payload) as JSON. `None` when
/// decoding them again as JSON succeeds (binary attachments decode differently).
pub(crate) fn describe<T: DeserializeOwned>(args: &[Json]) -> Option<FieldError> {
    // socketioxide decodes a tuple from every argument and anything else from the first.
    let json = if is_de_tuple::<T>() {
        Json::Array(args.to_vec())
    } else {
        args.first().cloned().unwrap_or(Json::Null)
    };
    let e = serde_path_to_error::deserialize::<_, T>(json).err()?;
    let path = match e.path().to_string().as_str() {
        "." => String::new(),
        p => p.to_owned(),
    };
    Some(field_error(path, &e.into_inner().to_string()))
}

/// The arguments of an emitted event (`["name", args...]`), or the auth payload.
pub(crate) fn arguments(payload: &Value, with_event: bool) -> Vec<Json> {
    let Value::Str(text, _) = payload else {
        return Vec::new();
    };
    match serde_json::from_str::<Json>(text) {
        Ok(Json::Array(mut args)) if with_event => {
            if !args.is_empty() {
                args.remove(0);
            }
            args
        }
        Ok(json) if !with_event => vec![json],
        _ => Vec::new(),
    }
}

/// `path` and serde's message, as the client reads them.
fn field_error(mut path: String, serde: &str) -> FieldError {
    let (field, message) = reason(serde);
    if let Some(field) = field {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(&field);
    }
    FieldError { path, message }
}

/// serde's message as a short reason; a field it names (`missing field `name``) moves to
/// the path.
fn reason(serde: &str) -> (Option<String>, String) {
    if let Some(field) = quoted_after(serde, "missing field `") {
        return (Some(field), "missing".to_owned());
    }
    if let Some(field) = quoted_after(serde, "unknown field `") {
        return (Some(field), "unknown field".to_owned());
    }
    if serde.starts_with("unknown variant `") {
        return (None, "unknown variant".to_owned());
    }
    for prefix in ["invalid type: ", "invalid value: ", "invalid length "] {
        if serde.starts_with(prefix) {
            if let Some((_, expected)) = serde.split_once(", expected ") {
                return (None, format!("expected {}", expected_shape(expected)));
            }
        }
    }
    if serde.starts_with("data did not match any variant") {
        return (None, "does not match any expected form".to_owned());
    }
    // A message of the app's own deserializer (`try_from`, a custom impl): its text,
    // bounded, with any type name serde added taken out.
    let mut text: String = serde.chars().take(200).collect();
    for word in ["struct ", "enum ", "tuple struct "] {
        if let Some(at) = text.find(word) {
            text.truncate(at);
            text.push_str("the expected form");
        }
    }
    (None, text.trim().to_owned())
}

/// serde's `expected ...` without the Rust type it names.
fn expected_shape(expected: &str) -> String {
    let e = expected.trim();
    let word = e.split_whitespace().next().unwrap_or("");
    let shape = match word {
        "struct" => "an object",
        "tuple" => "an array",
        "enum" | "internally" | "adjacently" | "variant" => "one of the expected variants",
        "a" if e == "a sequence" => "an array",
        "a" if e == "a map" => "an object",
        "option" => "a value or null",
        "unit" => "null",
        "u8" => "an integer from 0 to 255",
        "u16" => "an integer from 0 to 65535",
        "u32" => "an integer from 0 to 4294967295",
        "u64" | "u128" | "usize" => "a non-negative integer",
        "i8" => "an integer from -128 to 127",
        "i16" => "an integer from -32768 to 32767",
        "i32" => "an integer from -2147483648 to 2147483647",
        "i64" | "i128" | "isize" => "an integer",
        "f32" | "f64" => "a number",
        _ if word.chars().next().is_some_and(char::is_uppercase) => "the expected form",
        _ => return e.chars().take(100).collect(),
    };
    shape.to_owned()
}

fn quoted_after(text: &str, prefix: &str) -> Option<String> {
    let rest = text.strip_prefix(prefix)?;
    Some(rest.split('`').next()?.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct JoinAuth {
        name: String,
    }

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Order {
        items: Vec<Item>,
    }

    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Item {
        count: u8,
    }

    fn told<T: DeserializeOwned>(args: Json) -> String {
        let e = describe::<T>(args.as_array().unwrap()).expect("fails");
        match e.path.as_str() {
            "" => e.message,
            path => format!("{path}: {}", e.message),
        }
    }

    #[test]
    fn a_missing_or_mistyped_field_is_named_by_its_path_with_a_short_reason() {
        assert_eq!(told::<JoinAuth>(json!([{"nom": 5}])), "name: missing");
        assert_eq!(
            told::<JoinAuth>(json!([{"name": 5}])),
            "name: expected a string"
        );
        assert_eq!(
            told::<Order>(json!([{"items": [{"count": 1}, {"count": 300}]}])),
            "items[1].count: expected an integer from 0 to 255"
        );
    }

    #[test]
    fn no_rust_type_name_reaches_the_client() {
        assert_eq!(told::<JoinAuth>(json!(["ann"])), "expected an object");
        assert_eq!(
            told::<u64>(json!(["seven"])),
            "expected a non-negative integer"
        );
        assert_eq!(
            told::<(u8, String)>(json!([1, 2])),
            "[1]: expected a string"
        );
    }

    #[test]
    fn arguments_skip_the_event_name() {
        let payload = Value::Str(r#"["message",{"a":1},2]"#.into(), None);
        assert_eq!(arguments(&payload, true), [json!({"a": 1}), json!(2)]);
        let auth = Value::Str(r#"{"name":"ann"}"#.into(), None);
        assert_eq!(arguments(&auth, false), [json!({"name": "ann"})]);
    }
}
