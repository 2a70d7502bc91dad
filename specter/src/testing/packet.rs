//! Engine.IO v4 / Socket.IO v5 packets as text, the little a client needs.

use serde_json::Value;

/// A Socket.IO packet from the server, decoded from an Engine.IO message (`4...`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Packet {
    /// `0`: connected, with the socket id.
    Connect(String),
    /// `1`: the server closed the namespace.
    Disconnect,
    /// `2` / `5`: an event and its arguments; the ack id when the server wants one.
    Event(String, Vec<Value>, Option<i64>),
    /// `3` / `6`: the answer to one of our acks.
    Ack(i64, Vec<Value>),
    /// `4`: the connection was refused, with the message.
    ConnectError(String),
}

/// A decoded Socket.IO message that still waits for `attachments` binary frames.
pub(crate) struct Partial {
    pub kind: u8,
    pub ack: Option<i64>,
    pub data: Value,
    pub attachments: usize,
    pub received: Vec<Vec<u8>>,
}

/// The Engine.IO message prefix of a namespace: empty for `/`, else `/ns,`.
pub(crate) fn ns_prefix(ns: &str) -> String {
    if ns == "/" {
        String::new()
    } else {
        format!("{ns},")
    }
}

/// `42/ns,7["event",data]`: an event, with an ack id when one is wanted.
pub(crate) fn event(ns: &str, ack: Option<i64>, event: &str, args: &[Value]) -> String {
    let mut array = Vec::with_capacity(args.len() + 1);
    array.push(Value::from(event));
    array.extend_from_slice(args);
    let ack = ack.map(|id| id.to_string()).unwrap_or_default();
    format!("42{}{ack}{}", ns_prefix(ns), Value::Array(array))
}

/// An argument of an emitted event: JSON, or binary data sent as an attachment.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// A JSON value.
    Json(Value),
    /// Bytes, sent as a binary attachment (the server's `Data<bytes::Bytes>` takes them).
    Binary(Vec<u8>),
}

impl From<Value> for Arg {
    fn from(v: Value) -> Self {
        Arg::Json(v)
    }
}

impl From<Vec<u8>> for Arg {
    fn from(b: Vec<u8>) -> Self {
        Arg::Binary(b)
    }
}

impl From<&[u8]> for Arg {
    fn from(b: &[u8]) -> Self {
        Arg::Binary(b.to_vec())
    }
}

/// An event with binary arguments: `451-/ns,7["event",{"_placeholder":true,"num":0}]`
/// and the attachments to send after it; a plain event when there are none.
pub(crate) fn event_with_attachments(
    ns: &str,
    ack: Option<i64>,
    name: &str,
    args: Vec<Arg>,
) -> (String, Vec<Vec<u8>>) {
    let mut files = Vec::new();
    let json: Vec<Value> = args
        .into_iter()
        .map(|a| match a {
            Arg::Json(v) => v,
            Arg::Binary(b) => {
                files.push(b);
                serde_json::json!({"_placeholder": true, "num": files.len() - 1})
            }
        })
        .collect();
    let text = event(ns, ack, name, &json);
    if files.is_empty() {
        return (text, files);
    }
    // `42...` becomes `45<n>-...`
    (format!("45{}-{}", files.len(), &text[2..]), files)
}

/// `43/ns,7[args]`: our answer to the server's ack request.
pub(crate) fn ack(ns: &str, id: i64, args: &[Value]) -> String {
    format!("43{}{id}{}", ns_prefix(ns), Value::from(args.to_vec()))
}

/// `40/ns,{auth}`: connect to a namespace.
pub(crate) fn connect(ns: &str, auth: &Value) -> String {
    format!("40{}{auth}", ns_prefix(ns))
}

