//! The signature records of the contract: for a method, the payload types its
//! extractors read and the type it answers with, submitted to the runtime's registry
//! under the method's path (`#[handler]` for its `#[on]` methods, `#[describe]` for
//! every method of an impl block).

use proc_macro2::TokenStream;
use quote::quote;
use syn::{GenericArgument, PathArguments, ReturnType, Type};

/// The payload extractors: `Data<T>`, `SharedData<T>`, `Valid<T>`, `TryData<T>`.
const PAYLOADS: [&str; 4] = ["Data", "SharedData", "Valid", "TryData"];

/// `Type` as text without the spaces `quote` puts in: `Vec<ChatMessage>`.
pub fn type_text(ty: &Type) -> String {
    quote!(#ty).to_string().replace(' ', "")
}

/// The first type argument of `ty` when its last segment is one of `names`.
fn inner<'a>(ty: &'a Type, names: &[&str]) -> Option<&'a Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if !names.contains(&last.ident.to_string().as_str()) {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

fn last_ident(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// The arguments a payload type stands for: a tuple `(A, B)` is the argument list
/// (socketioxide's rule), anything else the first argument.
fn positions(ty: &Type) -> Vec<&Type> {
    match ty {
        Type::Tuple(t) if !t.elems.is_empty() => t.elems.iter().collect(),
        Type::Paren(p) => positions(&p.elem),
        _ => vec![ty],
    }
}

/// The type of the value a return type answers with: `Result<T, E>`, `Option<T>` and
/// `Ack<T>` answer with `T`; `()`, `Reject` and `impl ..` answer with none.
fn ack_type(ty: &Type) -> Option<&Type> {
    match ty {
        Type::Tuple(t) if t.elems.is_empty() => None,
        Type::ImplTrait(_) | Type::Infer(_) | Type::Never(_) => None,
        Type::Paren(p) => ack_type(&p.elem),
        _ => match last_ident(ty).as_deref() {
            Some("Result" | "Option") => inner(ty, &["Result", "Option"]).and_then(ack_type),
            Some("Ack" | "Spread") => inner(ty, &["Ack", "Spread"]),
            Some("Reject") => None,
            _ => Some(ty),
        },
    }
}

/// Whether `ty` names `Self` (which a static cannot).
fn mentions_self(ty: &Type) -> bool {
    quote!(#ty).into_iter().any(|t| t.to_string() == "Self")
}

/// `TypeInfo` of `ty`, with its schema when it has one.
fn type_info(krate: &TokenStream, ty: &Type) -> TokenStream {
    let name = type_text(ty);
    if mentions_self(ty) {
        return quote!(#krate::__private::TypeInfo { name: #name, schema: ::core::option::Option::None });
    }
    quote!((&#krate::__private::Probe::<#ty>::new()).type_info(#name))
}

/// The registration of one method's signature, for a module-level position.
pub fn described(
    krate: &TokenStream,
    self_ty: &Type,
    of_trait: Option<&syn::Path>,
    method: &syn::Ident,
    args: &[Type],
    output: Option<&Type>,
) -> TokenStream {
    let read: Vec<Vec<&Type>> = args
        .iter()
        .filter_map(|a| inner(a, &PAYLOADS))
        .map(positions)
        .collect();
    let payloads = read.iter().map(|p| type_info(krate, p[0]));
    // The arguments after the first, of the extractor that reads the most.
    let rest: Vec<TokenStream> = read
        .iter()
        .max_by_key(|p| p.len())
        .map(|p| p[1..].iter().map(|t| type_info(krate, t)).collect())
        .unwrap_or_default();
    // `Spread<(A, B)>` answers with several arguments.
    let spread = output.is_some_and(|o| {
        fn unwrap(ty: &Type) -> Option<&Type> {
            match last_ident(ty).as_deref() {
                Some("Result" | "Option") => inner(ty, &["Result", "Option"]).and_then(unwrap),
                Some("Spread") => Some(ty),
                _ => None,
            }
        }
        unwrap(o).is_some()
    });
    let answered = output
        .and_then(ack_type)
        .map(|t| if spread { positions(t) } else { vec![t] });
    let (ack, ack_rest): (TokenStream, Vec<TokenStream>) = match &answered {
        Some(p) => {
            let info = type_info(krate, p[0]);
            (
                quote!(::core::option::Option::Some(#info)),
                p[1..].iter().map(|t| type_info(krate, t)).collect(),
            )
        }
        None => (quote!(::core::option::Option::None), Vec::new()),
    };
    let of_trait = of_trait.into_iter();
    quote! {
        #krate::__private::inventory::submit! {
            #krate::__private::Described {
                id: || #krate::__private::id_of(&<#self_ty #(as #of_trait)*>::#method),
                describe: || {
                    #[allow(unused_imports)]
                    use #krate::__private::{ViaAny as _, ViaSchema as _};
                    #krate::__private::Signature {
                        payloads: #krate::__private::Vec::from([#(#payloads),*]),
                        rest: #krate::__private::Vec::from([#(#rest),*]),
                        ack: #ack,
                        ack_rest: #krate::__private::Vec::from([#(#ack_rest),*]),
                    }
                },
            }
        }
    }
}

/// The arguments' and output's types of a method.
pub fn parts(sig: &syn::Signature) -> (Vec<Type>, Option<Type>) {
    let args = sig
        .inputs
        .iter()
        .filter_map(|a| match a {
            syn::FnArg::Typed(t) => Some((*t.ty).clone()),
            syn::FnArg::Receiver(_) => None,
        })
        .collect();
    let output = match &sig.output {
        ReturnType::Default => None,
        ReturnType::Type(_, ty) => Some((**ty).clone()),
    };
    (args, output)
}
