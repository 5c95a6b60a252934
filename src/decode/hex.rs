//! Hex-encoded bytes: build scripts and config generators write keys as hex strings.

use super::{Encoding, Segment};

/// 16 decoded bytes: shorter hex strings are ids and colours.
const MIN_LEN: usize = 32;

/// Runs of hex digits of even length, at least 32, in one letter case, not inside a longer
/// word (`0x` may lead).
pub(super) fn find(text: &[u8], out: &mut Vec<Segment>) {
    for (start, end) in super::runs(text, MIN_LEN, |b| super::HEX[usize::from(b)]) {
        let run = &text[start..end];
        let upper = run.iter().any(u8::is_ascii_uppercase);
        let lower = run.iter().any(u8::is_ascii_lowercase);
        let before = &text[..start];
        let inside_word = match before {
            [.., b'0', b'x'] => false,
            [.., b] => b.is_ascii_alphanumeric(),
            [] => false,
        };
        let word_after = text.get(end).is_some_and(u8::is_ascii_alphanumeric);
        let one_case = !(upper && lower);
        let standalone = !inside_word && !word_after;
        if run.len().is_multiple_of(2) && one_case && standalone {
            out.push(Segment {
                start,
                end,
                encoding: Encoding::Hex,
            });
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
