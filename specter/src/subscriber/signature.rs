//! What the code says about a subscriber's messages: the payload types its arguments
//! read and the type its answer has, recorded by the macros for the contract
//! (`ServiceManager::contract`, feature `contract`).
//!
//! `#[handler]` records every `#[on]` method, `#[specter::describe]` every method of an
//! impl block (for controllers, whose `build_events` binds them by hand). The records
//! are keyed by the type of the method's function item (`Self::method`), which every
//! binding of it carries: a binding finds its record whatever API bound it and whatever
//! path or alias named the type.

use std::any::TypeId;
use std::marker::PhantomData;

/// How to build a type's JSON Schema (feature `contract`), when it has one.
#[cfg(feature = "contract")]
pub type SchemaFn = fn(&mut schemars::SchemaGenerator) -> schemars::Schema;
/// How to build a type's JSON Schema (feature `contract`), when it has one.
#[cfg(not(feature = "contract"))]
pub type SchemaFn = fn();

/// A type of a payload, an ack or a server event.
#[derive(Debug, Clone, Copy)]
pub struct TypeInfo {
    /// Its name as written (`Incoming`, `Vec<ChatMessage>`).
    pub name: &'static str,
    /// Its schema, when the type implements `schemars::JsonSchema` and the feature
    /// `contract` is on.
    pub schema: Option<SchemaFn>,
}

/// The messages of one subscriber method.
#[derive(Debug, Clone, Default)]
pub struct Signature {
    /// The types its payload extractors (`Data<T>`, `SharedData<T>`, `Valid<T>`,
    /// `TryData<T>`) read as the first argument (`A` of a tuple `(A, B)`).
    pub payloads: Vec<TypeInfo>,
    /// The arguments after the first that one of them reads (`B` of `(A, B)`).
    pub rest: Vec<TypeInfo>,
    /// The type of the value it answers with, when it answers with one (the first of a
    /// `Spread`'s).
    pub ack: Option<TypeInfo>,
    /// The answer's arguments after the first (`Spread<(A, B)>`).
    pub ack_rest: Vec<TypeInfo>,
}

/// A method's signature, submitted by the macros.
#[doc(hidden)]
pub struct Described {
    /// The type of `Type::method`'s function item.
    pub id: fn() -> TypeId,
    pub describe: fn() -> Signature,
}

inventory::collect!(Described);

/// The `TypeId` of a value's type: `id_of(&Type::method)` in the generated code.
#[doc(hidden)]
pub fn id_of<T: 'static>(_: &T) -> TypeId {
    TypeId::of::<T>()
}

/// The recorded signature of the callable of type `callable`, if any.
#[cfg_attr(not(feature = "contract"), allow(dead_code))]
pub(crate) fn described(callable: Option<TypeId>) -> Option<Signature> {
    let callable = callable?;
    let found = inventory::iter::<Described>().find(|d| (d.id)() == callable);
    found.map(|d| (d.describe)())
}

/// Autoref specialization, used by the generated code: `(&Probe::<T>::new()).type_info()`
/// finds [`ViaSchema`] when `T: JsonSchema` (and `contract` is on), else [`ViaAny`].
#[doc(hidden)]
pub struct Probe<T: ?Sized>(PhantomData<fn() -> Box<T>>);

impl<T: ?Sized> Probe<T> {
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T: ?Sized> Default for Probe<T> {
    fn default() -> Self {
        Self::new()
    }
}

#[doc(hidden)]
pub trait ViaAny {
    fn type_info(&self, name: &'static str) -> TypeInfo;
}

impl<T: ?Sized> ViaAny for &Probe<T> {
    fn type_info(&self, name: &'static str) -> TypeInfo {
        TypeInfo { name, schema: None }
    }
}

#[doc(hidden)]
pub trait ViaSchema {
    fn type_info(&self, name: &'static str) -> TypeInfo;
}

#[cfg(feature = "contract")]
impl<T: ?Sized + schemars::JsonSchema> ViaSchema for Probe<T> {
    fn type_info(&self, name: &'static str) -> TypeInfo {
        TypeInfo {
            name,
            schema: Some(|generator| generator.subschema_for::<T>()),
        }
    }
}
