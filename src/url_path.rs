//! A path as the path part of a URL: SARIF's artifact locations (report) and forge links to a
//! line (source) must encode a repository path the same way, and neither may use the other.

/// Everything but RFC 3986's unreserved characters and the `/` between path parts.
const ENCODED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// Percent-encodes every byte of `path` but the unreserved characters and `/`.
pub fn encode(path: &str) -> String {
    percent_encoding::utf8_percent_encode(path, ENCODED).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_separators_and_unreserved_characters() {
        assert_eq!(
            super::encode("a b/c#d%e~f_g.h-i"),
            "a%20b/c%23d%25e~f_g.h-i"
        );
        assert_eq!(super::encode("ünï"), "%C3%BCn%C3%AF");
    }
}
