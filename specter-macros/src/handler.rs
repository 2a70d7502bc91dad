//! Expansion of `#[handler]`: the impl block as written (without its `#[on]`
//! attributes), compile-time checks of the event names, the `Handler` impl, and the
//! discovery registration.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ImplItem, ImplItemFn, ItemImpl, LitStr, ReturnType, Type};

use crate::attr::{HandlerAttr, OnAttr};
use crate::check;
use crate::ctxt::Ctxt;

const DEFAULT_PRIORITY: i32 = 100;

/// An `#[on]` method, as the expansion needs it.
struct Bound {
    method: syn::Ident,
    event: LitStr,
    priority: TokenStream,
    is_async: bool,
    args: Vec<Type>,
    output: Option<Type>,
}

/// An `on_setup` / `on_teardown` method.
struct Hook {
    method: syn::Ident,
    is_async: bool,
    takes_lifecycle: bool,
    output: Option<Type>,
}

pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let attr = HandlerAttr::parse(&mut cx, attr);
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
    let mut hooks = (None, None);
    let mut seen = check::SeenEvents::default();
    for it in &mut item.items {
        let ImplItem::Fn(f) = it else { continue };
        let ons: Vec<syn::Attribute> = take_on_attrs(f);
        if ons.len() > 1 {
            cx.error(&ons[1], "a method binds one event: one `#[on]` per method");
        }
        if let Some(on) = ons.first() {
            let Some(on) = OnAttr::parse(&mut cx, on) else {
                continue;
            };
            seen.check(&mut cx, &on.event, &f.sig.ident);
            if check::method_signature(&mut cx, &f.sig, "an `#[on]` method") {
                bound.push(bound_method(f, on));
            }
        } else if (f.sig.ident == "on_setup" || f.sig.ident == "on_teardown")
            && check::method_signature(&mut cx, &f.sig, "a lifecycle hook")
        {
            let hook = hook_method(&mut cx, f);
            if f.sig.ident == "on_setup" {
                hooks.0 = hook;
            } else {
                hooks.1 = hook;
            }
        }
    }

    let errors = cx.to_compile_errors();
    if !cx.is_empty() || attr.name.is_none() {
        // The impl block as written, so the rest of the file still type-checks.
        return quote!(#item #errors);
    }
    let handler_impl = handler_impl(&attr, &item.self_ty, &bound, &hooks);
    let registration = registration(&attr, &item.self_ty);
    let name_checks = bound.iter().map(|b| {
        let lit = &b.event;
        quote_spanned!(lit.span()=> const _: () = ::specter::__private::assert_event_name(#lit);)
    });
    quote! {
        #item
        #(#name_checks)*
        #handler_impl
        #registration
    }
}

/// Removes the `#[on]` attributes of a method and returns them.
fn take_on_attrs(f: &mut ImplItemFn) -> Vec<syn::Attribute> {
    let (ons, rest) = std::mem::take(&mut f.attrs)
        .into_iter()
        .partition(|a| a.path().is_ident("on"));
    f.attrs = rest;
    ons
}

fn typed_args(f: &ImplItemFn) -> impl Iterator<Item = &syn::PatType> {
    f.sig.inputs.iter().filter_map(|a| match a {
        FnArg::Typed(t) => Some(t),
        FnArg::Receiver(_) => None,
    })
}

fn output(f: &ImplItemFn) -> Option<Type> {
    match &f.sig.output {
        ReturnType::Default => None,
        ReturnType::Type(_, ty) => Some((**ty).clone()),
    }
}

fn bound_method(f: &ImplItemFn, on: OnAttr) -> Bound {
    let priority = match on.priority {
        Some((p, expr)) => quote_spanned!(expr.span()=> #p),
        None => quote!(#DEFAULT_PRIORITY),
    };
    Bound {
        method: f.sig.ident.clone(),
        event: on.event,
        priority,
        is_async: f.sig.asyncness.is_some(),
        args: typed_args(f).map(|t| (*t.ty).clone()).collect(),
        output: output(f),
    }
}

fn hook_method(cx: &mut Ctxt, f: &ImplItemFn) -> Option<Hook> {
    let args: Vec<_> = typed_args(f).collect();
    if args.len() > 1 {
        cx.error(
            &f.sig.inputs,
            "a lifecycle hook takes `&self` and, optionally, `&specter::Lifecycle`",
        );
        return None;
    }
    Some(Hook {
        method: f.sig.ident.clone(),
        is_async: f.sig.asyncness.is_some(),
        takes_lifecycle: args.len() == 1,
        output: output(f),
    })
}

fn handler_impl(
    attr: &HandlerAttr,
    self_ty: &Type,
    bound: &[Bound],
    hooks: &(Option<Hook>, Option<Hook>),
) -> TokenStream {
    let name = attr.name.as_ref().expect("checked");
    let namespace = match &attr.namespace {
        Some(ns) => ns.to_token_stream(),
        None => quote!("/"),
    };
    let bindings = bound.iter().map(binding);
    let on_setup = hooks.0.as_ref().map(|h| hook_fn(h, quote!(on_setup)));
    let on_teardown = hooks.1.as_ref().map(|h| hook_fn(h, quote!(on_teardown)));
    quote! {
        impl ::specter::Handler for #self_ty {
            fn name(&self) -> &str {
                #name
            }
            fn namespace(&self) -> &str {
                #namespace
            }
            fn source(&self) -> ::specter::Source {
                ::specter::Source { file: ::core::file!(), line: ::core::line!() }
            }
            fn bindings(self: ::specter::__private::Arc<Self>) -> ::specter::__private::Vec<::specter::Binding> {
                ::std::vec![#(#bindings),*]
            }
            #on_setup
            #on_teardown
        }
    }
}

/// One `Binding`: extracts each argument (an error lands on the argument's type),
/// calls the method, and turns its return value into an outcome (an error lands on the
/// return type).
fn binding(b: &Bound) -> TokenStream {
    let Bound {
        method,
        event,
        priority,
        is_async,
        args,
        output,
    } = b;
    let names: Vec<_> = (0..args.len())
        .map(|i| format_ident!("__specter_arg{i}"))
        .collect();
    let extract = args.iter().zip(&names).map(|(ty, name)| {
        quote_spanned! {ty.span()=>
            let #name = match <#ty as ::specter::FromEvent>::from_event(&mut __ctx) {
                ::core::result::Result::Ok(v) => v,
                ::core::result::Result::Err(e) => return ::specter::Call::invalid(e),
            };
        }
    });
    let kinds = args
        .iter()
        .map(|ty| quote_spanned!(ty.span()=> .and(<#ty as ::specter::FromEvent>::KINDS)));
    // Named through the return type when there is one, so a type that cannot be an ack
    // is reported on it.
    let into_outcome = match output {
        Some(ty) if !matches!(ty, Type::ImplTrait(_)) => {
            quote_spanned!(ty.span()=> <#ty as ::specter::__private::IntoOutcome>::into_outcome)
        }
        _ => quote!(::specter::__private::IntoOutcome::into_outcome),
    };
    let call = if *is_async {
        quote! {
            let __this = __this.clone();
            ::specter::Call::Pending(::specter::__private::Box::pin(async move {
                #into_outcome(__this.#method(#(#names),*).await)
            }))
        }
    } else {
        quote!(::specter::Call::Ready(#into_outcome(__this.#method(#(#names),*))))
    };
    let line = quote_spanned!(method.span()=> ::core::line!());
    quote! {
        ::specter::Binding {
            event: ::std::borrow::Cow::Borrowed(#event),
            priority: #priority,
            source: ::specter::Source { file: ::core::file!(), line: #line },
            subscriber: {
                let __this = self.clone();
                ::specter::Subscriber::new(
                    ::specter::EventKinds::ALL #(#kinds)*,
                    move |mut __ctx: ::specter::EventCtx<'_>| {
                        let _ = &mut __ctx;
                        #(#extract)*
                        #call
                    },
                )
            },
        }
    }
}

fn hook_fn(h: &Hook, name: TokenStream) -> TokenStream {
    let method = &h.method;
    let arg = h.takes_lifecycle.then(|| quote!(__lifecycle));
    let call = if h.is_async {
        quote!(self.#method(#arg).await)
    } else {
        quote!(self.#method(#arg))
    };
    let out_span = h.output.as_ref().map_or(method.span(), Spanned::span);
    let into = quote_spanned!(out_span=> ::specter::__private::IntoHookResult::into_hook_result);
    quote! {
        fn #name<'__a>(&'__a self, __lifecycle: &'__a ::specter::Lifecycle) -> ::specter::HookFuture<'__a> {
            let _ = __lifecycle;
            ::specter::__private::Box::pin(async move { #into(#call) })
        }
    }
}

fn registration(attr: &HandlerAttr, self_ty: &Type) -> TokenStream {
    if attr.discover.as_ref().is_some_and(|d| !d.value) {
        return TokenStream::new();
    }
    let name = attr.name.as_ref().expect("checked");
    let namespace = match &attr.namespace {
        Some(ns) => ns.to_token_stream(),
        None => quote!("/"),
    };
    let construct = quote_spanned!(self_ty.span()=> ::specter::__private::construct::<#self_ty>);
    quote! {
        ::specter::__private::inventory::submit! {
            ::specter::__private::Registration {
                name: #name,
                kind: ::specter::__private::ComponentKind::Handler,
                namespace: #namespace,
                source: ::specter::Source { file: ::core::file!(), line: ::core::line!() },
                construct: ::specter::__private::Construct::Handler(#construct),
            }
        }
    }
}
