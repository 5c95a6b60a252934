//! Decoding: keys hidden in encoded text. A Kubernetes Secret holds them in base64, a URL
//! percent-encoded, a JSON string behind `\u` escapes, an HTML page behind entities. This
//! module finds the segments of a text that look encoded (cheaply: most text has none) and
//! decodes them; the scan runs the matcher over what comes out, nesting up to a depth.
//!
//! Decoding must not flood a report with noise, so a segment counts only if it decodes to
//! mostly printable text, and the shapes that are encoded but never hold keys are left alone:
//! lockfile integrity hashes (`sha512-…`), `data:` URIs of images, fonts and source maps.
//! Each file here finds and decodes one encoding.

use crate::delta::Copy;

mod base64;
mod escape;
mod hex;
mod html;
mod percent;

/// How a segment is encoded; its name is what reports show (`decoded: base64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Base64,
    Hex,
    Percent,
    Escape,
    Html,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Base64 => "base64",
            Encoding::Hex => "hex",
            Encoding::Percent => "percent",
            Encoding::Escape => "escape",
            Encoding::Html => "html",
        }
    }
}

/// A span of a text that looks encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub start: usize,
    pub end: usize,
    pub encoding: Encoding,
}

/// `--max-decode-depth`'s default: base64 inside a percent-encoded string is found.
pub const DEFAULT_MAX_DEPTH: u8 = 2;

/// Decoded text shorter than this cannot hold a key worth reporting.
const MIN_DECODED: usize = 8;

/// The share of decoded characters that must be printable for the text to be scanned.
const PRINTABLE: f64 = 0.9;

/// Finds the segments of `text` that look encoded, replacing the contents of `out`: base64
/// runs, then hex runs, then the other encodings, each in order of start.
pub fn segments(text: &[u8], out: &mut Vec<Segment>) {
    out.clear();
    for finder in FINDERS {
        finder.find(text, 0, text.len(), out);
    }
}

/// [`segments`] of a blob stored as a delta against a base whose segments were `base` (as
/// [`segments`] found them), into `out`: the lines the delta copies whole keep the base's
/// segments, shifted; the other lines are searched. The result is what [`segments`] finds.
///
/// Why it holds: no segment crosses a line end that is not escaped (base64 and hex runs hold
/// no newline, the other encodings end at one), and what decides a segment looks at its own
/// line only. So the segments of a run of whole lines depend on those lines alone, and lines a
/// span copies, with the line ends around them and the bytes that say those are not escaped,
/// are the same lines in the base.
pub fn segments_from(text: &[u8], copies: &[Copy], base: &[Segment], out: &mut Vec<Segment>) {
    out.clear();
    // Target ranges of whole copied lines, from just after a line end to one (inclusive),
    // and where each starts in the base. The two bytes before a line end say whether it is
    // escaped, so the first one counted lies two bytes into the span.
    let mut carried: Vec<(usize, usize, usize)> = Vec::new();
    for copy in copies {
        let end = copy.target + copy.len;
        let Some(first) = line_end(text, copy.target + 2, end) else {
            continue;
        };
        let Some(last) = last_line_end(text, first + 1, end) else {
            continue;
        };
        carried.push((first + 1, last + 1, first + 1 - copy.target + copy.base));
    }
    // The base's segments come as `segments` lists them: each finder's, by start.
    let mut rest = base;
    for finder in FINDERS {
        let (kept, after) = rest.split_at(rest.partition_point(|s| finder.finds(s.encoding)));
        rest = after;
        let mut at = 0;
        for &(lo, hi, base_lo) in &carried {
            finder.find(text, at, lo, out);
            let base_hi = base_lo + (hi - lo);
            let first = kept.partition_point(|s| s.start < base_lo);
            for s in kept[first..].iter().take_while(|s| s.start < base_hi) {
                out.push(Segment {
                    start: s.start - base_lo + lo,
                    end: s.end - base_lo + lo,
                    encoding: s.encoding,
                });
            }
            at = hi;
        }
        finder.find(text, at, text.len(), out);
    }
}

/// One of the searches [`segments`] runs.
#[derive(Debug, Clone, Copy)]
enum Finder {
    Base64,
    Hex,
    Words,
}

/// The searches [`segments`] runs, in its order.
const FINDERS: [Finder; 3] = [Finder::Base64, Finder::Hex, Finder::Words];

impl Finder {
    /// Whether this search finds segments in `encoding`.
    fn finds(self, encoding: Encoding) -> bool {
        match self {
            Finder::Base64 => encoding == Encoding::Base64,
            Finder::Hex => encoding == Encoding::Hex,
            Finder::Words => !matches!(encoding, Encoding::Base64 | Encoding::Hex),
        }
    }

