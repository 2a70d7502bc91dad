//! Expansion of `#[derive(Controller)]`: the `ControllerInfo` impl, an assertion that
//! the type implements `Controller` (so a forgotten `build_events` is a compile error),
//! and the discovery registration.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::DeriveInput;

use crate::attr::ControllerAttr;
use crate::ctxt::Ctxt;

pub fn expand(input: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    let attr = ControllerAttr::parse(&mut cx, &input.attrs);
    if !input.generics.params.is_empty() {
        cx.error(
            &input.generics,
            "a controller cannot be generic: it is registered as a static, which cannot name generic parameters",
        );
    }
    if !cx.is_empty() {
        return cx.to_compile_errors();
    }
    let ident = &input.ident;
    let name = attr.name.as_ref().expect("checked");
    let route = attr.route.as_ref().map_or(quote!("/"), |r| quote!(#r));
    let namespace = attr.namespace.as_ref().map_or(quote!("/"), |n| quote!(#n));
    let assert_impl = quote_spanned! {ident.span()=>
        const _: fn() = || {
            fn assert_controller<T: ::specter::Controller>() {}
            assert_controller::<#ident>();
        };
    };
    // Either the registration or the assertion requires `Controller`: one error, not two.
    let registration = if attr.discover.as_ref().is_some_and(|d| !d.value) {
        assert_impl
    } else {
        let construct =
            quote_spanned!(ident.span()=> ::specter::__private::construct_controller::<#ident>);
        quote! {
            ::specter::__private::inventory::submit! {
                ::specter::__private::Registration {
                    name: #name,
                    kind: ::specter::__private::ComponentKind::Controller,
                    namespace: #namespace,
                    source: ::specter::Source { file: ::core::file!(), line: ::core::line!() },
                    construct: ::specter::__private::Construct::Controller(#construct),
                }
            }
        }
    };
    quote! {
        impl ::specter::__private::ControllerInfo for #ident {
            const NAME: &'static str = #name;
            const ROUTE: &'static str = #route;
            const NAMESPACE: &'static str = #namespace;
            const SOURCE: ::specter::Source = ::specter::Source { file: ::core::file!(), line: ::core::line!() };
        }
        #registration
    }
}
