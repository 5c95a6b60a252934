//! Inline markers: a line that says `keyhound:allow` is not reported.
//!
//! The marker is a plain substring, so it works in any comment syntax (`#`, `//`, `--`,
//! `<!-- -->`, `/* */`) and even outside a comment. The markers of the scanners teams migrate
//! from (detect-secrets' `pragma: allowlist secret`, `gitleaks:allow`, `trufflehog:ignore`,
//! `kingfisher:allow` / `kingfisher:ignore`) are honoured too, so a team can switch scanners
//! without touching its code. The marker must
//! be on the line where the secret starts (the first line of a multi-line secret), so it can
//! never hide a key on another line; and because it is read from the scanned bytes themselves,
//! it moves with its line through every edit. On a very long line (a minified bundle) it covers
//! only the keys near it.

use std::ops::Range;

use memchr::{memchr2, memmem, memrchr2};

/// The markers, case-sensitive as written.
pub const MARKERS: [&str; 6] = [
    "keyhound:allow",
    "pragma: allowlist secret",
    "gitleaks:allow",
    "trufflehog:ignore",
    "kingfisher:allow",
    "kingfisher:ignore",
];

/// A line longer than this (a minified bundle) is not one place a person reviewed: a marker
/// on it covers only the keys within [`WINDOW`] bytes of it.
pub const LONG_LINE: usize = 1000;

/// How far a marker on a long line reaches, either side of the key.
pub const WINDOW: usize = 200;

/// Whether the line on which the secret at `secret` (a byte range of `blob`) starts carries an inline marker (near the key, on a long
/// line). LF, CRLF and a lone CR all end a line. Looks at most [`LONG_LINE`] bytes either side,
/// so that 50,000 keys on one line cost no more than 50,000 on separate lines.
pub fn inline_allowed(blob: &[u8], secret: &Range<usize>) -> bool {
    let start = secret.start.min(blob.len());
    let (far_lo, far_hi) = (
        start.saturating_sub(LONG_LINE),
        start.saturating_add(LONG_LINE).min(blob.len()),
    );
    let line_start = memrchr2(b'\n', b'\r', &blob[far_lo..start])
        .map(|i| far_lo + i + 1)
        .or((far_lo == 0).then_some(0));
    let line_end = memchr2(b'\n', b'\r', &blob[start..far_hi])
        .map(|i| start + i)
        .or((far_hi == blob.len()).then_some(blob.len()));
    let region = match (line_start, line_end) {
        (Some(s), Some(e)) if e - s <= LONG_LINE => s..e,
        _ => {
            let lo = start.saturating_sub(WINDOW);
            let lo = memrchr2(b'\n', b'\r', &blob[lo..start]).map_or(lo, |i| lo + i + 1);
            let hi = secret.end.max(start).saturating_add(WINDOW).min(blob.len());
            let hi = memchr2(b'\n', b'\r', &blob[start..hi]).map_or(hi, |i| start + i);
            lo..hi
        }
    };
    let line = &blob[region];
    MARKERS
        .iter()
        .any(|marker| memmem::find(line, marker.as_bytes()).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte range of `needle`'s first occurrence in `text`.
    fn at(text: &str, needle: &str) -> Range<usize> {
        let start = text.find(needle).expect("needle in text");
        start..start + needle.len()
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
    fn cr_and_crlf_end_lines_too() {
        let text = "a = 'SECRET' # keyhound:allow\rb = 'OTHER'\r\nc = 'THIRD'\r";
        assert!(inline_allowed(text.as_bytes(), &at(text, "SECRET")));
        assert!(!inline_allowed(text.as_bytes(), &at(text, "OTHER")));
        assert!(!inline_allowed(text.as_bytes(), &at(text, "THIRD")));
    }

    #[test]
    fn on_a_long_line_a_marker_covers_only_keys_near_it() {
        let filler = "x".repeat(3000);
        let text = format!("var a='NEAR'/*keyhound:allow*/;{filler};var b='FAR';");
        assert!(inline_allowed(text.as_bytes(), &at(&text, "NEAR")));
        assert!(!inline_allowed(text.as_bytes(), &at(&text, "FAR")));
        // A short line is covered whole, wherever the marker is on it.
        let text = format!("k='SECRET'; {} // keyhound:allow", "y".repeat(500));
        assert!(inline_allowed(text.as_bytes(), &at(&text, "SECRET")));
    }

    #[test]
    fn multi_line_secret_needs_marker_on_first_line() {
        let text = "-----BEGIN KEY----- keyhound:allow\nbody\n-----END KEY-----\n";
        assert!(inline_allowed(text.as_bytes(), &at(text, "-----BEGIN")));
        let text = "-----BEGIN KEY-----\nbody keyhound:allow\n-----END KEY-----\n";
        assert!(!inline_allowed(text.as_bytes(), &at(text, "-----BEGIN")));
    }
}