    /// The segments of `text[lo..hi]` (whole lines), at their place in `text`.
    fn find(self, text: &[u8], lo: usize, hi: usize, out: &mut Vec<Segment>) {
        if lo >= hi {
            return;
        }
        let from = out.len();
        let lines = &text[lo..hi];
        match self {
            Finder::Base64 => base64::find(lines, out),
            Finder::Hex => hex::find(lines, out),
            Finder::Words => word_segments(lines, out),
        }
        if lo > 0 {
            for s in &mut out[from..] {
                s.start += lo;
                s.end += lo;
            }
        }
    }
}

/// The first line end in `text[from..to]` that is not escaped.
fn line_end(text: &[u8], from: usize, to: usize) -> Option<usize> {
    let mut at = from;
    while at < to {
        let i = at + memchr::memchr(b'\n', &text[at..to])?;
        if delimits(text, i) {
            return Some(i);
        }
        at = i + 1;
    }
    None
}

/// The last line end in `text[from..to]` that is not escaped.
fn last_line_end(text: &[u8], from: usize, to: usize) -> Option<usize> {
    let mut to = to;
    while from < to {
        let i = from + memchr::memrchr(b'\n', &text[from..to])?;
        if delimits(text, i) {
            return Some(i);
        }
        to = i;
    }
    None
}

/// Decodes a segment of `text`: `None` unless it decodes to mostly printable text that differs
/// from the segment itself.
pub fn decode(text: &[u8], segment: &Segment) -> Option<Vec<u8>> {
    let raw = &text[segment.start..segment.end];
    let decoded = match segment.encoding {
        Encoding::Base64 => base64::decode(raw)?,
        Encoding::Hex => hex::decode(raw)?,
        Encoding::Percent => percent::decode(raw)?,
        Encoding::Escape => escape::decode(raw)?,
        Encoding::Html => html::decode(raw)?,
    };
    (decoded.len() >= MIN_DECODED && decoded != raw && mostly_printable(&decoded))
        .then_some(decoded)
}

/// At least 90 % of the characters are printable: ASCII graphic or whitespace, or any valid
/// non-ASCII UTF-8 character; control bytes and invalid UTF-8 are not.
pub fn mostly_printable(bytes: &[u8]) -> bool {
    let (mut good, mut all) = (0usize, 0usize);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            all += 1;
            if !c.is_control() || matches!(c, '\t' | '\n' | '\r') {
                good += 1;
            }
        }
        all += chunk.invalid().len();
    }
    all > 0 && good as f64 >= PRINTABLE * all as f64
}

/// The maximal runs of bytes in `class` at least `min` long, found without looking at most
/// bytes. A run that long fills the `min` bytes from where it starts, so the window of `min`
/// bytes after the last byte outside the class is read from its end backwards: the first byte
/// found outside the class moves the window past it. In code and prose most windows hold a
/// space or a dot near their end, so each jump reads two or three bytes and moves fifteen.
fn runs<'a>(
    text: &'a [u8],
    min: usize,
    class: impl Fn(u8) -> bool + 'a,
) -> impl Iterator<Item = (usize, usize)> + 'a {
    // `text[s - 1]` is outside the class (or `s` is 0): a run can only start at `s` or later.
    let mut s = 0;
    std::iter::from_fn(move || {
        'window: while s + min <= text.len() {
            for j in (s..s + min).rev() {
                if !class(text[j]) {
                    s = j + 1;
                    continue 'window;
                }
            }
            let start = s;
            let mut end = s + min;
            while end < text.len() && class(text[end]) {
                end += 1;
            }
            s = end + 1;
            return Some((start, end));
        }
        None
    })
}

