//! Dynamic namespaces: subscribers bound to a pattern (`/tenant/{id}`, `/files/{*path}`)
//! serve every namespace a client names that matches it. One event table, one set of
//! interceptors and one metrics label per pattern, so that what a client names cannot make
//! them grow; socketioxide makes a namespace per name (`dyn_ns`), and keeps it until it
//! is deleted: Specter deletes one when its last socket left or its connection was
//! refused, and bounds how many are open at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::adapter::{Socket, SocketIo};
use crate::subscriber::NsParams;

/// A namespace pattern: literal segments, `{name}` for one segment, `{*name}` for the
/// rest of the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern(Vec<Segment>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    One(Arc<str>),
    Rest(Arc<str>),
}

impl Pattern {
    /// The pattern of `path`; `Ok(None)` for a plain namespace, `Err` with the reason
    /// for a pattern that is not one.
    pub fn parse(path: &str) -> Result<Option<Pattern>, String> {
        if !path.contains(['{', '}']) {
            return Ok(None);
        }
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut segments = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            let segment = match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) if name.starts_with('*') => {
                    if i + 1 != parts.len() {
                        return Err(format!("`{{{name}}}` must be the last segment"));
                    }
                    Segment::Rest(valid(&name[1..])?.into())
                }
                Some(name) => Segment::One(valid(name)?.into()),
                None if part.contains(['{', '}']) => {
                    return Err(format!(
                        "`{part}`: a parameter is a whole segment, `{{name}}` or `{{*name}}`"
                    ));
                }
                None => Segment::Literal((*part).to_owned()),
            };
            segments.push(segment);
        }
        Ok(Some(Pattern(segments)))
    }

    /// The parameters of `path`, when it matches.
    pub fn params(&self, path: &str) -> Option<NsParams> {
        let mut rest = path.strip_prefix('/')?;
        let mut params = Vec::new();
        for segment in &self.0 {
            let (part, next) = rest.split_once('/').unwrap_or((rest, ""));
            match segment {
                Segment::Literal(l) if l == part => {}
                Segment::Literal(_) => return None,
                Segment::One(name) if !part.is_empty() => params.push((name.clone(), part.into())),
                Segment::One(_) => return None,
                Segment::Rest(name) if !rest.is_empty() => {
                    params.push((name.clone(), rest.into()));
                    return Some(NsParams::new(params));
                }
                Segment::Rest(_) => return None,
            }
            rest = next;
        }
        rest.is_empty().then(|| NsParams::new(params))
    }
}

fn valid(name: &str) -> Result<&str, String> {
    if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        Ok(name)
    } else {
        Err(format!(
            "`{name}` is not a parameter name (letters, digits, `_`)"
        ))
    }
}

/// A pattern's namespaces that socketioxide keeps open, with the sockets in or entering
/// each.
pub(crate) struct Dynamic {
    pub pattern: Pattern,
    io: SocketIo,
    open: Mutex<HashMap<String, usize>>,
}

/// Why a connection to a dynamic namespace is refused before its subscribers run.
pub(crate) const TOO_MANY: &str = "too many namespaces are open; try again later";

impl Dynamic {
    pub fn new(pattern: Pattern, io: SocketIo) -> Self {
        Self {
            pattern,
            io,
            open: Mutex::default(),
        }
    }

    /// A socket enters namespace `path` (its connect subscribers are about to run), with
    /// its parameters; the reason to refuse it when it would pass `max` open namespaces,
    /// or when the namespace it entered closed meanwhile (its last socket left).
    pub fn admit(&self, s: &Socket, max: usize) -> Result<(), &'static str> {
        let path = s.ns();
        if !self.enter(path, max) {
            // socketioxide opened it for this connection: close it again.
            self.leave(path);
            return Err(TOO_MANY);
        }
        if self.io.of(path).is_none() {
            self.leave(path);
            return Err("the namespace closed; try again");
        }
        if let Some(params) = self.pattern.params(path) {
            s.extensions.insert(params);
        }
        Ok(())
    }

    /// Counts a socket into namespace `path`: `false` when it would pass `max` open
    /// namespaces.
    fn enter(&self, path: &str, max: usize) -> bool {
        let mut open = self.open.lock().unwrap();
        if let Some(n) = open.get_mut(path) {
            *n += 1;
            return true;
        }
        if open.len() >= max {
            return false;
        }
        open.insert(path.to_owned(), 1);
        true
    }

    /// A socket left namespace `path`, or was refused: the last one out deletes it.
    pub fn leave(&self, path: &str) {
        let mut open = self.open.lock().unwrap();
        let last = match open.get_mut(path) {
            Some(n) => {
                *n -= 1;
                *n == 0
            }
            None => true,
        };
        if last {
            open.remove(path);
            // Under the lock: a socket entering `path` now waits, then opens it anew.
            self.io.delete_ns(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pattern: &str, path: &str) -> Option<Vec<(String, String)>> {
        let p = Pattern::parse(pattern).unwrap().unwrap();
        p.params(path).map(|ps| {
            ps.iter()
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect()
        })
    }

    #[test]
    fn patterns_take_whole_segments() {
        assert_eq!(
            params("/tenant/{id}", "/tenant/acme"),
            Some(vec![("id".into(), "acme".into())])
        );
        assert_eq!(params("/tenant/{id}", "/tenant/"), None);
        assert_eq!(params("/tenant/{id}", "/tenant/a/b"), None);
        assert_eq!(params("/tenant/{id}", "/other/a"), None);
        assert_eq!(
            params("/files/{*path}", "/files/a/b.txt"),
            Some(vec![("path".into(), "a/b.txt".into())])
        );
        assert_eq!(
            params("/{org}/room/{room}", "/acme/room/7"),
            Some(vec![
                ("org".into(), "acme".into()),
                ("room".into(), "7".into())
            ])
        );
    }

    #[test]
    fn bad_patterns_say_why() {
        assert_eq!(Pattern::parse("/chat"), Ok(None));
        assert!(
            Pattern::parse("/t/{}")
                .unwrap_err()
                .contains("not a parameter name")
        );
        assert!(
            Pattern::parse("/t/x{id}")
                .unwrap_err()
                .contains("whole segment")
        );
        assert!(
            Pattern::parse("/t/{*rest}/x")
                .unwrap_err()
                .contains("last segment")
        );
    }
}
