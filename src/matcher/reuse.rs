//! Keyword occurrences carried over from a delta's base, so that the keyword pass over a blob
//! stored as a delta searches only what the delta changed.
//!
//! Why: in a history most blobs are a few lines away from another version of the same file,
//! and git stores them that way (see [`crate::delta`]). On rust-lang/cargo the blobs hold
//! 1.39 GB of text, but the deltas insert 76 MB, and the keyword pass over every byte was half
//! of a history scan. A keyword occurrence wholly inside a span the delta copies is the same
//! bytes as in the base, so it is where the base had it, shifted; every other occurrence
//! overlaps an inserted byte or a seam between spans, so it lies within the longest keyword's
//! length of one, and only those neighbourhoods are searched (a keyword longer than a few
//! dozen bytes is searched for as its first bytes, so that its length does not widen them:
//! see the matcher). The occurrences are exactly
//! those a search of the whole blob finds (a test compares them), so everything after the
//! keyword pass, and the findings, are the same.

use std::sync::Arc;

use crate::delta::{self, Copy};

/// One keyword occurrence; ordered by end, as the whole-blob search reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Occurrence {
    pub end: usize,
    pub start: usize,
    pub pattern: usize,
}

/// Regions closer than this are searched as one: a search has a fixed cost, and a few bytes
/// more cost less than one more search. On cargo's history a gap of 256 bytes searched 75 MB
/// more than a gap of 16, and took more CPU time than any gap from 0 to 64.
const JOIN_GAP: usize = 32;

/// An occurrence as kept: 8 bytes where [`Occurrence`] takes 24, so that hundreds of blobs'
/// occurrences stay small. Blobs over 4 GiB, or matchers with more than 65,536 keywords, are
/// not kept (their deltas are searched in full).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Packed {
    end: u32,
    pattern: u16,
    len: u8,
}

/// The occurrences of the last blobs scanned with a key, shared by the scanning threads (a
/// delta and its base may be scanned by different threads). Keys carry their sweep's scope,
/// so one matcher serving several repositories never mixes their blobs.
#[derive(Debug, Default)]
pub(super) struct Kept(delta::Kept<Packed>);

impl Kept {
    /// The occurrences kept under `key`, ordered by end.
    pub(super) fn get(&self, key: u128, out: &mut Vec<Occurrence>) -> bool {
        let Some(packed) = self.0.get(key) else {
            return false;
        };
        out.clear();
        out.extend(packed.iter().map(|p| Occurrence {
            end: p.end as usize,
            start: p.end as usize - usize::from(p.len),
            pattern: usize::from(p.pattern),
        }));
        true
    }

    /// Keeps `occurrences` (ordered by end) under `key`, replacing the oldest kept.
    pub(super) fn keep(&mut self, key: u128, occurrences: &[Occurrence]) {
        let packed: Option<Arc<[Packed]>> = occurrences
            .iter()
            .map(|o| {
                Some(Packed {
                    end: u32::try_from(o.end).ok()?,
                    pattern: u16::try_from(o.pattern).ok()?,
                    len: u8::try_from(o.end - o.start).ok()?,
                })
            })
            .collect();
        if let Some(packed) = packed {
            self.0.keep(key, packed);
        }
    }
}

/// Adds to `out` the occurrences of `base` wholly inside a span `copies` takes from it, at
/// their place in the blob.
pub(super) fn carry(base: &[Occurrence], copies: &[Copy], out: &mut Vec<Occurrence>) {
    for copy in copies {
        let first = base.partition_point(|o| o.end <= copy.base);
        for o in &base[first..] {
            if o.end > copy.base + copy.len {
                break;
            }
            if o.start >= copy.base {
                out.push(Occurrence {
                    end: o.end - copy.base + copy.target,
                    start: o.start - copy.base + copy.target,
                    pattern: o.pattern,
                });
            }
        }
    }
}

