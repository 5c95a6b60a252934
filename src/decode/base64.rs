//! Base64, standard and URL-safe, padded or not: Kubernetes Secrets, `.dockerconfigjson`,
//! Basic auth headers, CI variables.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, Engine};

use super::{Encoding, Segment};

/// Shorter runs cannot hold a key (15 decoded bytes) and are mostly identifiers.
const MIN_LEN: usize = 20;

const CONFIG: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, CONFIG);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, CONFIG);

/// Runs of base64 characters at least 20 long with both upper- and lower-case letters (hex,
/// words and constants have not), not a lockfile integrity hash nor a `data:` URI that holds
/// no text.
pub(super) fn find(text: &[u8], out: &mut Vec<Segment>) {
    for (start, end) in super::runs(text, MIN_LEN, |b| super::BASE64[usize::from(b)]) {
        let run = &text[start..end];
        let upper = run.iter().any(u8::is_ascii_uppercase);
        let lower = run.iter().any(u8::is_ascii_lowercase);
        if !(upper && lower) || quiet(text, start) {
            continue;
        }
        let padding = text[end..]
            .iter()
            .take(2)
            .take_while(|&&b| b == b'=')
            .count();
        out.push(Segment {
            start,
            end: end + padding,
            encoding: Encoding::Base64,
        });
    }
}

/// Encoded, but never a key: `sha512-…` integrity strings and `data:` URIs other than text.
fn quiet(text: &[u8], start: usize) -> bool {
    let run = &text[start..text.len().min(start + 8)];
    if [&b"sha1-"[..], b"sha256-", b"sha384-", b"sha512-"]
        .iter()
        .any(|p| run.starts_with(p))
    {
        return true;
    }
    let before = &text[start.saturating_sub(120)..start];
    if before.ends_with(b"base64,") {
        // On its own line only, so that what a line holds depends on that line alone (see
        // `segments_from`).
        let before = memchr::memrchr(b'\n', before).map_or(before, |i| &before[i + 1..]);
        let media = memchr::memmem::rfind(before, b"data:").map(|i| &before[i + 5..]);
        return !media.is_some_and(|m| m.starts_with(b"text/"));
    }
    false
}

/// Decodes a run in the alphabet its characters say (a run that mixes both is not base64).
pub(super) fn decode(raw: &[u8]) -> Option<Vec<u8>> {
    let body = raw
        .strip_suffix(b"==")
        .or_else(|| raw.strip_suffix(b"="))
        .unwrap_or(raw);
    let standard = body.iter().any(|&b| b == b'+' || b == b'/');
    let url = body.iter().any(|&b| b == b'-' || b == b'_');
    // A run of 4n+1 characters has one too many: the text around it ran into it.
    let body = if body.len() % 4 == 1 {
        &body[..body.len() - 1]
    } else {
        body
    };
    match (standard, url) {
        (true, true) => None,
        (false, true) => URL_SAFE.decode(body).ok(),
        _ => STANDARD.decode(body).ok(),
    }
}
