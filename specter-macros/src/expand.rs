//! Pieces of generated code that `#[handler]` and `#[derive(Controller)]` share.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::LitStr;

use crate::attr::Options;

/// The namespace: the option's literal, else the runtime's default.
pub fn namespace(options: &Options, krate: &TokenStream) -> TokenStream {
    match &options.namespace {
        Some(ns) => quote!(#ns),
        None => quote!(#krate::DEFAULT_NAMESPACE),
    }
}

/// The source location of the annotated item.
pub fn source(krate: &TokenStream) -> TokenStream {
    quote!(#krate::Source { file: ::core::file!(), line: ::core::line!() })
}

/// The event-name rule, checked at compile time and reported on the literal.
pub fn event_name_check(krate: &TokenStream, event: &LitStr) -> TokenStream {
    let krate = respan(krate, event.span());
    quote_spanned!(event.span()=> const _: () = #krate::__private::assert_event_name(#event);)
}

/// `tokens` with every span set to `span`, so that an error (or a `#[track_caller]`
/// location) about the code they start points at `span`.
pub fn respan(tokens: &TokenStream, span: Span) -> TokenStream {
    tokens
        .clone()
        .into_iter()
        .map(|mut t| {
            t.set_span(span);
            t
        })
        .collect()
}

/// `fn hooks(&self)`: the type's `Hooks` when it implements the trait, else none.
pub fn hooks_fn(krate: &TokenStream) -> TokenStream {
    quote! {
        fn hooks(&self) -> ::core::option::Option<&dyn #krate::__private::DynHooks> {
            #[allow(unused_imports)]
            use #krate::__private::{NoHooks as _, ViaHooks as _};
            (&#krate::__private::HooksOf(self)).hooks()
        }
    }
}

/// The discovery registration of a handler or controller.
pub fn registration(
    krate: &TokenStream,
    options: &Options,
    kind: TokenStream,
    construct: TokenStream,
) -> TokenStream {
    let name = options.name.as_ref().expect("checked");
    let namespace = namespace(options, krate);
    let source = source(krate);
    quote! {
        #krate::__private::inventory::submit! {
            #krate::__private::Registration {
                name: #name,
                kind: #krate::__private::ComponentKind::#kind,
                namespace: #namespace,
                source: #source,
                construct: #krate::__private::Construct::#kind(#construct),
            }
        }
    }
}
