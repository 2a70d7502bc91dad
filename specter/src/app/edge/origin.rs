//! Which web pages may open a Socket.IO connection: the `Origin` check, run on every
//! request to the Socket.IO path, and the CORS headers for the origins it allows.
//!
//! A browser sends `Origin` with every cross-origin request and with every websocket
//! upgrade, and sends the site's cookies along. Without a check, a page of any site
//! could open a connection as the visitor (with the visitor's cookies, where an app
//! authenticates by cookie) and emit events. So by default only the server's own
//! origin is served, and requests without `Origin` (node, python and other non-browser
//! clients, which a page cannot forge) pass.

use axum::http::{HeaderValue, request::Parts};

/// One allowed origin: exact (`https://app.example.com`), or every subdomain of a domain
/// (`https://*.example.com`, which does not match `https://example.com` itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OriginPattern {
    Exact(String),
    Subdomains { scheme: String, suffix: String },
}

impl OriginPattern {
    /// Parses `scheme://host[:port]` or `scheme://*.domain[:port]`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let lower = text.trim().trim_end_matches('/').to_ascii_lowercase();
        let Some((scheme, host)) = lower.split_once("://") else {
            return Err(format!(
                "allowed origin {text:?} must be `scheme://host[:port]`, like `https://app.example.com`"
            ));
        };
        if host.is_empty() || host.contains('/') {
            return Err(format!(
                "allowed origin {text:?} must be `scheme://host[:port]`, with no path"
            ));
        }
        match host.strip_prefix("*.") {
            Some(domain) if !domain.is_empty() && !domain.contains('*') => Ok(Self::Subdomains {
                scheme: scheme.to_owned(),
                suffix: format!(".{domain}"),
            }),
            _ if host.contains('*') => Err(format!(
                "allowed origin {text:?}: a `*` may only stand for subdomains, as in `https://*.example.com`"
            )),
            _ => Ok(Self::Exact(lower)),
        }
    }

    fn matches(&self, origin: &str) -> bool {
        match self {
            Self::Exact(o) => o.eq_ignore_ascii_case(origin),
            Self::Subdomains { scheme, suffix } => {
                let origin = origin.to_ascii_lowercase();
                origin
                    .strip_prefix(scheme.as_str())
                    .and_then(|rest| rest.strip_prefix("://"))
                    .is_some_and(|host| {
                        host.len() > suffix.len() && host.ends_with(suffix.as_str())
                    })
            }
        }
    }
}

/// Which origins may connect.
#[derive(Debug, Clone, Default)]
pub(crate) enum Origins {
    /// No `Origin`, the server's own, and these.
    #[default]
    Own,
    Listed(Vec<OriginPattern>),
    /// Every origin (`allow_any_origin`).
    Any,
}

impl Origins {
    /// Whether a request with this head may go on.
    pub fn allow(&self, head: &Parts) -> bool {
        let Some(origin) = head.headers.get(axum::http::header::ORIGIN) else {
            return true;
        };
        self.allow_origin(origin, head)
    }

    /// Whether `origin` is allowed, for a request with this head.
    pub fn allow_origin(&self, origin: &HeaderValue, head: &Parts) -> bool {
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        match self {
            Self::Any => true,
            Self::Own => is_own(origin, head),
            Self::Listed(list) => is_own(origin, head) || list.iter().any(|p| p.matches(origin)),
        }
    }
}

/// Whether `origin` is the server's own: its host and port are the request's `Host`.
fn is_own(origin: &str, head: &Parts) -> bool {
    let Some(host) = head
        .headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
    else {
        return false;
    };
    let Some((scheme, origin_host)) = origin.split_once("://") else {
        return false;
    };
    let default_port = match scheme {
        "http" => ":80",
        "https" => ":443",
        _ => return false,
    };
    let strip = |h: &str| {
        h.strip_suffix(default_port)
            .unwrap_or(h)
            .to_ascii_lowercase()
    };
    strip(origin_host) == strip(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(host: &str, origin: Option<&str>) -> Parts {
        let mut req = axum::http::Request::builder()
            .uri("/socket.io/")
            .header("host", host);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.body(()).unwrap().into_parts().0
    }

    #[test]
    fn by_default_only_the_own_origin_and_requests_without_one_pass() {
        let own = Origins::Own;
        assert!(own.allow(&head("127.0.0.1:3000", None)));
        assert!(own.allow(&head("127.0.0.1:3000", Some("http://127.0.0.1:3000"))));
        assert!(own.allow(&head("chat.example:443", Some("https://chat.example"))));
        assert!(!own.allow(&head("127.0.0.1:3000", Some("http://evil.invalid"))));
        assert!(!own.allow(&head("127.0.0.1:3000", Some("http://127.0.0.1:3001"))));
        assert!(!own.allow(&head("127.0.0.1:3000", Some("null"))));
    }

    #[test]
    fn listed_origins_are_exact_or_every_subdomain() {
        let list = Origins::Listed(vec![
            OriginPattern::parse("https://app.example.com").unwrap(),
            OriginPattern::parse("https://*.example.org/").unwrap(),
        ]);
        let from = |o| list.allow(&head("api.example.com", Some(o)));
        assert!(from("https://app.example.com"));
        assert!(from("HTTPS://App.Example.com"));
        assert!(!from("http://app.example.com"), "another scheme");
        assert!(from("https://a.b.example.org"));
        assert!(
            !from("https://example.org"),
            "the domain itself is not a subdomain"
        );
        assert!(!from("https://evilexample.org"));
    }

    #[test]
    fn a_pattern_that_is_not_an_origin_is_refused_with_its_reason() {
        assert!(
            OriginPattern::parse("example.com")
                .unwrap_err()
                .contains("scheme://host")
        );
        assert!(
            OriginPattern::parse("https://a.com/path")
                .unwrap_err()
                .contains("no path")
        );
        assert!(
            OriginPattern::parse("https://a*.com")
                .unwrap_err()
                .contains("subdomains")
        );
    }
}