/// Decodes the Socket.IO part of a `4...` Engine.IO message.
pub(crate) fn decode(text: &str) -> Result<Partial, String> {
    let bad = || format!("malformed Socket.IO packet {text:?}");
    let mut rest = text;
    let kind = *rest.as_bytes().first().ok_or_else(bad)?;
    rest = &rest[1..];
    let mut attachments = 0;
    if kind == b'5' || kind == b'6' {
        let dash = rest.find('-').ok_or_else(bad)?;
        attachments = rest[..dash].parse().map_err(|_| bad())?;
        rest = &rest[dash + 1..];
    }
    if rest.starts_with('/') {
        let comma = rest.find(',').unwrap_or(rest.len());
        rest = rest.get(comma + 1..).unwrap_or("");
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let ack = if digits > 0 {
        rest[..digits].parse().ok()
    } else {
        None
    };
    rest = &rest[digits..];
    let data = if rest.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(rest).map_err(|_| bad())?
    };
    Ok(Partial {
        kind,
        ack,
        data,
        attachments,
        received: Vec::new(),
    })
}

impl Partial {
    /// The packet, once every attachment arrived; binary data become arrays of bytes.
    pub fn finish(mut self) -> Result<Packet, String> {
        let files = std::mem::take(&mut self.received);
        fill_placeholders(&mut self.data, &files);
        let args = |v: Value| match v {
            Value::Array(a) => a,
            Value::Null => Vec::new(),
            other => vec![other],
        };
        match self.kind {
            b'0' => Ok(Packet::Connect(
                self.data
                    .get("sid")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            )),
            b'1' => Ok(Packet::Disconnect),
            b'2' | b'5' => {
                let mut a = args(self.data);
                if a.is_empty() {
                    return Err("event without a name".into());
                }
                let name = a.remove(0);
                Ok(Packet::Event(
                    name.as_str().unwrap_or_default().to_owned(),
                    a,
                    self.ack,
                ))
            }
            b'3' | b'6' => Ok(Packet::Ack(
                self.ack.ok_or("ack without an id")?,
                args(self.data),
            )),
            b'4' => Ok(Packet::ConnectError(
                self.data
                    .get("message")
                    .and_then(Value::as_str)
                    .map_or_else(|| self.data.to_string(), str::to_owned),
            )),
            other => Err(format!("unknown Socket.IO packet type {:?}", other as char)),
        }
    }
}

fn fill_placeholders(v: &mut Value, files: &[Vec<u8>]) {
    match v {
        Value::Object(map) if map.get("_placeholder") == Some(&Value::Bool(true)) => {
            let n = map.get("num").and_then(Value::as_u64).unwrap_or(u64::MAX) as usize;
            *v = files.get(n).map_or(Value::Null, |b| Value::from(b.clone()));
        }
        Value::Object(map) => map.values_mut().for_each(|v| fill_placeholders(v, files)),
        Value::Array(a) => a.iter_mut().for_each(|v| fill_placeholders(v, files)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn encodes_events_and_connects() {
        assert_eq!(event("/", Some(3), "hi", &[json!(1)]), r#"423["hi",1]"#);
        assert_eq!(event("/admin", None, "hi", &[]), r#"42/admin,["hi"]"#);
        assert_eq!(connect("/", &json!({"t": 1})), r#"40{"t":1}"#);
        let (text, files) =
            event_with_attachments("/", Some(2), "up", vec![json!(1).into(), vec![7u8].into()]);
        assert_eq!(text, r#"451-2["up",1,{"_placeholder":true,"num":0}]"#);
        assert_eq!(files, [vec![7u8]]);
    }

    #[test]
    fn decodes_every_kind() {
        let p = |s: &str| decode(s).unwrap().finish().unwrap();
        assert_eq!(p(r#"0{"sid":"abc"}"#), Packet::Connect("abc".into()));
        assert_eq!(
            p(r#"3/admin,12[{"ok":true}]"#),
            Packet::Ack(12, vec![json!({"ok": true})])
        );
        assert_eq!(p("312[]"), Packet::Ack(12, vec![]));
        assert_eq!(
            p(r#"2["msg","a"]"#),
            Packet::Event("msg".into(), vec![json!("a")], None)
        );
        assert_eq!(p(r#"4{"message":"no"}"#), Packet::ConnectError("no".into()));
        let mut bin = decode(r#"51-["file",{"_placeholder":true,"num":0}]"#).unwrap();
        assert_eq!(bin.attachments, 1);
        bin.received.push(vec![1, 2]);
        assert_eq!(
            bin.finish().unwrap(),
            Packet::Event("file".into(), vec![json!([1, 2])], None)
        );
        assert!(decode("2[oops").is_err());
    }
}
