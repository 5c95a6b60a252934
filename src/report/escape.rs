//! Control characters in text that came from a scanned tree (a path, an author's name, a line
//! of a file) are shown escaped, never written raw: a file named `a\n::error ...` must not start
//! a GitHub Actions workflow command in a CI log, and an ESC sequence must not reach the
//! terminal.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `s` with every control character (C0, DEL, C1) written as `\n`, `\r`, `\t` or `\u{..}`; a
/// backslash stays as it is, so only names with control characters change.
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_nothing_else() {
        assert_eq!(escape_controls("src/app.rs"), "src/app.rs");
        assert_eq!(escape_controls("naïve/ü.txt"), "naïve/ü.txt");
        assert_eq!(
            escape_controls("a\n::error file=x::owned\r\t\u{1b}[31m\u{9b}"),
            "a\\n::error file=x::owned\\r\\t\\u{1b}[31m\\u{9b}"
        );
    }
}
