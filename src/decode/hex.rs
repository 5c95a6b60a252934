//! Hex-encoded bytes: build scripts and config generators write keys as hex strings.

use super::{Encoding, Segment};

/// 16 decoded bytes: shorter hex strings are ids and colours.
const MIN_LEN: usize = 32;

/// Runs of hex digits of even length, at least 32, in one letter case.
pub(super) fn find(text: &[u8], out: &mut Vec<Segment>) {
    let mut i = 0;
    while i < text.len() {
        if !text[i].is_ascii_hexdigit() {
            i += 1;
            continue;
        }
        // A run inside a longer word is not hex (`deadbeef` in an identifier).
        let inside_word = i > 0 && text[i - 1].is_ascii_alphanumeric();
        let start = i;
        let (mut upper, mut lower) = (false, false);
        while i < text.len() && text[i].is_ascii_hexdigit() {
            upper |= text[i].is_ascii_uppercase();
            lower |= text[i].is_ascii_lowercase();
            i += 1;
        }
        let len = i - start;
        let word_after = i < text.len() && text[i].is_ascii_alphanumeric();
        if len >= MIN_LEN && len % 2 == 0 && !(upper && lower) && !inside_word && !word_after {
            out.push(Segment {
                start,
                end: i,
                encoding: Encoding::Hex,
            });
        }
        while i < text.len() && text[i].is_ascii_alphanumeric() {
            i += 1;
        }
    }
}

pub(super) fn decode(raw: &[u8]) -> Option<Vec<u8>> {
    raw.chunks_exact(2)
        .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect()
}

pub(super) fn nibble(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}
