//! One blob, scanned: what every source's per-blob work has in common (the working tree,
//! staged blobs and history). A blob may be an archive (its members are scanned), UTF-16 text
//! (transcoded first), or text with encoded segments (decoded and scanned again, nesting up to
//! the decode depth). Matches become located hits, each paired with whether an inline marker
//! allows it.
//!
//! A key found in decoded text is reported at the encoded span in the text as written (the
//! outermost one when decoding nests), with how it was decoded; its secret is the decoded key,
//! so the same key found plain and encoded is one finding.

use std::sync::{Arc, Mutex};

use memchr::memmem;

use crate::decode::{self, Encoding, Segment};
use crate::delta::{self, Origin};
use crate::finding::{self, Hit, Secret};
use crate::matcher::{Match, Matcher, Scratch};
use crate::source::archive::{self, ArchiveLimits};
use crate::source::{has_nul, text, Blob, SkipReason, Skipped, Visitor};
use crate::suppress;

/// What the scan of a blob looks into beyond its plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanOptions {
    /// How many encodings deep to decode (`--max-decode-depth`); 0 decodes nothing.
    pub max_decode_depth: u8,
    /// Open archives and compressed files within these limits; `None` (`--no-archives`)
    /// skips them as binary.
    pub archives: Option<ArchiveLimits>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            max_decode_depth: decode::DEFAULT_MAX_DEPTH,
            archives: Some(ArchiveLimits::default()),
        }
    }
}

/// What the scan of blobs produced: hits (with whether an inline marker allows each), what
/// was skipped, and the texts scanned (an archive's members count one each).
#[derive(Debug, Default)]
pub struct Scanned {
    pub hits: Vec<(bool, Hit)>,
    pub skipped: Vec<Skipped>,
    pub files: u64,
    pub bytes: u64,
}

/// The encoded segments of the last blobs scanned with an origin, for the deltas made from
/// them (see `decode::segments_from`): finding them was a tenth of a history scan, and a
/// delta's copied lines hold what they held in its base. Shared by a history scan's threads.
#[derive(Debug, Default)]
pub struct KeptSegments(Mutex<delta::Kept<Segment>>);

/// A scanning thread's matcher and working memory.
#[derive(Debug)]
pub struct BlobScanner<'m> {
    matcher: &'m Matcher,
    options: ScanOptions,
    scratch: Scratch,
    matches: Vec<Match>,
    kept: Option<&'m KeptSegments>,
}

/// A key found in decoded text: where its encoded form is in the blob, and how it decoded.
struct Decoded {
    start: usize,
    end: usize,
    rule: usize,
    secret: String,
    captures: Vec<(String, Secret)>,
    entropy: f64,
    chain: String,
}

impl<'m> BlobScanner<'m> {
    pub fn new(matcher: &'m Matcher, options: ScanOptions) -> Self {
        BlobScanner {
            matcher,
            options,
            scratch: Scratch::default(),
            matches: Vec::new(),
            kept: None,
        }
    }

    /// This scanner, for the many versions of the same files a history holds: it keeps the
    /// encoded segments of blobs with an origin in `kept`, carrying them over from there to
    /// the deltas made from them, and remembers the lines a rule found nothing in.
    pub fn keeping(self, kept: &'m KeptSegments) -> Self {
        BlobScanner {
            kept: Some(kept),
            scratch: Scratch::remembering_quiet_windows(),
            ..self
        }
    }

    /// Scans one blob as a source gave it, adding to `out`.
    pub fn scan_blob(&mut self, path: &str, bytes: &[u8], out: &mut Scanned) {
        self.scan_blob_from(path, bytes, None, out);
    }

