//! Procedural macros of [Specter](https://docs.rs/specter): `#[handler]` and `#[on]`.
//!
//! Use them through `specter` (`use specter::prelude::*;`), never directly.

mod attr;
mod check;
mod controller;
mod ctxt;
mod handler;

use proc_macro::TokenStream;

/// Makes an inherent impl block a Specter handler: its `#[on("event")]` methods own
/// those socket events.
///
/// Options: `name = "..."` (required, unique in the app), `namespace = "/..."`
/// (default `/`), `discover = false` (do not submit it for discovery; then the type
/// need not implement `Default`, and is added as an instance).
///
/// Methods named `on_setup` and `on_teardown` are the lifecycle hooks.
///
/// ```
/// use specter::prelude::*;
///
/// #[derive(Default)]
/// struct Echo;
///
/// #[handler(name = "echo")]
/// impl Echo {
///     #[on("echo", priority = 10)]
///     fn echo(&self, Data(v): Data<serde_json::Value>) -> serde_json::Value {
///         v
///     }
/// }
/// ```
///
/// Equivalent code without the macro (the macro also submits the type to discovery
/// and checks the event names at compile time):
///
/// ```
/// use specter::prelude::*;
/// use specter::{Binding, EventKinds, FromEvent, Call, IntoOutcome, Source, Subscriber};
/// use std::sync::Arc;
///
/// struct Echo;
///
/// impl Echo {
///     fn echo(&self, Data(v): Data<serde_json::Value>) -> serde_json::Value {
///         v
///     }
/// }
///
/// impl Handler for Echo {
///     fn name(&self) -> &str { "echo" }
///     fn source(&self) -> Source { Source { file: file!(), line: line!() } }
///     fn bindings(self: Arc<Self>) -> Vec<Binding> {
///         let this = self.clone();
///         vec![Binding {
///             event: "echo".into(),
///             priority: 10,
///             source: Source { file: file!(), line: line!() },
///             subscriber: Subscriber::new(
///                 EventKinds::ALL.and(<Data<serde_json::Value> as FromEvent>::KINDS),
///                 move |mut ctx| {
///                     let a0 = match <Data<serde_json::Value>>::from_event(&mut ctx) {
///                         Ok(v) => v,
///                         Err(e) => return Call::invalid(e),
///                     };
///                     Call::Ready(this.echo(a0).into_outcome())
///                 },
///             ),
///         }]
///     }
/// }
/// ```
#[proc_macro_attribute]
pub fn handler(attr: TokenStream, item: TokenStream) -> TokenStream {
    handler::expand(attr.into(), item.into()).into()
}

/// Binds a method of a `#[handler]` impl block to a socket event:
/// `#[on("event")]` or `#[on("event", priority = N)]` (lower runs first; default 100).
///
/// The method takes `&self` and extractors (`SocketRef`, `Data<T>`, `TryData<T>`,
/// `Event`, `State<T>`, ...), may be async, and returns `()`, `Option<T>`,
/// `Result<T, E>` or a serializable value, which becomes the ack.
#[proc_macro_attribute]
pub fn on(_attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut out = proc_macro2::TokenStream::from(item);
    out.extend(
        syn::Error::new(
            proc_macro2::Span::call_site(),
            "`#[on]` binds a method only inside an impl block marked `#[handler(name = \"...\")]`",
        )
        .to_compile_error(),
    );
    out.into()
}

/// Records a controller's name, HTTP route prefix and namespace, and submits it for
/// discovery: `#[controller(name = "chat", route = "/chat")]`; options `namespace` and
/// `discover = false` as for `#[handler]`. The type must also implement
/// `specter::Controller` (its `build_events`); forgetting it is a compile error.
///
/// ```
/// use specter::prelude::*;
///
/// #[derive(Default, Controller)]
/// #[controller(name = "chat", route = "/chat")]
/// struct Chat;
///
/// impl Controller for Chat {
///     fn build_events(&self, events: &mut Events<Self>) {
///         events.on("message", Self::on_message);
///     }
/// }
///
/// impl Chat {
///     fn on_message(&self, Data(text): Data<String>) -> usize {
///         text.len()
///     }
/// }
/// ```
#[proc_macro_derive(Controller, attributes(controller))]
pub fn derive_controller(input: TokenStream) -> TokenStream {
    controller::expand(input.into()).into()
}
