//! [`Session`](crate::Session) values that follow their socket to another node:
//! the types declared with [`carry_session!`](crate::carry_session).
//!
//! A session handed to another node (connection state recovery on several nodes) takes
//! its rooms and missed events along; its `Session` values are Rust values of any type,
//! so only those of a declared type go too, as JSON, and are read back on the new node
//! under the type's name ([`std::any::type_name`]: nodes that run builds in which the
//! type has another path do not recognise it, and leave the value behind).

use std::any::TypeId;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use socketioxide::extensions::Extensions;

/// How one socket's value is copied to another socket's extensions.
pub(crate) type CopyValue = fn(&Extensions, &Extensions);

pub(crate) fn copy_value<T: Clone + Send + Sync + 'static>(from: &Extensions, to: &Extensions) {
    if let Some(value) = from.get::<T>() {
        to.insert(value);
    }
}

/// A type of session value that another node can take over: written by
/// [`carry_session!`](crate::carry_session), not by hand.
#[doc(hidden)]
pub struct CarriedSession {
    type_id: fn() -> TypeId,
    name: fn() -> &'static str,
    pub(crate) copy: CopyValue,
    encode: fn(&Extensions) -> Option<serde_json::Result<Box<RawValue>>>,
    decode: fn(&str, &Extensions) -> serde_json::Result<()>,
}

inventory::collect!(CarriedSession);

fn encode<T: Serialize + Clone + Send + Sync + 'static>(
    from: &Extensions,
) -> Option<serde_json::Result<Box<RawValue>>> {
    from.get::<T>()
        .map(|value| serde_json::value::to_raw_value(&value))
}

fn decode<T: DeserializeOwned + Clone + Send + Sync + 'static>(
    json: &str,
    to: &Extensions,
) -> serde_json::Result<()> {
    to.insert(serde_json::from_str::<T>(json)?);
    Ok(())
}

impl CarriedSession {
    /// The declaration of `T`.
    pub const fn of<T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static>() -> Self {
        Self {
            type_id: TypeId::of::<T>,
            name: std::any::type_name::<T>,
            copy: copy_value::<T>,
            encode: encode::<T>,
            decode: decode::<T>,
        }
    }

    /// The declaration of the type `id`, if it was declared.
    pub(crate) fn find(id: TypeId) -> Option<&'static Self> {
        inventory::iter::<Self>().find(|c| (c.type_id)() == id)
    }

    /// The declaration of the type named `name`, if it was declared on this node.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    fn named(name: &str) -> Option<&'static Self> {
        inventory::iter::<Self>().find(|c| (c.name)() == name)
    }

    pub(crate) fn type_id(&self) -> TypeId {
        (self.type_id)()
    }

    /// The value of this type in `from`, as JSON with its type's name; `None` when
    /// there is none, or it cannot be written (logged).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn write(&self, from: &Extensions) -> Option<(String, Box<RawValue>)> {
        match (self.encode)(from)? {
            Ok(json) => Some(((self.name)().to_owned(), json)),
            Err(error) => {
                tracing::warn!(
                    r#type = (self.name)(),
                    %error,
                    "a session value cannot be written for another node: it stays behind"
                );
                None
            }
        }
    }

    /// Sets in `to` the value `json` of the type named `name`: its declaration, or
    /// `None` when this node does not know the type or cannot read the value (logged).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn read(name: &str, json: &RawValue, to: &Extensions) -> Option<&'static Self> {
        let Some(carried) = Self::named(name) else {
            tracing::warn!(
                r#type = name,
                "another node handed a session value of a type not declared here with carry_session!: it is left out"
            );
            return None;
        };
        if let Err(error) = (carried.decode)(json.get(), to) {
            tracing::warn!(
                r#type = name,
                %error,
                "another node handed a session value this node cannot read: it is left out"
            );
            return None;
        }
        Some(carried)
    }
}

/// Declares types of [`Session`](crate::Session) values that follow their socket to
/// another node when a client recovers its connection there (an app on several nodes
/// with [`RecoverySettings`](crate::RecoverySettings)): each is sent as JSON with the
/// session, and set again on the socket that takes it over before its `connect`
/// subscribers run. Values of undeclared types stay on the node that set them.
///
/// The types must be `Serialize` and `Deserialize`; the nodes must run builds in which
/// each has the same path ([`std::any::type_name`]), which is how the new node knows it.
///
/// ```
/// use specter::prelude::*;
///
/// #[derive(Clone, serde::Serialize, serde::Deserialize)]
/// struct Member(String);
///
/// specter::carry_session!(Member);
///
/// fn on_connect(socket: SocketRef, recovery: specter::Recovery) {
///     if Session::<Member>::get(&socket).is_none() {
///         // New, or back from a node of another build: ask again.
///         Session::insert(&socket, Member("guest".into()));
///     }
/// }
/// # let _ = on_connect;
/// ```
#[macro_export]
macro_rules! carry_session {
    ($($ty:ty),+ $(,)?) => {
        $(
            $crate::__private::inventory::submit! {
                $crate::__private::CarriedSession::of::<$ty>()
            }
        )+
    };
}

#[cfg(test)]
mod tests {
    use std::any::TypeId;

    use serde_json::value::to_raw_value;
    use socketioxide::extensions::Extensions;

    use super::CarriedSession;

    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Member {
        name: String,
        since: u64,
    }

    #[derive(Clone)]
    struct NotDeclared;

    crate::carry_session!(Member);

    #[test]
    fn a_declared_value_is_written_on_one_node_and_read_on_another() {
        let carried = CarriedSession::find(TypeId::of::<Member>()).expect("declared");
        assert!(CarriedSession::find(TypeId::of::<NotDeclared>()).is_none());

        let here = Extensions::new();
        assert!(carried.write(&here).is_none(), "no value, nothing written");
        let ann = Member {
            name: "ann".into(),
            since: 7,
        };
        here.insert(ann.clone());
        let (name, json) = carried.write(&here).unwrap();
        assert_eq!(json.get(), r#"{"name":"ann","since":7}"#);
        assert!(name.ends_with("Member"), "{name}");

        let there = Extensions::new();
        assert!(CarriedSession::read(&name, &json, &there).is_some());
        assert_eq!(there.get::<Member>(), Some(ann));
    }

    #[test]
    fn what_this_node_cannot_read_is_left_out() {
        let name = std::any::type_name::<Member>();
        let there = Extensions::new();
        let unknown = to_raw_value(&1).unwrap();
        assert!(CarriedSession::read("other::Member", &unknown, &there).is_none());
        let wrong = to_raw_value(&"not a member").unwrap();
        assert!(CarriedSession::read(name, &wrong, &there).is_none());
        assert!(there.get::<Member>().is_none());
    }
}