    /// [`BlobScanner::scan_blob`], for a blob a source says where it came from (a git delta
    /// and its base): the matcher reuses what it found in the base (see `matcher::reuse`).
    /// Only the blob's own bytes, scanned as they are, have that origin: a transcoded text,
    /// an archive's members and decoded segments are scanned without it.
    pub fn scan_blob_from(
        &mut self,
        path: &str,
        bytes: &[u8],
        origin: Option<Origin<'_>>,
        out: &mut Scanned,
    ) {
        if archive::kind(bytes).is_some() {
            match self.options.archives {
                Some(limits) => {
                    let mut members = Members { scanner: self, out };
                    archive::walk(path, bytes, &limits, &mut members);
                }
                None => out.skipped.push(Skipped {
                    path: path.to_string(),
                    reason: SkipReason::Binary,
                }),
            }
            return;
        }
        self.scan_file(path, bytes, origin, out);
    }

    /// A file that is not an archive: UTF-16 is transcoded, other binary files skipped.
    fn scan_file(
        &mut self,
        path: &str,
        bytes: &[u8],
        origin: Option<Origin<'_>>,
        out: &mut Scanned,
    ) {
        if let Some(encoding) = text::utf16(bytes) {
            let utf8 = text::transcode(bytes, encoding);
            self.scan_text(path, utf8.as_bytes(), None, out);
        } else if has_nul(bytes) {
            out.skipped.push(Skipped {
                path: path.to_string(),
                reason: SkipReason::Binary,
            });
        } else {
            self.scan_text(path, bytes, origin, out);
        }
    }

    fn scan_text(
        &mut self,
        path: &str,
        bytes: &[u8],
        origin: Option<Origin<'_>>,
        out: &mut Scanned,
    ) {
        out.files += 1;
        out.bytes += bytes.len() as u64;
        let rules = self.matcher.rules();
        self.matcher.scan_from(
            bytes,
            Some(path.as_bytes()),
            &mut self.scratch,
            &mut self.matches,
            origin,
        );
        let mut decoded = Vec::new();
        if self.options.max_decode_depth > 0 {
            let mut chain = Vec::new();
            let depth = self.options.max_decode_depth;
            let within = Within::Blob(origin);
            self.decode_into(bytes, path, depth, within, &mut chain, &mut decoded);
        }
        if !decoded.is_empty() {
            // One key is one finding under its most specific name: a generic rule's match of
            // the encoded text itself gives way to what it decodes to.
            self.matches.retain(|m| {
                !rules[m.rule].generic
                    || !decoded.iter().any(|d| m.start < d.end && d.start < m.end)
            });
        }
        if !self.matches.is_empty() {
            let hits = finding::hits_in(bytes, path, &self.matches, rules);
            for (m, hit) in self.matches.iter().zip(hits) {
                out.hits
                    .push((suppress::inline_allowed(bytes, &(m.start..m.end)), hit));
            }
        }
        if decoded.is_empty() {
            return;
        }
        decoded.sort_by(|a, b| {
            (a.start, a.end, a.rule, &a.secret).cmp(&(b.start, b.end, b.rule, &b.secret))
        });
        decoded.dedup_by(|b, a| {
            (a.start, a.end, a.rule, &a.secret) == (b.start, b.end, b.rule, &b.secret)
        });
        // The same key decoded twice from overlapping text (a base64 run inside a
        // percent-encoded word) is reported once, with the longer chain of encodings.
        let depth = |d: &Decoded| d.chain.matches(" > ").count();
        let shadowed: Vec<bool> = decoded
            .iter()
            .enumerate()
            .map(|(i, d)| {
                decoded.iter().enumerate().any(|(j, o)| {
                    j != i
                        && o.rule == d.rule
                        && o.secret == d.secret
                        && o.start < d.end
                        && d.start < o.end
                        && (depth(o), j < i) > (depth(d), false)
                })
            })
            .collect();
        let mut keep = shadowed.iter().map(|s| !s);
        decoded.retain(|_| keep.next().unwrap_or(true));
        // Located as matches of the encoded spans: the snippet shows (and redacts) the
        // encoded text, and an inline marker on its line allows it.
        let spans: Vec<Match> = decoded
            .iter()
            .map(|d| Match {
                rule: d.rule,
                start: d.start,
                end: d.end,
                entropy: d.entropy,
                captures: Vec::new(),
            })
            .collect();
        let hits = finding::hits_in(bytes, path, &spans, rules);
        for ((d, span), mut hit) in decoded.into_iter().zip(&spans).zip(hits) {
            hit.secret = Secret::new(d.secret);
            hit.captures = d.captures;
            hit.location.decoded = Some(d.chain);
            out.hits.push((
                suppress::inline_allowed(bytes, &(span.start..span.end)),
                hit,
            ));
        }
    }

