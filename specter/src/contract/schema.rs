//! The JSON Schemas of the contract: one `schemars` generator for the whole app, whose
//! definitions live where AsyncAPI keeps them (`#/components/schemas/Name`), and the
//! questions the TypeScript writer and the lint ask of a schema.

use schemars::SchemaGenerator;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value};

/// Where definitions live, as `$ref`s write it.
pub const DEFINITIONS: &str = "#/components/schemas/";

/// A generator for JSON Schema 2020-12 (what AsyncAPI 3 accepts) with its definitions
/// under `components/schemas`.
pub fn generator() -> SchemaGenerator {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    settings.into_generator()
}

/// The definition's name of a `$ref`, when it is one.
pub fn ref_name(schema: &Value) -> Option<&str> {
    schema.get("$ref")?.as_str()?.strip_prefix(DEFINITIONS)
}

/// `schema` with `$ref`s followed into `defs` (at most a few times).
pub fn resolve<'a>(mut schema: &'a Value, defs: &'a Map<String, Value>) -> &'a Value {
    for _ in 0..8 {
        match ref_name(schema).and_then(|n| defs.get(n)) {
            Some(next) => schema = next,
            None => break,
        }
    }
    schema
}

/// The JSON types a schema accepts (`None`: any).
pub fn json_types(schema: &Value, defs: &Map<String, Value>) -> Option<Vec<String>> {
    let schema = resolve(schema, defs);
    let obj = schema.as_object()?;
    if let Some(t) = obj.get("type") {
        let mut types: Vec<String> = match t {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => return None,
        };
        // An integer is a number.
        if types.iter().any(|t| t == "integer") {
            types.push("number".into());
        }
        return Some(types);
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(list) = obj.get(key).and_then(Value::as_array) {
            let mut all = Vec::new();
            for s in list {
                all.extend(json_types(s, defs)?);
            }
            return Some(all);
        }
    }
    if obj.contains_key("properties") {
        return Some(vec!["object".into()]);
    }
    None
}
