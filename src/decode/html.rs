//! HTML and XML character references: `&#95;`, `&#x5f;`, `&amp;` and the other common names.

/// Named references that occur inside values; others are left as written.
const NAMED: [(&[u8], u8); 12] = [
    (b"amp;", b'&'),
    (b"lt;", b'<'),
    (b"gt;", b'>'),
    (b"quot;", b'"'),
    (b"apos;", b'\''),
    (b"sol;", b'/'),
    (b"lowbar;", b'_'),
    (b"equals;", b'='),
    (b"colon;", b':'),
    (b"period;", b'.'),
    (b"plus;", b'+'),
    (b"nbsp;", b' '),
];

/// A reference and its length in bytes, at `at` (which starts with `&`).
fn reference(at: &[u8]) -> Option<(char, usize)> {
    let rest = &at[1..];
    if let Some(num) = rest.strip_prefix(b"#") {
        let (digits, radix, skip) = match num.first() {
            Some(b'x' | b'X') => (&num[1..], 16, 3),
            _ => (num, 10, 2),
        };
        let len = digits
            .iter()
            .take(8)
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        if len == 0 || digits.get(len) != Some(&b';') {
            return None;
        }
        let code = u32::from_str_radix(std::str::from_utf8(&digits[..len]).ok()?, radix).ok()?;
        return Some((char::from_u32(code)?, skip + len + 1));
    }
    NAMED
        .iter()
        .find(|(name, _)| rest.starts_with(name))
        .map(|(name, c)| (char::from(*c), name.len() + 1))
}

pub(super) fn starts(at: &[u8]) -> bool {
    reference(at).is_some()
}

pub(super) fn decode(raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match (raw[i] == b'&').then(|| reference(&raw[i..])).flatten() {
            Some((c, len)) => {
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                i += len;
            }
            None => {
                out.push(raw[i]);
                i += 1;
            }
        }
    }
    Some(out)
}
