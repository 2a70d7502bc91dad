//! Every rule a `#[handler]` impl block must follow, each reported with its own spanned
//! error.

use std::collections::HashMap;

use syn::{FnArg, ItemImpl, LitStr, Signature};

use crate::ctxt::Ctxt;

/// The impl block is inherent and not generic (its registration is a static item,
/// which cannot name the impl's generic parameters).
pub fn impl_block(cx: &mut Ctxt, item: &ItemImpl) {
    if let Some((_, path, _)) = &item.trait_ {
        cx.error(
            path,
            "`#[handler]` goes on an inherent impl block (`impl MyHandler { .. }`), not on a trait impl",
        );
    }
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        cx.error(
            &item.generics,
            "a `#[handler]` impl block cannot be generic: handlers are registered as statics, \
             which cannot name the impl's generic parameters; write the impl for a concrete type",
        );
    }
}

/// The method takes `&self` first and has no generic parameters. Returns whether the
/// receiver is right.
pub fn method_signature(cx: &mut Ctxt, sig: &Signature, what: &str) -> bool {
    if !sig.generics.params.is_empty() {
        cx.error(&sig.generics, format_args!("{what} cannot be generic"));
    }
    match sig.inputs.first() {
        Some(FnArg::Receiver(r))
            if r.reference.is_some() && r.mutability.is_none() && r.colon_token.is_none() =>
        {
            true
        }
        Some(FnArg::Receiver(r)) => {
            cx.error(
                r,
                format_args!("{what} takes `&self`: the handler is shared by every socket"),
            );
            false
        }
        _ => {
            cx.error(
                &sig.ident,
                format_args!("{what} takes `&self` as its first argument"),
            );
            false
        }
    }
}

/// An event is bound once per handler.
#[derive(Default)]
pub struct SeenEvents(HashMap<String, String>);

impl SeenEvents {
    pub fn check(&mut self, cx: &mut Ctxt, event: &LitStr, method: &syn::Ident) {
        if let Some(first) = self.0.get(&event.value()) {
            cx.error(
                event,
                format_args!(
                    "event {:?} is already bound by `{first}` in this handler; \
                     bind it once, or use two handlers to fan it out",
                    event.value()
                ),
            );
        } else {
            self.0.insert(event.value(), method.to_string());
        }
    }
}
