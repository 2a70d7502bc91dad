//! The app: handlers and controllers (what owns events), services, their lifecycles,
//! discovery, and the [`ServiceManager`](crate::ServiceManager) that runs them all. It
//! binds every event through [`Events`](crate::Events) and subscribes through the
//! ingress; the ingress knows nothing of it.

#[cfg(feature = "admin")]
pub mod admin;
pub mod background;
pub mod builder;
pub mod component;
pub mod controller;
pub mod edge;
pub mod events;
pub mod handler;
pub mod hooks;
pub mod lifecycle;
pub mod manager;
pub mod mounted;
pub mod registry;
pub mod serve;
pub mod service;
