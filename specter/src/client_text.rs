//! Text a client chose (event names) on its way into logs, spans and acks: cut to a
//! bounded length and escaped, so that a 1 MB name or one full of control characters
//! writes a short, readable, single-line value wherever it goes.

use std::fmt;

/// How many characters of a client's text are shown; the rest is counted.
pub(crate) const SHOWN_CHARS: usize = 64;

/// A client's text as it is shown: at most [`SHOWN_CHARS`] characters, control
/// characters, quotes and backslashes escaped, and what was cut counted in bytes.
///
/// Formatting it reads only the shown prefix: its cost does not grow with the text.
pub(crate) struct Shown<'a>(pub &'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut end = 0;
        for (i, c) in self.0.char_indices().take(SHOWN_CHARS) {
            for e in c.escape_debug() {
                fmt::Write::write_char(f, e)?;
            }
            end = i + c.len_utf8();
        }
        match self.0.len() - end {
            0 => Ok(()),
            cut => write!(f, "…(+{cut} bytes)"),
        }
    }
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_shown_whole_and_long_ones_cut_with_a_count() {
        assert_eq!(Shown("chat").to_string(), "chat");
        let long = "x".repeat(100_000);
        let shown = Shown(&long).to_string();
        assert_eq!(
            shown,
            format!("{}…(+{} bytes)", "x".repeat(64), 100_000 - 64)
        );
    }

    #[test]
    fn control_characters_and_quotes_are_escaped_onto_one_line() {
        assert_eq!(Shown("a\nb\"c\u{1b}[2J").to_string(), r#"a\nb\"c\u{1b}[2J"#);
        assert_eq!(format!("{:?}", Shown("é")), "\"é\"");
    }
}
