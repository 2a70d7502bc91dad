//! Parses the options of `#[handler(...)]`, `#[controller(...)]` and `#[on(...)]`,
//! keeping each value's span so an error about it points at it.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::{ParseStream, Parser};
use syn::{Expr, Ident, LitBool, LitStr, Token};

use crate::ctxt::Ctxt;

/// The options of `#[handler]` and `#[controller]`: one parser, each macro names the
/// keys it takes.
#[derive(Default)]
pub struct Options {
    pub name: Option<LitStr>,
    pub namespace: Option<LitStr>,
    pub route: Option<LitStr>,
    pub discover: Option<LitBool>,
    pub krate: Option<syn::Path>,
    /// Guards of every event of a handler, in order.
    pub guards: Vec<Expr>,
}

/// Which macro is parsing: its name, the keys it takes, and an example of its use.
pub struct Macro {
    pub name: &'static str,
    pub keys: &'static [&'static str],
    pub example: &'static str,
}

pub const HANDLER: Macro = Macro {
    name: "handler",
    keys: &["name", "namespace", "discover", "crate", "guard"],
    example: "#[handler(name = \"presence\")]",
};

pub const CONTROLLER: Macro = Macro {
    name: "controller",
    keys: &["name", "route", "namespace", "discover", "crate", "guard"],
    example: "#[controller(name = \"chat\", route = \"/chat\")]",
};

impl Options {
    /// Parses `tokens` (the inside of the attribute's parentheses) into `self`.
    pub fn parse_into(&mut self, cx: &mut Ctxt, which: &Macro, tokens: TokenStream) {
        let parser = syn::meta::parser(|meta| {
            let key = path_text(&meta.path);
            if !which.keys.contains(&key.as_str()) {
                if meta.input.peek(Token![=]) {
                    meta.value()?.parse::<Expr>()?;
                }
                let keys = which
                    .keys
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>();
                cx.error(
                    &meta.path,
                    format_args!(
                        "unknown option `{key}`; `#[{}]` takes {}",
                        which.name,
                        keys.join(", ")
                    ),
                );
                return Ok(());
            }
            let taken = match key.as_str() {
                "name" => set(&mut self.name, meta.value()?.parse()?),
                "namespace" => set(&mut self.namespace, meta.value()?.parse()?),
                "route" => set(&mut self.route, meta.value()?.parse()?),
                "discover" => set(&mut self.discover, meta.value()?.parse()?),
                "guard" => {
                    self.guards.push(meta.value()?.parse()?);
                    false
                }
                _ => {
                    let lit: LitStr = meta.value()?.parse()?;
                    set(&mut self.krate, lit.parse()?)
                }
            };
            if taken {
                cx.error(&meta.path, format_args!("`{key}` set multiple times"));
            }
            Ok(())
        });
        if let Err(e) = parser.parse2(tokens) {
            cx.push(e);
        }
    }

    /// Checks what every macro requires: a name; paths that start with `/`.
    pub fn check(&self, cx: &mut Ctxt, which: &Macro) {
        if self.name.is_none() {
            cx.push(syn::Error::new(
                Span::call_site(),
                format_args!("`#[{}]` needs a name: `{}`", which.name, which.example),
            ));
        }
        for lit in [&self.route, &self.namespace].into_iter().flatten() {
            if !lit.value().starts_with('/') {
                cx.error(lit, "a route or namespace starts with `/`, like \"/chat\"");
            }
        }
    }