/// The regions of a `len`-byte blob that can hold an occurrence not wholly inside one copied
/// span: every inserted run and every seam between two spans, widened by `margin` (the longest
/// keyword's length less one) on each side, joined when close.
pub(super) fn regions(copies: &[Copy], len: usize, margin: usize, out: &mut Vec<(usize, usize)>) {
    out.clear();
    let mut add = |lo: usize, hi: usize| {
        let (lo, hi) = (lo.saturating_sub(margin), (hi + margin).min(len));
        match out.last_mut() {
            Some(last) if lo <= last.1 + JOIN_GAP => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    };
    let mut at = 0;
    for copy in copies {
        if copy.target > at {
            add(at, copy.target);
        } else if at > 0 {
            add(at, at);
        }
        at = copy.target + copy.len;
    }
    if at < len {
        add(at, len);
    }
}

/// Whether `start..end` lies wholly inside one copied span (then [`carry`] placed it).
pub(super) fn inside_a_copy(copies: &[Copy], start: usize, end: usize) -> bool {
    let i = copies.partition_point(|c| c.target + c.len <= start);
    copies
        .get(i)
        .is_some_and(|c| c.target <= start && end <= c.target + c.len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_cover_inserts_and_seams_with_their_margins() {
        let copies = [
            Copy {
                target: 0,
                base: 0,
                len: 1000,
            },
            // A seam at 1000 (no insert), then an insert 2000..2010.
            Copy {
                target: 1000,
                base: 5000,
                len: 1000,
            },
            Copy {
                target: 2010,
                base: 0,
                len: 3000,
            },
        ];
        let mut out = Vec::new();
        regions(&copies, 6000, 8, &mut out);
        assert_eq!(out, vec![(992, 1008), (1992, 2018), (5002, 6000)]);
        // Close regions are joined.
        let close = [
            Copy {
                target: 0,
                base: 0,
                len: 100,
            },
            Copy {
                target: 110,
                base: 100,
                len: 100,
            },
        ];
        regions(&close, 210, 8, &mut out);
        assert_eq!(out, vec![(92, 118)]);
        // No copies: the whole blob.
        regions(&[], 50, 8, &mut out);
        assert_eq!(out, vec![(0, 50)]);
    }

    #[test]
    fn carried_occurrences_are_those_wholly_inside_a_copy() {
        let base = [
            Occurrence {
                end: 8,
                start: 5,
                pattern: 0,
            },
            Occurrence {
                end: 12,
                start: 9,
                pattern: 1,
            },
            Occurrence {
                end: 22,
                start: 18,
                pattern: 2,
            },
        ];
        // Copies base 0..10 to 100..110 and base 9..30 to 0..21.
        let copies = [
            Copy {
                target: 0,
                base: 9,
                len: 21,
            },
            Copy {
                target: 100,
                base: 0,
                len: 10,
            },
        ];
        let mut out = Vec::new();
        carry(&base, &copies, &mut out);
        out.sort();
        assert_eq!(
            out,
            vec![
                Occurrence {
                    end: 3,
                    start: 0,
                    pattern: 1
                },
                Occurrence {
                    end: 13,
                    start: 9,
                    pattern: 2
                },
                Occurrence {
                    end: 108,
                    start: 105,
                    pattern: 0
                },
            ]
        );
        assert!(inside_a_copy(&copies, 0, 21));
        assert!(!inside_a_copy(&copies, 20, 22));
        assert!(!inside_a_copy(&copies, 50, 52));
        assert!(inside_a_copy(&copies, 105, 108));
    }

    #[test]
    fn the_oldest_kept_blob_gives_way_and_what_does_not_fit_is_not_kept() {
        let mut kept = Kept::default();
        let one = |pattern: usize| {
            vec![Occurrence {
                end: 9,
                start: 4,
                pattern,
            }]
        };
        use crate::delta::KEPT;
        for key in 0..(KEPT as u128 + 3) {
            kept.keep(key, &one(key as usize));
        }
        let mut out = Vec::new();
        assert!(!kept.get(0, &mut out) && !kept.get(2, &mut out));
        assert!(kept.get(3, &mut out));
        assert_eq!(out, one(3));
        assert!(kept.get(KEPT as u128 + 2, &mut out));
        assert_eq!(out, one(KEPT + 2));
        // Past what 8 bytes hold: not kept, so its deltas search in full.
        let far = vec![Occurrence {
            end: 1 << 33,
            start: (1 << 33) - 5,
            pattern: 0,
        }];
        kept.keep(1 << 100, &far);
        assert!(!kept.get(1 << 100, &mut out));
    }
}
