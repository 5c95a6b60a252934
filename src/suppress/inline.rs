//! Inline markers: a line that says `keyhound:allow` is not reported.
//!
//! The marker is a plain substring, so it works in any comment syntax (`#`, `//`, `--`,
//! `<!-- -->`, `/* */`) and even outside a comment. The markers of the scanners teams migrate
//! from (detect-secrets' `pragma: allowlist secret`, `gitleaks:allow`, `trufflehog:ignore`,
//! `kingfisher:allow` / `kingfisher:ignore`) are honoured too, so a team can switch scanners
//! without touching its code. The marker must
//! be on the line where the secret starts (the first line of a multi-line secret), so it can
//! never hide a key on another line; and because it is read from the scanned bytes themselves,
//! it moves with its line through every edit.

use memchr::{memchr, memmem, memrchr};

use crate::matcher::Match;

/// The markers, case-sensitive as written.
pub const MARKERS: [&str; 6] = [
    "keyhound:allow",
    "pragma: allowlist secret",
    "gitleaks:allow",
    "trufflehog:ignore",
    "kingfisher:allow",
    "kingfisher:ignore",
];

/// Whether the line on which `m` starts carries an inline marker.
pub fn inline_allowed(blob: &[u8], m: &Match) -> bool {
    let start = m.start.min(blob.len());
    let line_start = memrchr(b'\n', &blob[..start]).map_or(0, |i| i + 1);
    let line_end = memchr(b'\n', &blob[start..]).map_or(blob.len(), |i| start + i);
    let line = &blob[line_start..line_end];
    MARKERS
        .iter()
        .any(|marker| memmem::find(line, marker.as_bytes()).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A match on `needle`'s first occurrence in `text`.
    fn at(text: &str, needle: &str) -> Match {
        let start = text.find(needle).expect("needle in text");
        Match {
            rule: 0,
            start,
            end: start + needle.len(),
            entropy: 4.0,
            captures: Vec::new(),
        }
    }

    #[test]
    fn marker_on_the_secrets_line() {
        let text = "a = 1\nkey = 'SECRET'  # keyhound:allow\nb = 'OTHER'\n";
        assert!(inline_allowed(text.as_bytes(), &at(text, "SECRET")));
        assert!(!inline_allowed(text.as_bytes(), &at(text, "OTHER")));
    }

    #[test]
    fn detect_secrets_pragma() {
        let text = "key = 'SECRET'  # pragma: allowlist secret";
        assert!(inline_allowed(text.as_bytes(), &at(text, "SECRET")));
        let text = "key = 'SECRET'  # Pragma: Allowlist Secret";
        assert!(!inline_allowed(text.as_bytes(), &at(text, "SECRET")));
    }

    #[test]
    fn markers_of_other_scanners() {
        for marker in [
            "gitleaks:allow",
            "trufflehog:ignore",
            "kingfisher:allow",
            "kingfisher:ignore",
        ] {
            let text = format!("key = 'SECRET'  # {marker}\nkey = 'OTHER'\n");
            assert!(
                inline_allowed(text.as_bytes(), &at(&text, "SECRET")),
                "{marker}"
            );
            assert!(
                !inline_allowed(text.as_bytes(), &at(&text, "OTHER")),
                "{marker}"
            );
        }
    }

    #[test]
    fn multi_line_secret_needs_marker_on_first_line() {
        let text = "-----BEGIN KEY----- keyhound:allow\nbody\n-----END KEY-----\n";
        assert!(inline_allowed(text.as_bytes(), &at(text, "-----BEGIN")));
        let text = "-----BEGIN KEY-----\nbody keyhound:allow\n-----END KEY-----\n";
        assert!(!inline_allowed(text.as_bytes(), &at(text, "-----BEGIN")));
    }
}
