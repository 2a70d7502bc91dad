//! Procedural macros of [Specter](https://docs.rs/specter-runtime): `#[handler]` and `#[on]`.
//!
//! Use them through `specter` (`use specter::prelude::*;`), never directly.

mod attr;
mod check;
mod controller;
mod ctxt;
mod describe;
mod expand;
mod handler;
mod server_event;
mod signature;

use proc_macro::TokenStream;

/// Makes an inherent impl block a Specter handler: its `#[on("event")]` methods own
/// those socket events.
///
/// Options: `name = "..."` (required, unique in the app), `namespace = "/..."`
/// (default `/`), `discover = false` (do not submit it for discovery; then the type
/// need not implement `Default`, and is added as an instance), `crate = "path"` (the
/// path of the runtime crate when a dependency renamed it; default `::specter`),
/// `guard = f` (may repeat: a guard of every event of the handler, run before each
/// event's own).
///
/// `#[on]` takes the event name (or `any`) and `priority = EXPR`, `concurrent`,
/// `timeout = "5s"`, `rate = "10/s"` and `guard = f`.
///
/// Lifecycle hooks come from the type's `specter::Hooks` implementation, when it has
/// one. `#[on]` may be written `#[specter::on]` too.
///
/// ```
/// use specter::prelude::*;
///
/// #[derive(Default)]
/// struct Echo;
///
/// const FIRST: i32 = 10;
///
/// #[handler(name = "echo")]
/// impl Echo {
///     #[on("echo", priority = FIRST)]
///     fn echo(&self, Data(v): Data<serde_json::Value>) -> serde_json::Value {
///         v
///     }
/// }
/// ```
///
/// Equivalent code without the macro (the macro also submits the type to discovery,
/// checks the event names at compile time, and checks each argument and return type
/// so that an error points at it):
///
/// ```
/// use specter::prelude::*;
/// use specter::{Events, Handler};
/// use specter::Source;
///
/// struct Echo;
///
/// const FIRST: i32 = 10;
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
///     fn build_events(&self, events: &mut Events<Self>) {
///         events.on("echo", Self::echo).priority(FIRST);
///     }
/// }
/// ```
#[proc_macro_attribute]
pub fn handler(attr: TokenStream, item: TokenStream) -> TokenStream {
    emit("handler", handler::expand(attr.into(), item.into()))
}

/// Binds a method of a `#[handler]` impl block to a socket event:
/// `#[on("event")]` or `#[on("event", priority = N)]`, where `N` is any const expression
/// of type `i32` (lower runs first; default `specter::DEFAULT_PRIORITY`, 100).
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
/// discovery: `#[controller(name = "chat", route = "/chat")]`; options `namespace`,
/// `discover = false`, `crate` and `guard` (every event the controller binds) as for
/// `#[handler]`. The type must also implement
/// `specter::Controller` (its `build_events`); forgetting it is a compile error.
///
/// ```
/// use specter::prelude::*;
/// use specter::{Controller, Events};
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
    emit("derive(Controller)", controller::expand(input.into()))
}

/// Records the signature of every method of an impl block for the app's contract (the
/// payload types its extractors read, the type it answers with), for methods bound by
/// hand: a controller's `build_events` calling `events.on("message", Self::on_message)`.
/// `#[handler]` does this for its `#[on]` methods on its own. The methods are left as
/// written.
///
/// ```
/// use specter::prelude::*;
/// use specter::{Controller, Events};
///
/// #[derive(Default, Controller)]
/// #[controller(name = "chat")]
/// struct Chat;
///
/// #[specter::describe]
/// impl Chat {
///     fn on_message(&self, Data(text): Data<String>) -> usize {
///         text.len()
///     }
/// }
///
/// impl Controller for Chat {
///     fn build_events(&self, events: &mut Events<Self>) {
///         events.on("message", Self::on_message);
///     }
/// }
/// ```
#[proc_macro_attribute]
pub fn describe(attr: TokenStream, item: TokenStream) -> TokenStream {
    emit("describe", describe::expand(attr.into(), item.into()))
}

/// Declares a type as an event the server emits: `#[event("message")]` gives its name
/// (checked at compile time by the rule of every event name), and optionally the
/// namespaces it is emitted on, `#[event("message", namespace = "/chat")]` (default:
/// every namespace). The type's value is the payload; it must implement `Serialize`.
/// With the feature `contract`, the type's JSON Schema (when it implements
/// `schemars::JsonSchema`) describes the payload in the app's contract.
#[proc_macro_derive(ServerEvent, attributes(event))]
pub fn derive_server_event(input: TokenStream) -> TokenStream {
    emit(
        "derive(ServerEvent)",
        server_event::expand(input.into(), server_event::Kind::Server),
    )
}

/// Declares a type as an event one node of the app tells the others (node socket.io's
/// `serverSideEmit`): `#[event("presence:changed")]` gives its name, checked as every
/// event name is. The type's value is the payload; it must implement `Serialize` and
/// `Deserialize`. Sent with `Outbox::to_nodes` / `Deliver::to_nodes`, received with
/// `Lifecycle::on_node_event` on every other node; listed in the contract's
/// `node_events`, never in the clients' TypeScript.
#[proc_macro_derive(NodeEvent, attributes(event))]
pub fn derive_node_event(input: TokenStream) -> TokenStream {
    emit(
        "derive(NodeEvent)",
        server_event::expand(input.into(), server_event::Kind::Node),
    )
}

/// The expansion, printed to the build's output when `SPECTER_MACROS_DEBUG` is set (as
/// `AXUM_MACROS_DEBUG` does for axum): `SPECTER_MACROS_DEBUG=1 cargo build`, after
/// touching the file (cargo does not rebuild when only the variable changes).
fn emit(name: &str, tokens: proc_macro2::TokenStream) -> TokenStream {
    if std::env::var_os("SPECTER_MACROS_DEBUG").is_some() {
        eprintln!("#[{name}] expands to:\n{tokens}\n");
    }
    tokens.into()
}
