//! Percent-encoding: URLs and form bodies carry keys (webhooks, connection strings) escaped.

use super::hex::nibble;

/// `%XX` with two hex digits.
pub(super) fn starts(at: &[u8]) -> bool {
    at.len() >= 3 && at[1].is_ascii_hexdigit() && at[2].is_ascii_hexdigit()
}

/// `%XX` becomes its byte and `+` stays `+` (it means a space only in form bodies, and keys
/// hold `+` more often than forms hold spaces).
pub(super) fn decode(raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' && starts(&raw[i..]) {
            out.push(nibble(raw[i + 1])? << 4 | nibble(raw[i + 2])?);
            i += 3;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    Some(out)
}
