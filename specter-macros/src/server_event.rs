//! Expansion of `#[derive(ServerEvent)]` and `#[derive(NodeEvent)]`: the trait's impl
//! with the event's name, the compile-time check of the name, and the record of the
//! contract. A node event is declared as a server event is, without the options that
//! speak of clients (`namespace`, `answer`).

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::Parser;
use syn::{DeriveInput, LitStr, Token};

use crate::expand;

/// Which derive: a server event (to clients) or a node event (to the app's other nodes).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Server,
    Node,
}

impl Kind {
    fn what(self) -> &'static str {
        match self {
            Kind::Server => "a server event",
            Kind::Node => "a node event",
        }
    }
}

pub fn expand(input: TokenStream, kind: Kind) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    let what = kind.what();
    let Some(attr) = input.attrs.iter().find(|a| a.path().is_ident("event")) else {
        return syn::Error::new_spanned(
            &input.ident,
            format!("{what} needs its name: `#[event(\"message\")]`"),
        )
        .to_compile_error();
    };
    let mut namespaces: Vec<LitStr> = Vec::new();
    let mut krate: Option<syn::Path> = None;
    let mut answer: Option<syn::Type> = None;
    let parser = |stream: syn::parse::ParseStream| -> syn::Result<LitStr> {
        let name: LitStr = stream.parse()?;
        while !stream.is_empty() {
            stream.parse::<Token![,]>()?;
            if stream.is_empty() {
                break;
            }
            let key: syn::Ident = if stream.peek(Token![crate]) {
                let k: Token![crate] = stream.parse()?;
                syn::Ident::new("crate", k.span)
            } else {
                stream.parse()?
            };
            stream.parse::<Token![=]>()?;
            if kind == Kind::Node && key != "crate" {
                return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "unknown option `{key}`; a node event's `#[event]` takes the name and `crate`"
                    ),
                ));
            }
            if key == "answer" {
                if answer.is_some() {
                    return Err(syn::Error::new(key.span(), "`answer` set multiple times"));
                }
                answer = Some(stream.parse()?);
                continue;
            }
            let value: LitStr = stream.parse()?;
            match key.to_string().as_str() {
                "namespace" => {
                    if !value.value().starts_with('/') {
                        return Err(syn::Error::new(
                            value.span(),
                            "a namespace starts with `/`: `namespace = \"/chat\"`",
                        ));
                    }
                    namespaces.push(value);
                }
                "crate" => krate = Some(value.parse()?),
                other => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!(
                            "unknown option `{other}`; `#[event]` takes the name, `namespace`, `answer` and `crate`"
                        ),
                    ));
                }
            }
        }
        Ok(name)
    };
    let tokens = match &attr.meta {
        syn::Meta::List(list) => list.tokens.clone(),
        _ => {
            return syn::Error::new_spanned(attr, "expected `#[event(\"name\")]`")
                .to_compile_error();
        }
    };
    let name = match parser.parse2(tokens) {
        Ok(name) => name,
        Err(e) => return e.to_compile_error(),
    };
    if !input.generics.params.is_empty() {
        return syn::Error::new_spanned(
            &input.generics,
            format!("{what} cannot be generic: its record is a static"),
        )
        .to_compile_error();
    }
    let krate = krate.map_or_else(|| quote!(::specter), |p| quote!(#p));
    let ident = &input.ident;
    let type_name = ident.to_string();
    let check = expand::event_name_check(&krate, &name);
    let source = expand::source(&krate);
    let describe = quote! {
        describe: || {
            #[allow(unused_imports)]
            use #krate::__private::{ViaAny as _, ViaSchema as _};
            (&#krate::__private::Probe::<#ident>::new()).type_info(#type_name)
        },
    };
    if kind == Kind::Node {
        return quote! {
            impl #krate::NodeEvent for #ident {
                const NAME: &'static str = #name;
            }
            #check
            #krate::__private::inventory::submit! {
                #krate::__private::NodeEventInfo {
                    name: #name,
                    source: #source,
                    #describe
                }
            }
        };
    }
    let (asks, answer_info) = match &answer {
        Some(answer) => (
            quote! {
                impl #krate::Asks for #ident {
                    type Answer = #answer;
                }
            },
            quote! {
                ::core::option::Option::Some(|| {
                    #[allow(unused_imports)]
                    use #krate::__private::{ViaAny as _, ViaSchema as _};
                    (&#krate::__private::Probe::<#answer>::new()).type_info(stringify!(#answer))
                })
            },
        ),
        None => (quote!(), quote!(::core::option::Option::None)),
    };
    quote! {
        impl #krate::ServerEvent for #ident {
            const NAME: &'static str = #name;
        }
        #asks
        #check
        #krate::__private::inventory::submit! {
            #krate::__private::ServerEventInfo {
                name: #name,
                namespaces: &[#(#namespaces),*],
                source: #source,
                answer: #answer_info,
                #describe
            }
        }
    }
}
