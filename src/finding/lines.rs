//! Where lines begin and end, as a person reading the file sees them: LF, CRLF and a lone CR
//! (classic Mac OS files, some generated ones) all end a line. Counting only LF put every key of
//! a CR-only file on line 1 and made an inline marker anywhere in it cover all of them.

use memchr::{memchr2, memchr2_iter, memrchr2};

/// Whether the byte at `i` ends a line: an LF, or a CR not followed by an LF (whose LF ends it).
fn ends_line(blob: &[u8], i: usize) -> bool {
    match blob[i] {
        b'\n' => true,
        b'\r' => blob.get(i + 1) != Some(&b'\n'),
        _ => false,
    }
}

/// How many lines end within `blob[from..to]`.
pub fn count_breaks(blob: &[u8], from: usize, to: usize) -> usize {
    memchr2_iter(b'\n', b'\r', &blob[from..to])
        .filter(|&i| ends_line(blob, from + i))
        .count()
}

/// Where the line holding byte `at` begins.
pub fn line_start(blob: &[u8], at: usize) -> usize {
    memrchr2(b'\n', b'\r', &blob[..at]).map_or(0, |i| i + 1)
}

/// Where the line holding byte `at` ends (its terminator, or the end of the blob).
pub fn line_end(blob: &[u8], at: usize) -> usize {
    memchr2(b'\n', b'\r', &blob[at..]).map_or(blob.len(), |i| at + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lf_crlf_and_lone_cr_each_end_one_line() {
        let text = b"a\nb\r\nc\rd";
        assert_eq!(count_breaks(text, 0, text.len()), 3);
        assert_eq!(line_start(text, 7), 7);
        assert_eq!(line_start(text, 5), 5);
        assert_eq!(line_end(text, 2), 3);
        assert_eq!(line_end(text, 7), 8);
        // A CRLF split by a range counts once, at its LF.
        assert_eq!(count_breaks(text, 0, 4), 1);
        assert_eq!(count_breaks(text, 4, 5), 1);
    }
}
