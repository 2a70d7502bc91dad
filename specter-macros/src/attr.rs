//! Parses the options of `#[handler(...)]` and `#[on(...)]`, keeping each value's span so
//! an error about it points at it.

use proc_macro2::{Span, TokenStream};
use syn::parse::{ParseStream, Parser};
use syn::{Expr, ExprLit, ExprUnary, Ident, Lit, LitBool, LitStr, Token, UnOp};

use crate::ctxt::Ctxt;

/// `#[handler(name = "...", namespace = "/...", discover = false)]`
#[derive(Default)]
pub struct HandlerAttr {
    pub name: Option<LitStr>,
    pub namespace: Option<LitStr>,
    pub discover: Option<LitBool>,
}

impl HandlerAttr {
    pub fn parse(cx: &mut Ctxt, tokens: TokenStream) -> Self {
        let mut attr = HandlerAttr::default();
        let parser = syn::meta::parser(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(Ident::to_string)
                .unwrap_or_default();
            let slot_taken = match key.as_str() {
                "name" => set(&mut attr.name, meta.value()?.parse()?),
                "namespace" => set(&mut attr.namespace, meta.value()?.parse()?),
                "discover" => set(&mut attr.discover, meta.value()?.parse()?),
                _ => unknown(
                    cx,
                    &meta,
                    "`#[handler]` takes `name`, `namespace` and `discover`",
                )?,
            };
            if slot_taken {
                cx.error(&meta.path, format_args!("`{key}` set multiple times"));
            }
            Ok(())
        });
        if let Err(e) = parser.parse2(tokens) {
            cx.push(e);
        }
        if attr.name.is_none() {
            cx.push(syn::Error::new(
                Span::call_site(),
                "`#[handler]` needs a name: `#[handler(name = \"presence\")]`",
            ));
        }
        if let Some(ns) = &attr.namespace {
            if !ns.value().starts_with('/') {
                cx.error(ns, "a namespace starts with `/`, like \"/admin\"");
            }
        }
        attr
    }
}

/// `#[controller(name = "...", route = "/...", namespace = "/...", discover = false)]`
#[derive(Default)]
pub struct ControllerAttr {
    pub name: Option<LitStr>,
    pub route: Option<LitStr>,
    pub namespace: Option<LitStr>,
    pub discover: Option<LitBool>,
}

impl ControllerAttr {
    pub fn parse(cx: &mut Ctxt, attrs: &[syn::Attribute]) -> Self {
        let mut attr = ControllerAttr::default();
        let mut found = false;
        for a in attrs.iter().filter(|a| a.path().is_ident("controller")) {
            found = true;
            let result = a.parse_nested_meta(|meta| {
                let key = meta
                    .path
                    .get_ident()
                    .map(Ident::to_string)
                    .unwrap_or_default();
                let taken = match key.as_str() {
                    "name" => set(&mut attr.name, meta.value()?.parse()?),
                    "route" => set(&mut attr.route, meta.value()?.parse()?),
                    "namespace" => set(&mut attr.namespace, meta.value()?.parse()?),
                    "discover" => set(&mut attr.discover, meta.value()?.parse()?),
                    _ => unknown(
                        cx,
                        &meta,
                        "`#[controller]` takes `name`, `route`, `namespace` and `discover`",
                    )?,
                };
                if taken {
                    cx.error(&meta.path, format_args!("`{key}` set multiple times"));
                }
                Ok(())
            });
            if let Err(e) = result {
                cx.push(e);
            }
        }
        if !found || attr.name.is_none() {
            cx.push(syn::Error::new(
                Span::call_site(),
                "`#[derive(Controller)]` needs a name: `#[controller(name = \"chat\", route = \"/chat\")]`",
            ));
        }
        for lit in [&attr.route, &attr.namespace].into_iter().flatten() {
            if !lit.value().starts_with('/') {
                cx.error(lit, "a route or namespace starts with `/`, like \"/chat\"");
            }
        }
        attr
    }
}

/// `#[on("event", priority = N)]`
pub struct OnAttr {
    pub event: LitStr,
    pub priority: Option<(i32, Expr)>,
}

impl OnAttr {
    /// Parses the attribute's arguments; `None` when the event name is missing.
    pub fn parse(cx: &mut Ctxt, attr: &syn::Attribute) -> Option<Self> {
        let parser = |input: ParseStream| -> syn::Result<Option<OnAttr>> {
            let event: LitStr = input.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected the event name as a string literal: `#[on(\"event\")]`",
                )
            })?;
            let mut priority: Option<(i32, Expr)> = None;
            while !input.is_empty() {
                input.parse::<Token![,]>()?;
                if input.is_empty() {
                    break;
                }
                let key: Ident = input.parse()?;
                input.parse::<Token![=]>()?;
                let value: Expr = input.parse()?;
                match key.to_string().as_str() {
                    "priority" => {
                        if priority.is_some() {
                            cx.error(&key, "`priority` set multiple times");
                        } else if let Some(p) = int_literal(cx, &value) {
                            priority = Some((p, value));
                        }
                    }
                    other => cx.error(
                        &key,
                        format_args!("unknown option `{other}`; `#[on]` takes `priority`"),
                    ),
                }
            }
            Ok(Some(OnAttr { event, priority }))
        };
        let tokens = match &attr.meta {
            syn::Meta::List(list) => list.tokens.clone(),
            _ => {
                cx.error(
                    attr,
                    "expected `#[on(\"event\")]` or `#[on(\"event\", priority = N)]`",
                );
                return None;
            }
        };
        match parser.parse2(tokens) {
            Ok(on) => on,
            Err(e) => {
                cx.push(e);
                None
            }
        }
    }
}

/// An `i32` from `N` or `-N`; an error spanned on the value otherwise.
fn int_literal(cx: &mut Ctxt, value: &Expr) -> Option<i32> {
    // A literal passed through a `macro_rules!` fragment arrives in an invisible group.
    let mut value = value;
    while let Expr::Group(g) = value {
        value = &g.expr;
    }
    let (lit, negative) = match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(lit), ..
        }) => (lit, false),
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) => match &**expr {
            Expr::Lit(ExprLit {
                lit: Lit::Int(lit), ..
            }) => (lit, true),
            _ => {
                cx.error(
                    value,
                    "priority must be an integer literal, like `10` or `-5`",
                );
                return None;
            }
        },
        _ => {
            cx.error(
                value,
                "priority must be an integer literal, like `10` or `-5`",
            );
            return None;
        }
    };
    let text = if negative {
        format!("-{}", lit.base10_digits())
    } else {
        lit.base10_digits().to_owned()
    };
    match text.parse::<i32>() {
        Ok(p) => Some(p),
        Err(_) => {
            cx.error(value, "priority must fit in an `i32`");
            None
        }
    }
}

/// Reports an unknown option (skipping its value); returns false: no slot was taken.
fn unknown(cx: &mut Ctxt, meta: &syn::meta::ParseNestedMeta, expected: &str) -> syn::Result<bool> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<Expr>()?;
    }
    let key = path_text(&meta.path);
    cx.error(
        &meta.path,
        format_args!("unknown option `{key}`; {expected}"),
    );
    Ok(false)
}

/// Stores `value` in `slot`; true when the slot was already taken.
fn set<T>(slot: &mut Option<T>, value: T) -> bool {
    let taken = slot.is_some();
    if !taken {
        *slot = Some(value);
    }
    taken
}

fn path_text(path: &syn::Path) -> String {
    quote::quote!(#path).to_string().replace(' ', "")
}