/// A byte class as a table, so that testing a byte is one load.
const fn table(alphabet: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < alphabet.len() {
        t[alphabet[i] as usize] = true;
        i += 1;
    }
    t
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// Base64 of either alphabet: letters, digits, `+`, `/`, `-` and `_`.
static BASE64: [bool; 256] = {
    let mut t = table(ALNUM);
    t[b'+' as usize] = true;
    t[b'/' as usize] = true;
    t[b'-' as usize] = true;
    t[b'_' as usize] = true;
    t
};
static HEX: [bool; 256] = table(b"0123456789abcdefABCDEF");

/// Bytes that end a word-like segment (percent-encoding, escapes, entities): whitespace,
/// quotes and angle brackets, unless escaped by a backslash.
fn delimits(text: &[u8], i: usize) -> bool {
    matches!(
        text[i],
        b' ' | b'\t' | b'\n' | b'\r' | b'"' | b'\'' | b'`' | b'<' | b'>'
    ) && !(i > 0 && text[i - 1] == b'\\' && !(i > 1 && text[i - 2] == b'\\'))
}

/// Segments around percent-escapes, backslash escapes and HTML entities: the word each one
/// sits in, encoded as its first trigger says (what else it holds decodes one level deeper).
fn word_segments(text: &[u8], out: &mut Vec<Segment>) {
    let mut covered = 0usize;
    for at in memchr::memchr3_iter(b'%', b'\\', b'&', text) {
        if at < covered {
            continue;
        }
        let encoding = match text[at] {
            b'%' if percent::starts(&text[at..]) => Encoding::Percent,
            b'\\' if escape::starts(&text[at..]) => Encoding::Escape,
            b'&' if html::starts(&text[at..]) => Encoding::Html,
            _ => continue,
        };
        let mut start = at;
        while start > covered && !delimits(text, start - 1) {
            start -= 1;
        }
        let mut end = at + 1;
        while end < text.len() && !delimits(text, end) {
            end += 1;
        }
        out.push(Segment {
            start,
            end,
            encoding,
        });
        covered = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The edges [`segments_from`] must not carry over: a line whose line end before it is
    /// escaped in the base but not in the target (by the byte before it, or by the one before
    /// that), and a `data:` URI on the line before a run.
    #[test]
    fn lines_whose_context_was_not_copied_are_searched_again() {
        let check = |base: &[u8], target: &[u8], copies: &[Copy]| {
            let (mut kept, mut carried, mut whole) = (Vec::new(), Vec::new(), Vec::new());
            segments(base, &mut kept);
            segments_from(target, copies, &kept, &mut carried);
            segments(target, &mut whole);
            assert_eq!(carried, whole, "{}", String::from_utf8_lossy(target));
            whole
                .iter()
                .map(|s| target[s.start..s.end].to_vec())
                .collect::<Vec<_>>()
        };
        let copy = |target: usize, base: usize, len: usize| Copy { target, base, len };
        // Escaped in the base, so there `c%41d` continues the line before; not in the target.
        let base = b"x%41\\\nc%41d\nzz\n";
        let found = check(base, b" \nc%41d\nzz\n", &[copy(1, 5, 10)]);
        assert_eq!(found, [b"c%41d"]);
        // Escaped in the base; in the target the backslash before it is itself escaped.
        let base = b"a x%41\\\nc%41d\nzz\n";
        let found = check(base, b"%41\\\\\nc%41d\nzz\n", &[copy(4, 6, 11)]);
        assert_eq!(found, [&b"%41\\\\"[..], b"c%41d"]);
        // A run after `base64,` is spoken for by a `data:` URI on its own line only: here
        // none, in the base nor in the target.
        let base = b"data:text/plain;x\nok\nbase64,QUtJQVhYWFhYWFhYWFhYWFhYWFg=\n";
        let found = check(
            base,
            b"Q\nok\nbase64,QUtJQVhYWFhYWFhYWFhYWFhYWFg=\n",
            &[copy(2, 18, 39)],
        );
        assert!(found.is_empty());
    }

    /// Segments carried over from a delta's base are those a search of the whole blob finds:
    /// random copies and inserts over a text dense with every encoding, escaped line ends,
    /// `data:` URIs and integrity hashes, so that edits fall on, beside and across segments
    /// and line ends; each round's result is the next round's base.
    #[test]
    fn segments_carried_from_a_delta_base_are_those_of_a_whole_search() {
        use crate::delta::testing::{random_delta, Rng};
        const PIECES: &[&str] = &[
            "token: aGVsbG8gd29ybGQsIGhlbGxvIGtleWhvdW5k",
            "QUtJQVhYWFhYWFhYWFhYWFhYWFg=",
            "x = 68656c6c6f20776f726c642c2068656c6c6f21;",
            "0x68656c6c6f20776f726c642c2068656c6c6f21",
            "url=https://h/x?k=a%2Fb%3Dc%26d",
            "\"ab\\u005fcd\\x41\\102\"",
            "a&amp;b&#x41;c&lt;",
            "data:image/png;base64,",
            "data:text/plain;base64,",
            "sha512-aGVsbG8gd29ybGQsIGhlbGxvIGtleWhvdW5k",
            "\\\n",
            "\\\\\n",
            "\n",
            "\n\n",
            " ",
            "\"",
            "'",
            "abcdefghijABCDEFGHIJ0123456789",
            "word",
        ];
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut base: Vec<u8> = Vec::new();
        while base.len() < 20_000 {
            base.extend_from_slice(PIECES[rng.below(PIECES.len())].as_bytes());
        }
        let mut kept = Vec::new();
        segments(&base, &mut kept);
        let (mut carried, mut whole) = (Vec::new(), Vec::new());
        let mut reused = 0;
        for round in 0..48 {
            let (target, copies) = random_delta(&base, 20_000, 2000, &mut rng, |rng, out| {
                for _ in 0..1 + rng.below(3) {
                    out.extend_from_slice(PIECES[rng.below(PIECES.len())].as_bytes());
                }
            });
            segments_from(&target, &copies, &kept, &mut carried);
            segments(&target, &mut whole);
            assert_eq!(carried, whole, "round {round}");
            reused += usize::from(!whole.is_empty());
            base = target;
            kept = whole.clone();
        }
        assert_eq!(reused, 48);
    }

    fn decoded(text: &str) -> Vec<(Encoding, String)> {
        let mut segs = Vec::new();
        segments(text.as_bytes(), &mut segs);
        segs.iter()
            .filter_map(|s| {
                decode(text.as_bytes(), s)
                    .map(|d| (s.encoding, String::from_utf8_lossy(&d).into_owned()))
            })
            .collect()
    }

    #[test]
    fn each_encoding_decodes() {
        assert_eq!(
            decoded("data:\n  token: aGVsbG8gd29ybGQsIGhlbGxvIGtleWhvdW5k\n"),
            vec![(Encoding::Base64, "hello world, hello keyhound".into())]
        );
        assert_eq!(
            decoded("x = 68656c6c6f20776f726c642c2068656c6c6f21;"),
            vec![(Encoding::Hex, "hello world, hello!".into())]
        );
        assert_eq!(
            decoded("url=https://h/x?k=a%2Fb%3Dc%26d and more"),
            vec![(Encoding::Percent, "url=https://h/x?k=a/b=c&d".into())]
        );
        assert_eq!(
            decoded(r#"{"k": "ab\u005fcd\x41\102\"q"}"#),
            vec![(Encoding::Escape, "ab_cdAB\"q".into())]
        );
        assert_eq!(
            decoded("<a title=\"one&#95;two&#x5f;three&amp;\">"),
            vec![(Encoding::Html, "one_two_three&".into())]
        );
    }

    #[test]
    fn binary_hashes_and_images_are_left_alone() {
        // A sha256 in hex and in base64, an integrity string, an image.
        assert!(
            decoded("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855").is_empty()
        );
        assert!(decoded("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=").is_empty());
        assert!(
            decoded("\"integrity\": \"sha512-aGVsbG8gd29ybGQsIGhlbGxvIGtleWhvdW5k\"").is_empty()
        );
        assert!(decoded("src=\"data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciLz4=\"").is_empty());
    }

    #[test]
    fn skipping_finds_every_long_run() {
        let naive = |text: &[u8], min: usize| {
            let mut out = Vec::new();
            let mut i = 0;
            while i < text.len() {
                let start = i;
                while i < text.len() && text[i].is_ascii_alphanumeric() {
                    i += 1;
                }
                if i - start >= min {
                    out.push((start, i));
                }
                i += 1;
            }
            out
        };
        let text = b"ab cdefgh ijklmnopq r stuvwxyzABCDEFG x HIJKLMNOPQRSTUVWXYZ0123456789 ab";
        for min in 1..12 {
            let found: Vec<_> = runs(text, min, |b| b.is_ascii_alphanumeric()).collect();
            assert_eq!(found, naive(text, min), "min {min}");
        }
        // Runs of every length next to each other, as the window jumps see them.
        let mut seed = 0x2545_f491_u32;
        let mixed: Vec<u8> = (0..20_000)
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                if (seed >> 16).is_multiple_of(23) {
                    b' '
                } else {
                    b"aZ09+/-_x"[(seed >> 8) as usize % 9]
                }
            })
            .collect();
        for min in [1, 2, 5, 19, 20, 21, 32, 40] {
            let found: Vec<_> = runs(&mixed, min, |b| b.is_ascii_alphanumeric()).collect();
            assert_eq!(found, naive(&mixed, min), "min {min}");
        }
    }

    #[test]
    fn class_tables_are_the_alphabets() {
        for b in 0..=255u8 {
            let base64 = b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_');
            assert_eq!(BASE64[usize::from(b)], base64, "{b}");
            assert_eq!(HEX[usize::from(b)], b.is_ascii_hexdigit(), "{b}");
        }
    }

    #[test]
    fn printable_share() {
        assert!(mostly_printable("héllo wörld\n".as_bytes()));
        assert!(!mostly_printable(&[0x89, b'P', b'N', b'G', 0, 0, 0, 13]));
    }
}
