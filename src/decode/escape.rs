//! Backslash escapes as JSON, JavaScript, Python and C write them: `\uXXXX` (with surrogate
//! pairs), `\xNN`, octal `\NNN`, and the one-letter escapes around them.

use super::hex::nibble;

/// An escape worth decoding starts here: `\u` + 4 hex digits, `\x` + 2, or 3 octal digits.
pub(super) fn starts(at: &[u8]) -> bool {
    match at.get(1) {
        Some(b'u') => at.len() >= 6 && at[2..6].iter().all(u8::is_ascii_hexdigit),
        Some(b'x') => at.len() >= 4 && at[2..4].iter().all(u8::is_ascii_hexdigit),
        Some(b'0'..=b'3') => at.len() >= 4 && at[2..4].iter().all(|b| (b'0'..=b'7').contains(b)),
        _ => false,
    }
}

fn hex4(raw: &[u8]) -> Option<u32> {
    raw.iter()
        .try_fold(0u32, |acc, &b| Some(acc << 4 | u32::from(nibble(b)?)))
}

pub(super) fn decode(raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] != b'\\' || i + 1 == raw.len() {
            out.push(raw[i]);
            i += 1;
            continue;
        }
        let at = &raw[i..];
        match at[1] {
            b'u' if starts(at) => {
                let mut code = hex4(&at[2..6])?;
                i += 6;
                // A surrogate pair: the low half follows as its own escape.
                if (0xD800..0xDC00).contains(&code)
                    && raw[i..].starts_with(b"\\u")
                    && starts(&raw[i..])
                {
                    let low = hex4(&raw[i + 2..i + 6])?;
                    if (0xDC00..0xE000).contains(&low) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                        i += 6;
                    }
                }
                let c = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            }
            b'x' if starts(at) => {
                out.push(nibble(at[2])? << 4 | nibble(at[3])?);
                i += 4;
            }
            b'0'..=b'3' if starts(at) => {
                out.push((at[1] - b'0') << 6 | (at[2] - b'0') << 3 | (at[3] - b'0'));
                i += 4;
            }
            c => {
                match c {
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'r' => out.push(b'\r'),
                    b'"' | b'\'' | b'\\' | b'/' => out.push(c),
                    _ => out.extend_from_slice(&[b'\\', c]),
                }
                i += 2;
            }
        }
    }
    Some(out)
}
