//! Expansion of `#[derive(Controller)]`: the `ControllerInfo` impl (with the forwarding
//! to `Hooks`), an assertion that the type implements `Controller` (so a forgotten
//! `build_events` is a compile error), and the discovery registration.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::DeriveInput;
use syn::spanned::Spanned;

use crate::attr::{self, Options};
use crate::ctxt::Ctxt;
use crate::expand;

pub fn expand(input: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    let mut options = Options::default();
    for a in input
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("controller"))
    {
        match &a.meta {
            syn::Meta::List(list) => {
                options.parse_into(&mut cx, &attr::CONTROLLER, list.tokens.clone())
            }
            _ => cx.error(a, "expected `#[controller(name = \"...\")]`"),
        }
    }
    options.check(&mut cx, &attr::CONTROLLER);
    if !input.generics.params.is_empty() {
        cx.error(
            &input.generics,
            "a controller cannot be generic: it is registered as a static, which cannot name generic parameters",
        );
    }
    if !input.generics.params.is_empty() {
        return cx.to_compile_errors();
    }
    // After an error, a best guess: the `ControllerInfo` impl (a placeholder name), so
    // that the user's `impl Controller` does not fail a second time; nothing is
    // registered.
    let valid = cx.is_empty();
    let errors = cx.to_compile_errors();
    let krate = options.krate();
    let ident = &input.ident;
    let unnamed = syn::LitStr::new("unnamed", proc_macro2::Span::call_site());
    let name = options.name.as_ref().unwrap_or(&unnamed);
    let route = options.route.as_ref().map_or(quote!("/"), |r| quote!(#r));
    let namespace = expand::namespace(&options, &krate);
    let source = expand::source(&krate);
    let hooks = expand::hooks_fn(&krate);
    // Each guard spanned on its expression: a function that is not a guard is an error
    // there.
    let guards = options
        .guards
        .iter()
        .map(|g| quote_spanned!(g.span()=> #krate::Events::guard_all(events, #g);));
    let guard_all = (!options.guards.is_empty()).then(|| {
        quote! {
            fn guard_all(events: &mut #krate::Events<Self>) {
                #(#guards)*
            }
        }
    });
    // Either the registration or the assertion requires `Controller`: one error, not two.
    let registration = if !valid {
        quote!()
    } else if options.discovered() {
        let construct =
            quote_spanned!(ident.span()=> #krate::__private::construct_controller::<#ident>);
        expand::registration(&krate, &options, quote!(Controller), construct)
    } else {
        quote_spanned! {ident.span()=>
            const _: fn() = || {
                fn assert_controller<T: #krate::Controller>() {}
                assert_controller::<#ident>();
            };
        }
    };
    quote! {
        impl #krate::__private::ControllerInfo for #ident {
            const NAME: &'static str = #name;
            const ROUTE: &'static str = #route;
            const NAMESPACE: &'static str = #namespace;
            const SOURCE: #krate::Source = #source;
            #hooks
            #guard_all
        }
        #registration
        #errors
    }
}
