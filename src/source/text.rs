//! UTF-16 text: Windows tools (PowerShell redirects, regedit exports, .NET config writers)
//! write it, and it holds a NUL in every other byte, so the binary check would skip it. It is
//! transcoded to UTF-8 before scanning; newlines are kept one for one, so line numbers (and,
//! for text in the Basic Multilingual Plane, columns) are those of the original file.

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE};

/// How many leading bytes the detection looks at (as the binary check does).
const SNIFF: usize = 8192;

/// The UTF-16 flavour of `bytes`, if it is UTF-16 text: a byte-order mark, or (without one)
/// a NUL in every other byte over printable ASCII in the first 8 KiB.
pub fn utf16(bytes: &[u8]) -> Option<&'static Encoding> {
    match bytes {
        [0xFF, 0xFE, ..] => return Some(UTF_16LE),
        [0xFE, 0xFF, ..] => return Some(UTF_16BE),
        _ => {}
    }
    let head = &bytes[..bytes.len().min(SNIFF) & !1];
    if head.len() < 4 {
        return None;
    }
    // Which half of each pair holds the NUL decides the byte order.
    let (mut le, mut be) = (true, true);
    for pair in head.chunks_exact(2) {
        le &= pair[1] == 0 && printable(pair[0]);
        be &= pair[0] == 0 && printable(pair[1]);
        if !le && !be {
            return None;
        }
    }
    if le {
        Some(UTF_16LE)
    } else if be {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Printable ASCII or the whitespace text holds.
fn printable(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\r' | 0x20..=0x7E)
}

/// The text as UTF-8 (the byte-order mark dropped; malformed pairs become U+FFFD).
pub fn transcode(bytes: &[u8], encoding: &'static Encoding) -> String {
    let (text, _) = encoding.decode_with_bom_removal(bytes);
    text.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
    }

    fn be(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(|u| u.to_be_bytes()).collect()
    }

    #[test]
    fn detects_both_byte_orders_with_and_without_a_mark() {
        assert_eq!(utf16(&le("key = value\r\n")), Some(UTF_16LE));
        assert_eq!(utf16(&be("key = value\r\n")), Some(UTF_16BE));
        let mut marked = vec![0xFF, 0xFE];
        marked.extend(le("é and more"));
        assert_eq!(utf16(&marked), Some(UTF_16LE));
        assert_eq!(transcode(&marked, UTF_16LE), "é and more");
        assert_eq!(transcode(&be("a\nb"), UTF_16BE), "a\nb");
    }

    #[test]
    fn binary_and_plain_text_are_not_utf16() {
        assert_eq!(utf16(b"plain text here"), None);
        assert_eq!(utf16(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0]), None);
        assert_eq!(utf16(&[1, 0, 2, 0, 3, 0, 4, 0]), None);
    }
}
