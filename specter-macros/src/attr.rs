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
/// `#[on(any, ..)]` for a catch-all subscriber.
pub struct OnAttr {
    /// The event; `None` for `any`.
    pub event: Option<LitStr>,
    pub priority: Option<Expr>,
    pub concurrent: Option<Ident>,
    /// The timeout in milliseconds, spanned on its literal.
    pub timeout: Option<(u64, LitStr)>,
    /// Guards of this event, in order (`guard` may repeat).
    pub guards: Vec<Expr>,
    /// The rate limit (count, period in milliseconds), spanned on its literal.
    pub rate: Option<(u32, u64, LitStr)>,
}

impl OnAttr {
    /// Parses the attribute's arguments; `None` when the event name is missing.
    pub fn parse(cx: &mut Ctxt, attr: &syn::Attribute) -> Option<Self> {
        let parser = |input: ParseStream| -> syn::Result<OnAttr> {
            let event: Option<LitStr> = if input.peek(Ident)
                && input.fork().parse::<Ident>()? == "any"
            {
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
            let mut priority: Option<Expr> = None;
            let mut concurrent: Option<Ident> = None;
            let mut timeout: Option<(u64, LitStr)> = None;
            let mut guards: Vec<Expr> = Vec::new();
            let mut rate: Option<(u32, u64, LitStr)> = None;
            while !input.is_empty() {
                input.parse::<Token![,]>()?;
                if input.is_empty() {
                    break;
                }
                let key: Ident = input.parse()?;
                let value: Option<Expr> = if input.peek(Token![=]) {
                    input.parse::<Token![=]>()?;
                    Some(input.parse()?)
                } else {
                    None
                };
                let taken = match (key.to_string().as_str(), value) {
                    ("priority", Some(value)) => set(&mut priority, value),
                    ("priority", None) => {
                        cx.error(&key, "`priority` needs a value: `priority = 10`");
                        false
                    }
                    ("concurrent", None) => set(&mut concurrent, key.clone()),
                    ("timeout", Some(value)) => match duration_millis(&value) {
                        Ok(ms) => set(&mut timeout, ms),
                        Err(()) => {
                            cx.error(
                                &value,
                                "timeout is a duration like \"250ms\", \"5s\" or \"1m\"",
                            );
                            false
                        }
                    },
                    ("guard", Some(value)) => {
                        guards.push(value);
                        false
                    }
                    ("rate", Some(value)) => match rate_of(&value) {
                        Some(r) => set(&mut rate, r),
                        None => {
                            cx.error(
                                &value,
                                "rate is COUNT/PERIOD with COUNT > 0 and PERIOD `s`, `m`, `h` or a duration such as `10s` or `500ms`: \"10/s\"",
                            );
                            false
                        }
                    },
                    ("rate", None) => {
                        cx.error(&key, "`rate` needs a value: `rate = \"10/s\"`");
                        false
                    }
                    ("any", None) => {
                        cx.error(
                            &key,
                            "`any` stands instead of the event name: `#[on(any)]` takes every event",
                        );
                        false
                    }
                    ("guard", None) => {
                        cx.error(&key, "`guard` needs a function: `guard = admins_only`");
                        false
                    }
                    ("timeout", None) => {
                        cx.error(&key, "`timeout` needs a value: `timeout = \"5s\"`");
                        false
                    }
                    ("concurrent", Some(value)) => {
                        cx.error(
                            &value,
                            "`concurrent` is a flag: write `concurrent`, without a value",
                        );
                        false
                    }
                    (other, _) => {
                        cx.error(
                            &key,
                            format_args!("unknown option `{other}`; `#[on]` takes `priority`, `concurrent`, `timeout`, `rate` and `guard`"),
                        );
                        false
                    }
                };
                if taken {
                    cx.error(&key, format_args!("`{key}` set multiple times"));
                }
            }
            Ok(OnAttr {
                event,
                priority,
                concurrent,
                timeout,
                guards,
                rate,
            })
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
            Ok(on) => Some(on),
            Err(e) => {
                cx.push(e);
                None
            }
        }
    }
}

/// The string literal `value` is, if it is one.
fn lit_str(value: &Expr) -> Option<&LitStr> {
    match value {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(lit),
            ..
        }) => Some(lit),
        _ => None,
    }
}

/// `"250ms"`, `"5s"`, `"1m"`, `"1h"` as milliseconds above zero.
fn millis(text: &str) -> Option<u64> {
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let n: u64 = digits.parse().ok()?;
    let ms = match &text[digits.len()..] {
        "ms" => n,
        "s" => n.checked_mul(1000)?,
        "m" => n.checked_mul(60_000)?,
        "h" => n.checked_mul(3_600_000)?,
        _ => return None,
    };
    (ms > 0).then_some(ms)
}

/// A timeout literal as milliseconds, with the literal for spans.
fn duration_millis(value: &Expr) -> Result<(u64, LitStr), ()> {
    let lit = lit_str(value).ok_or(())?;
    let ms = millis(&lit.value()).ok_or(())?;
    Ok((ms, lit.clone()))
}

/// A rate literal, `"10/s"` or `"5/10s"`, as (count, period in milliseconds): the rule
/// of `specter::Rate`'s `FromStr`.
fn rate_of(value: &Expr) -> Option<(u32, u64, LitStr)> {
    let lit = lit_str(value)?;
    let text = lit.value();
    let (count, period) = text.trim().split_once('/')?;
    let count: u32 = count.trim().parse().ok().filter(|&c| c > 0)?;
    let ms = match period.trim() {
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        other => millis(other)?,
    };
    Some((count, ms, lit.clone()))
}

/// Whether an attribute is `#[on(..)]` however its path is written: `on`,
/// `specter::on`, `my_renamed_specter::on`.
pub fn is_on(attr: &syn::Attribute) -> bool {
    attr.path().segments.last().is_some_and(|s| s.ident == "on")
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