    /// The encoded segments of `text`, carried over from its base where it copies it when the
    /// base's were kept; kept for the blobs made from it when it has an origin.
    fn segments(&self, text: &[u8], origin: Option<Origin<'_>>, out: &mut Vec<Segment>) {
        let (Some(origin), Some(kept)) = (origin, self.kept) else {
            decode::segments(text, out);
            return;
        };
        let base = origin.base.and_then(|(key, copies)| {
            let kept = kept.0.lock().ok()?;
            Some((Arc::clone(kept.get(key)?), copies))
        });
        match base {
            Some((base, copies)) => decode::segments_from(text, copies, &base, out),
            None => decode::segments(text, out),
        }
        if let Ok(mut kept) = kept.0.lock() {
            kept.keep(origin.key, out.as_slice().into());
        }
    }

    /// Decodes the encoded segments of `text` and scans what they decode to, `depth` levels
    /// deep.
    fn decode_into(
        &mut self,
        text: &[u8],
        path: &str,
        depth: u8,
        within: Within<'_>,
        chain: &mut Vec<Encoding>,
        out: &mut Vec<Decoded>,
    ) {
        let mut segments = Vec::new();
        let outer = match within {
            Within::Blob(origin) => {
                self.segments(text, origin, &mut segments);
                None
            }
            Within::Decoded(span) => {
                decode::segments(text, &mut segments);
                Some(span)
            }
        };
        let rules = self.matcher.rules();
        let mut matches = Vec::new();
        for segment in segments {
            let Some(plain) = decode::decode(text, &segment) else {
                continue;
            };
            let span = outer.unwrap_or((segment.start, segment.end));
            chain.push(segment.encoding);
            self.matcher.scan(
                &plain,
                Some(path.as_bytes()),
                &mut self.scratch,
                &mut matches,
            );
            let raw = &text[segment.start..segment.end];
            for m in &matches {
                let secret = &plain[m.start..m.end];
                // Written plainly inside the segment: the plain scan reports it.
                if memmem::find(raw, secret).is_some() {
                    continue;
                }
                let rule = &rules[m.rule];
                out.push(Decoded {
                    start: span.0,
                    end: span.1,
                    rule: m.rule,
                    secret: String::from_utf8_lossy(secret).into_owned(),
                    captures: m
                        .captures
                        .iter()
                        .map(|&(name, s, e)| {
                            let value = String::from_utf8_lossy(&plain[s..e]).into_owned();
                            (rule.capture_names[name].clone(), Secret::new(value))
                        })
                        .collect(),
                    entropy: m.entropy,
                    chain: chain
                        .iter()
                        .map(|e| e.name())
                        .collect::<Vec<_>>()
                        .join(" > "),
                });
            }
            if depth > 1 {
                self.decode_into(&plain, path, depth - 1, Within::Decoded(span), chain, out);
            }
            chain.pop();
        }
    }
}

/// What a text being decoded is.
#[derive(Debug, Clone, Copy)]
enum Within<'a> {
    /// The blob itself, with where it came from.
    Blob(Option<Origin<'a>>),
    /// What a segment decoded to: the span in the blob the outermost segment covers.
    Decoded((usize, usize)),
}

/// An archive's members, scanned as files as they are read.
struct Members<'s, 'm> {
    scanner: &'s mut BlobScanner<'m>,
    out: &'s mut Scanned,
}

impl Visitor for Members<'_, '_> {
    fn blob(&mut self, blob: Blob<'_>) {
        self.scanner
            .scan_file(blob.path, blob.bytes, None, self.out);
    }

    fn skipped(&mut self, skipped: Skipped) {
        self.out.skipped.push(skipped);
    }
}
