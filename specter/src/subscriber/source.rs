//! Where a subscriber, handler or controller is declared.

use std::borrow::Cow;
use std::fmt;

use serde::{Serialize, Serializer};

/// Where a subscriber, handler or controller was declared: for logs, the event table and
/// error reports. Shown as `examples/presence.rs:32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source {
    /// Source file, as `file!()` gives it.
    pub file: &'static str,
    /// Line in that file.
    pub line: u32,
}

impl Source {
    /// The caller's location.
    #[track_caller]
    pub fn caller() -> Self {
        let l = std::panic::Location::caller();
        Self {
            file: l.file(),
            line: l.line(),
        }
    }

    /// The file as a reader wants it: `specter/../examples/chat.rs` (how Cargo names a
    /// target that lives outside its package) reads `examples/chat.rs`.
    ///
    /// ```
    /// let s = specter::Source { file: "specter/../examples/chat.rs", line: 3 };
    /// assert_eq!(s.to_string(), "examples/chat.rs:3");
    /// ```
    pub fn file(&self) -> Cow<'static, str> {
        clean_path(self.file)
    }
}

/// Removes `dir/..` pairs and `.` parts from a relative path.
fn clean_path(path: &'static str) -> Cow<'static, str> {
    if !path.contains("..") && !path.contains("./") {
        return Cow::Borrowed(path);
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split(['/', '\\']) {
        match part {
            "." => {}
            ".." if parts.last().is_some_and(|p| *p != ".." && !p.is_empty()) => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    Cow::Owned(parts.join("/"))
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file(), self.line)
    }
}

impl Serialize for Source {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Source", 2)?;
        st.serialize_field("file", &self.file())?;
        st.serialize_field("line", &self.line)?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::clean_path;

    #[test]
    fn parent_parts_are_folded() {
        assert_eq!(
            clean_path("specter/../examples/presence.rs"),
            "examples/presence.rs"
        );
        assert_eq!(clean_path("src/./a.rs"), "src/a.rs");
        assert_eq!(clean_path("../x/a.rs"), "../x/a.rs");
        assert_eq!(clean_path("src/lib.rs"), "src/lib.rs");
    }
}
