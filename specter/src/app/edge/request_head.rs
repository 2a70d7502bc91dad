//! Detaching a Socket.IO handshake's request head from the connection's read buffer.
//!
//! hyper parses a request's headers and URI as slices of the connection's read buffer
//! (zero-copy `Bytes`, 8 to 16 KiB per connection). engineioxide keeps the request head
//! of each session's handshake (and, for a websocket, of its upgrade request) for the
//! session's whole life, so every idle connection kept that buffer alive: about 16 KiB,
//! most of what a connection cost (see BENCHMARKS.md). Copying the few hundred bytes of
//! the head into allocations of their own, before socketioxide sees the request, lets the
//! buffer go once the connection is upgraded. Long-polling requests of a running session
//! (`sid` in the query, no upgrade) are not kept by anyone and pass untouched.

use axum::extract::{OriginalUri, Request};
use axum::http::{HeaderMap, HeaderValue, Uri, header, request::Parts};

/// Whether engineioxide will keep this request's head: a request that opens something,
/// a handshake (no `sid` yet) or a websocket upgrade.
pub(super) fn opens(head: &Parts) -> bool {
    let has_sid = head
        .uri
        .query()
        .is_some_and(|q| q.split('&').any(|p| p.starts_with("sid=")));
    !has_sid || head.headers.contains_key(header::UPGRADE)
}

/// The request, its head copied out of the connection's read buffer: for requests that
/// engineioxide keeps ([`opens`]).
pub(super) fn detach(mut req: Request) -> Request {
    let headers = std::mem::take(req.headers_mut());
    let mut copy = HeaderMap::with_capacity(headers.len());
    for (name, value) in &headers {
        let mut owned =
            HeaderValue::from_bytes(value.as_bytes()).expect("a valid value stays valid");
        owned.set_sensitive(value.is_sensitive());
        copy.append(name.clone(), owned);
    }
    *req.headers_mut() = copy;
    if let Ok(uri) = Uri::try_from(req.uri().to_string()) {
        // axum's router keeps a copy of the URI too, in the extensions.
        if let Some(OriginalUri(original)) = req.extensions_mut().get_mut::<OriginalUri>() {
            if let Ok(copy) = Uri::try_from(original.to_string()) {
                *original = copy;
            }
        }
        *req.uri_mut() = uri;
    }
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handshake_keeps_its_head_intact() {
        let req = Request::builder()
            .uri("/socket.io/?EIO=4&transport=websocket")
            .header("sec-websocket-key", "abc")
            .header("x-forwarded-for", "10.0.0.1")
            .body(axum::body::Body::empty())
            .unwrap();
        let out = detach(req);
        assert_eq!(out.uri(), "/socket.io/?EIO=4&transport=websocket");
        assert_eq!(out.headers()["sec-websocket-key"], "abc");
        assert_eq!(out.headers()["x-forwarded-for"], "10.0.0.1");
    }

    #[test]
    fn only_heads_that_engineio_keeps_are_copied() {
        let req = |uri: &str| {
            Request::builder()
                .uri(uri)
                .body(axum::body::Body::empty())
                .unwrap()
        };
        let head = |uri| req(uri).into_parts().0;
        assert!(opens(&head("/socket.io/?EIO=4&transport=polling")));
        assert!(!opens(&head("/socket.io/?EIO=4&transport=polling&sid=abc")));
    }
}
