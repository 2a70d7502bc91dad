//! Expansion of `#[describe]`: the contract's record of every method of an impl block,
//! the block left as written (also after an error, so the rest of the file still
//! type-checks).

use proc_macro2::{Span, TokenStream};
use quote::quote;

use crate::signature;

pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let krate = match krate(attr) {
        Ok(krate) => krate,
        Err(e) => {
            let e = e.to_compile_error();
            return quote!(#item #e);
        }
    };
    let parsed: syn::ItemImpl = match syn::parse2(item.clone()) {
        Ok(i) => i,
        Err(_) => {
            let e = syn::Error::new(Span::call_site(), "`#[describe]` goes on an impl block")
                .to_compile_error();
            return quote!(#item #e);
        }
    };
    let records = parsed.items.iter().filter_map(|it| match it {
        // A method generic over types has no one function item to key its record by.
        syn::ImplItem::Fn(f)
            if f.sig.receiver().is_some()
                && parsed.generics.params.is_empty()
                && f.sig.generics.type_params().next().is_none()
                && f.sig.generics.const_params().next().is_none() =>
        {
            let (args, output) = signature::parts(&f.sig);
            // `impl Trait` arguments are type parameters too.
            if args.iter().any(|t| matches!(t, syn::Type::ImplTrait(_))) {
                return None;
            }
            Some(signature::described(
                &krate,
                &parsed.self_ty,
                parsed.trait_.as_ref().map(|(_, path, _)| path),
                &f.sig.ident,
                &args,
                output.as_ref(),
            ))
        }
        _ => None,
    });
    quote!(#item #(#records)*)
}

/// The runtime's path: `crate = "path"`, else `::specter`.
fn krate(attr: TokenStream) -> syn::Result<TokenStream> {
    if attr.is_empty() {
        return Ok(quote!(::specter));
    }
    let nv = syn::parse2::<syn::MetaNameValue>(attr)?;
    if !nv.path.is_ident("crate") {
        return Err(syn::Error::new_spanned(
            nv.path,
            "`#[describe]` takes only `crate = \"path\"`",
        ));
    }
    match &nv.value {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => {
            let path: syn::Path = s.parse()?;
            Ok(quote!(#path))
        }
        other => Err(syn::Error::new_spanned(
            other,
            "expected `crate = \"path\"`",
        )),
    }
}
