//! Expansion of `#[handler]`: the impl block as written (without its `#[on]`
//! attributes), compile-time checks of the event names, argument and return types, the
//! `Handler` impl whose `build_events` binds each `#[on]` method through `Events::on`,
//! and the discovery registration.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ImplItem, ImplItemFn, ItemImpl, ReturnType, Type};

use crate::attr::{self, OnAttr, Options};
use crate::check;
use crate::ctxt::Ctxt;
use crate::expand;
use crate::signature;

/// An `#[on]` method, as the expansion needs it.
struct Bound {
    method: syn::Ident,
    on: OnAttr,
    args: Vec<Type>,
    output: Option<Type>,
}

pub fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let mut options = Options::default();
    options.parse_into(&mut cx, &attr::HANDLER, args);
    options.check(&mut cx, &attr::HANDLER);
    let mut item: ItemImpl = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(_) => {
            let e = syn::Error::new(
                Span::call_site(),
                "`#[handler]` goes on an impl block: `#[handler(name = \"...\")] impl MyHandler { .. }`",
            )
            .to_compile_error();
            return quote!(#item #e);
        }
    };
    check::impl_block(&mut cx, &item);

    let mut bound = Vec::new();
    let mut seen = check::SeenEvents::default();
    for it in &mut item.items {
        let ImplItem::Fn(f) = it else { continue };
        let ons = take_on_attrs(f);
        if ons.len() > 1 {
            cx.error(&ons[1], "a method binds one event: one `#[on]` per method");
        }
        let Some(on) = ons.first() else { continue };
        let Some(on) = OnAttr::parse(&mut cx, on) else {
            continue;
        };
        if let Some(event) = &on.event {
            seen.check(&mut cx, event, &f.sig.ident);
        }
        if check::method_signature(&mut cx, &f.sig, "an `#[on]` method") {
            bound.push(bound_method(f, on));
        }
    }

    let errors = cx.to_compile_errors();
    if !cx.is_empty() && !item.generics.params.is_empty() {
        // The impl block as written, so the rest of the file still type-checks.
        return quote!(#item #errors);
    }
    // After an error, a best guess: the `Handler` impl of the methods that parsed (and
    // a placeholder name), so that `.handler(X)` elsewhere does not fail a second time;
    // nothing is registered for discovery.
    let valid = cx.is_empty();
    let krate = options.krate();
    let self_ty = &item.self_ty;
    let unnamed = syn::LitStr::new("unnamed", Span::call_site());
    let name = options.name.as_ref().unwrap_or(&unnamed);
    let namespace = expand::namespace(&options, &krate);
    let source = expand::source(&krate);
    let hooks = expand::hooks_fn(&krate);
    let name_checks = bound
        .iter()
        .filter_map(|b| b.on.event.as_ref())
        .map(|event| expand::event_name_check(&krate, event));
    let type_checks = type_checks(&krate, self_ty, &bound);
    let bindings = bound.iter().map(|b| binding(&krate, &options.guards, b));
    let signatures = bound.iter().map(|b| {
        signature::described(&krate, self_ty, None, &b.method, &b.args, b.output.as_ref())
    });
    let registration = (valid && options.discovered()).then(|| {
        expand::registration(
            &krate,
            &options,
            quote!(Handler),
            quote_spanned!(self_ty.span()=> #krate::__private::construct::<#self_ty>),
        )
    });
    quote! {
        #item
        #(#name_checks)*
        #type_checks
        impl #krate::Handler for #self_ty {
            fn name(&self) -> &str {
                #name
            }
            fn namespace(&self) -> &str {
                #namespace
            }
            fn source(&self) -> #krate::Source {
                #source
            }
            fn build_events(&self, events: &mut #krate::Events<Self>) {
                #(#bindings)*
            }
            #hooks
        }
        #registration
        #(#signatures)*
        #errors
    }
}