    /// The path generated code names the runtime crate by: `crate = "..."`, else
    /// `::specter`.
    pub fn krate(&self) -> TokenStream {
        match &self.krate {
            Some(path) => quote!(#path),
            None => quote!(::specter),
        }
    }

    /// Whether the type is submitted for discovery (`discover = false` opts out).
    pub fn discovered(&self) -> bool {
        self.discover.as_ref().is_none_or(|d| d.value)
    }
}

/// `#[on("event", priority = EXPR, concurrent, timeout = "5s", guard = f)]`, or
/// `#[on(any, ..)]` for a catch-all subscriber. Timeouts and rates are checked by the
/// runtime's `const fn`s, in the generated code, as event names are.
pub struct OnAttr {
    /// The event; `None` for `any`.
    pub event: Option<LitStr>,
    pub priority: Option<Expr>,
    pub concurrent: Option<Ident>,
    /// The timeout: a `&str` constant such as `"5s"`.
    pub timeout: Option<Expr>,
    /// Guards of this event, in order (`guard` may repeat).
    pub guards: Vec<Expr>,
    /// The rate limit: a `&str` constant such as `"10/s"`.
    pub rate: Option<Expr>,
}

const ON_KEYS: &str = "`priority`, `concurrent`, `timeout`, `rate` and `guard`";

impl OnAttr {
    /// Parses the attribute's arguments: the event, then its options as nested meta;
    /// `None` when the event is missing.
    pub fn parse(cx: &mut Ctxt, attr: &syn::Attribute) -> Option<Self> {
        let syn::Meta::List(list) = &attr.meta else {
            cx.error(
                attr,
                "expected `#[on(\"event\")]` or `#[on(\"event\", priority = N)]`",
            );
            return None;
        };
        let head = |input: ParseStream| -> syn::Result<(Option<LitStr>, TokenStream)> {
            let event = if input.peek(Ident) && input.fork().parse::<Ident>()? == "any" {
                input.parse::<Ident>()?;
                None
            } else {
                Some(input.parse().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "expected the event name as a string literal, or `any`: `#[on(\"event\")]`, `#[on(any)]`",
                    )
                })?)
            };
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
            Ok((event, input.parse()?))
        };
        let (event, options) = match head.parse2(list.tokens.clone()) {
            Ok(parsed) => parsed,
            Err(e) => {
                cx.push(e);
                return None;
            }
        };
        let mut on = OnAttr {
            event,
            priority: None,
            concurrent: None,
            timeout: None,
            guards: Vec::new(),
            rate: None,
        };
        let parser = syn::meta::parser(|meta| {
            let key = path_text(&meta.path);
            let has_value = meta.input.peek(Token![=]);
            let needs = |example: &str| format!("`{key}` needs a value: `{example}`");
            let taken = match (key.as_str(), has_value) {
                ("priority", true) => set(&mut on.priority, meta.value()?.parse()?),
                ("timeout", true) => set(&mut on.timeout, meta.value()?.parse()?),
                ("rate", true) => set(&mut on.rate, meta.value()?.parse()?),
                ("guard", true) => {
                    on.guards.push(meta.value()?.parse()?);
                    false
                }
                ("concurrent", false) => {
                    let flag = meta.path.require_ident()?.clone();
                    set(&mut on.concurrent, flag)
                }
                ("concurrent", true) => {
                    let value: Expr = meta.value()?.parse()?;
                    cx.error(
                        &value,
                        "`concurrent` is a flag: write `concurrent`, without a value",
                    );
                    false
                }
                ("priority", false) => missing(cx, &meta.path, needs("priority = 10")),
                ("timeout", false) => missing(cx, &meta.path, needs("timeout = \"5s\"")),
                ("rate", false) => missing(cx, &meta.path, needs("rate = \"10/s\"")),
                ("guard", false) => missing(
                    cx,
                    &meta.path,
                    "`guard` needs a function: `guard = admins_only`".into(),
                ),
                ("any", _) => {
                    if has_value {
                        meta.value()?.parse::<Expr>()?;
                    }
                    missing(
                        cx,
                        &meta.path,
                        "`any` stands instead of the event name: `#[on(any)]` takes every event"
                            .into(),
                    )
                }
                (other, _) => {
                    if has_value {
                        meta.value()?.parse::<Expr>()?;
                    }
                    cx.error(
                        &meta.path,
                        format_args!("unknown option `{other}`; `#[on]` takes {ON_KEYS}"),
                    );
                    false
                }
            };
            if taken {
                cx.error(&meta.path, format_args!("`{key}` set multiple times"));
            }
            Ok(())
        });
        if let Err(e) = parser.parse2(options) {
            cx.push(e);
        }
        Some(on)
    }
}

/// Whether an attribute is `#[on(..)]` however its path is written: `on`,
/// `specter::on`, `my_renamed_specter::on`.
pub fn is_on(attr: &syn::Attribute) -> bool {
    attr.path().segments.last().is_some_and(|s| s.ident == "on")
}

/// Reports what an option lacks; never a repeated option.
fn missing(cx: &mut Ctxt, path: &syn::Path, message: String) -> bool {
    cx.error(path, message);
    false
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
    quote!(#path).to_string().replace(' ', "")
}