/// Removes the `#[on]` attributes of a method (however their path is written) and
/// returns them.
fn take_on_attrs(f: &mut ImplItemFn) -> Vec<syn::Attribute> {
    let (ons, rest) = std::mem::take(&mut f.attrs)
        .into_iter()
        .partition(attr::is_on);
    f.attrs = rest;
    ons
}

fn bound_method(f: &ImplItemFn, on: OnAttr) -> Bound {
    Bound {
        method: f.sig.ident.clone(),
        on,
        args: f
            .sig
            .inputs
            .iter()
            .filter_map(|a| match a {
                FnArg::Typed(t) => Some((*t.ty).clone()),
                FnArg::Receiver(_) => None,
            })
            .collect(),
        output: match &f.sig.output {
            ReturnType::Default => None,
            ReturnType::Type(_, ty) => Some((**ty).clone()),
        },
    }
}

/// `events.on("event", Self::method)`, with `.priority(P)` when one is given. The call
/// is spanned on the method, so the binding's source location is the method's line.
fn binding(krate: &TokenStream, handler_guards: &[syn::Expr], b: &Bound) -> TokenStream {
    let Bound { method, on, .. } = b;

    let priority = on.priority.as_ref().map(|p| {
        // A const item: any const expression of type `i32`; a wrong type is an error
        // on the expression.
        let p = quote_spanned!(p.span()=> { const PRIORITY: i32 = #p; PRIORITY });
        quote!(.priority(#p))
    });
    let concurrent = on
        .concurrent
        .as_ref()
        .map(|c| quote_spanned!(c.span()=> .concurrent()));
    // Timeouts and rates: the runtime's rule, in a const item spanned on the value,
    // as event names are checked.
    let timeout = on.timeout.as_ref().map(|t| {
        let k = expand::respan(krate, t.span());
        quote_spanned! {t.span()=>
            .timeout({ const TIMEOUT: ::core::time::Duration = #k::__private::assert_duration(#t); TIMEOUT })
        }
    });
    let rate = on.rate.as_ref().map(|r| {
        let k = expand::respan(krate, r.span());
        quote_spanned! {r.span()=>
            .rate_limit({ const RATE: #k::Rate = #k::__private::assert_rate(#r); RATE })
        }
    });
    // The handler's guards first, then the event's own, each spanned on its expression.
    let guards = handler_guards
        .iter()
        .chain(&on.guards)
        .map(|g| quote_spanned!(g.span()=> .guard(#g)));
    let krate = expand::respan(krate, method.span());
    let on_call = match &on.event {
        Some(event) => {
            quote_spanned!(method.span()=> #krate::Events::on(events, #event, Self::#method))
        }
        None => quote_spanned!(method.span()=> #krate::Events::on_any(events, Self::#method)),
    };
    quote_spanned! {method.span()=>
        #on_call #priority #concurrent #timeout #rate #(#guards)*;
    }
}

/// Checks generated as a function the way axum-macros does, so that an argument that
/// is not an extractor, or a return type that cannot be an ack, is reported on that
/// type with the trait's own message.
fn type_checks(krate: &TokenStream, self_ty: &Type, bound: &[Bound]) -> TokenStream {
    let checks = bound.iter().flat_map(|b| {
        let args = b.args.iter().map(|ty| {
            let k = expand::respan(krate, ty.span());
            quote_spanned!(ty.span()=> #k::__private::check_extractor::<#ty>();)
        });
        let output = b
            .output
            .as_ref()
            .filter(|ty| !matches!(ty, Type::ImplTrait(_)))
            .map(|ty| {
                let k = expand::respan(krate, ty.span());
                quote_spanned!(ty.span()=> #k::__private::check_ack::<#ty>();)
            });
        args.chain(output)
    });
    quote! {
        #[allow(dead_code, non_snake_case, clippy::all)]
        impl #self_ty {
            #[doc(hidden)]
            fn __specter_type_checks() {
                #(#checks)*
            }
        }
    }
}
