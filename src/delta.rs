//! How a blob was made from another: git stores most versions of a file as a delta against
//! another object (spans copied from it, bytes inserted between them). A scan that has seen
//! the base need only search again what changed: a keyword that lies wholly inside a copied
//! span is where it was in the base (see the matcher's keyword pass).
//!
//! A leaf: the git source says what a blob copies, the matcher reuses what it found in the
//! base, and neither needs to know the other.

/// `len` bytes of a blob, at `target` in it, copied from `base` in its base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copy {
    pub target: usize,
    pub base: usize,
    pub len: usize,
}

/// What a scan may reuse for one blob: its own key (under which what its scan found is kept,
/// for the blobs made from it) and, when it was stored as a delta, its base's key and the
/// spans copied from the base, in target order (what lies between them was inserted). A key
/// names one object for the life of the process: see [`scope`].
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub key: u128,
    pub base: Option<(u128, &'a [Copy])>,
}

/// What the scans of the last blobs found (a matcher's keyword occurrences, a scanner's
/// encoded segments), by key, for the deltas made from them; shared by the scanning threads
/// behind a lock, as a delta and its base may be scanned by different threads.
#[derive(Debug)]
pub struct Kept<T> {
    blobs: Vec<(u128, std::sync::Arc<[T]>)>,
    next: usize,
}

impl<T> Default for Kept<T> {
    fn default() -> Self {
        Kept {
            blobs: Vec::new(),
            next: 0,
        }
    }
}

/// How many blobs' findings are kept. The sweep walks each pack's delta tree depth first, so
/// a base is usually scanned shortly before its deltas, but a base with a large subtree under
/// its first delta waits for the others; on rust-lang/cargo 32 kept blobs left 3,853 bases to
/// search again in full, 256 left 184 (at one thread).
pub const KEPT: usize = 256;

impl<T> Kept<T> {
    /// What was kept under `key`.
    pub fn get(&self, key: u128) -> Option<&std::sync::Arc<[T]>> {
        self.blobs.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// Keeps `items` under `key`, replacing the oldest kept.
    pub fn keep(&mut self, key: u128, items: std::sync::Arc<[T]>) {
        if self.blobs.len() < KEPT {
            self.blobs.push((key, items));
            return;
        }
        self.blobs[self.next] = (key, items);
        self.next = (self.next + 1) % KEPT;
    }
}

/// A number no other call in this process returns: the high half of the keys one reading of
/// a repository gives its blobs, so that a matcher scanning several repositories (an audit)
/// never takes one's blob for another's.
pub fn scope() -> u128 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    u128::from(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) << 64
}

/// Reads git's delta format (the base's size, the result's size, then instructions: copy
/// `size` bytes from `offset` in the base, or insert the next 1–127 bytes) into `out`, the
/// copied spans in target order, spans copied back to back from contiguous base bytes merged
/// into one. `None` if the delta is malformed, copies from beyond the base's declared size, or
/// does not describe a blob of `target_len` bytes (the blob's bytes were produced by gix from
/// the same delta, so that means this reading is wrong, and nothing is reused).
///
/// Written here because gix-pack applies deltas but does not expose their instructions.
pub fn read_git_delta(delta: &[u8], target_len: usize, out: &mut Vec<Copy>) -> Option<()> {
    out.clear();
    let mut i = 0;
    let base_len = usize::try_from(varint(delta, &mut i)?).ok()?;
    if varint(delta, &mut i)? != target_len as u64 {
        return None;
    }
    let mut target = 0usize;
    while i < delta.len() {
        let cmd = delta[i];
        i += 1;
        if cmd & 0x80 != 0 {
            let mut offset = 0usize;
            let mut size = 0usize;
            for bit in 0..4 {
                if cmd & (1 << bit) != 0 {
                    offset |= usize::from(*delta.get(i)?) << (8 * bit);
                    i += 1;
                }
            }
            for bit in 0..3 {
                if cmd & (0x10 << bit) != 0 {
                    size |= usize::from(*delta.get(i)?) << (8 * bit);
                    i += 1;
                }
            }
            if size == 0 {
                size = 0x10000;
            }
            if offset.checked_add(size)? > base_len {
                return None;
            }
            match out.last_mut() {
                Some(last)
                    if last.target + last.len == target && last.base + last.len == offset =>
                {
                    last.len += size
                }
                _ => out.push(Copy {
                    target,
                    base: offset,
                    len: size,
                }),
            }
            target = target.checked_add(size)?;
        } else if cmd != 0 {
            let size = usize::from(cmd);
            if i + size > delta.len() {
                return None;
            }
            i += size;
            target = target.checked_add(size)?;
        } else {
            return None;
        }
    }
    (target == target_len).then_some(())
}

/// A size in the delta header: 7 bits a byte, least significant first.
fn varint(bytes: &[u8], i: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    let mut shift = 0;
    loop {
        let byte = *bytes.get(*i)?;
        *i += 1;
        if shift > 63 {
            return None;
        }
        value |= u64::from(byte & 0x7f) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
}

/// Random deltas for the tests of what reuses a base's results: a blob of at least `len`
/// bytes made of spans copied from `base` (up to `max_copy` bytes each, two times in three)
/// and of what `insert` adds (one time in three).
#[cfg(test)]
pub mod testing {
    use super::Copy;

    /// A xorshift generator: the same runs every time.
    pub struct Rng(pub u64);

    impl Rng {
        /// A number below `n`.
        pub fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    pub fn random_delta(
        base: &[u8],
        len: usize,
        max_copy: usize,
        rng: &mut Rng,
        mut insert: impl FnMut(&mut Rng, &mut Vec<u8>),
    ) -> (Vec<u8>, Vec<Copy>) {
        let mut target = Vec::new();
        let mut copies = Vec::new();
        while target.len() < len {
            if rng.below(3) > 0 {
                let start = rng.below(base.len());
                let len = (1 + rng.below(max_copy)).min(base.len() - start);
                copies.push(Copy {
                    target: target.len(),
                    base: start,
                    len,
                });
                target.extend_from_slice(&base[start..start + len]);
            } else {
                insert(rng, &mut target);
            }
        }
        (target, copies)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A delta's header: the base's size, then the result's.
    fn header(base: usize, target: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for mut n in [base, target] {
            loop {
                let byte = (n & 0x7f) as u8;
                n >>= 7;
                if n == 0 {
                    out.push(byte);
                    break;
                }
                out.push(byte | 0x80);
            }
        }
        out
    }

    #[test]
    fn copies_and_inserts_are_read_and_contiguous_copies_merged() {
        // base: 300 bytes. target: copy 0..100, insert "abc", copy 100..150 (not contiguous
        // in target with the first: an insert lies between), copy 150..200 (contiguous with
        // the previous in both: merged), copy 10..20.
        let mut d = header(300, 100 + 3 + 50 + 50 + 10);
        d.extend([0x80 | 0x10, 100]); // offset 0 (no bytes), size 100
        d.extend([3, b'a', b'b', b'c']);
        d.extend([0x80 | 0x01 | 0x10, 100, 50]);
        d.extend([0x80 | 0x01 | 0x10, 150, 50]);
        d.extend([0x80 | 0x01 | 0x10, 10, 10]);
        let mut out = Vec::new();
        assert_eq!(read_git_delta(&d, 213, &mut out), Some(()));
        assert_eq!(
            out,
            vec![
                Copy {
                    target: 0,
                    base: 0,
                    len: 100
                },
                Copy {
                    target: 103,
                    base: 100,
                    len: 100
                },
                Copy {
                    target: 203,
                    base: 10,
                    len: 10
                },
            ]
        );
    }

    #[test]
    fn a_size_of_zero_means_64_kib_and_offsets_take_four_bytes() {
        let mut d = header(0x20000, 0x10000);
        d.extend([0x80 | 0x04, 0x01]); // offset 0x10000 (third byte), size 0 → 0x10000
        let mut out = Vec::new();
        assert_eq!(read_git_delta(&d, 0x10000, &mut out), Some(()));
        assert_eq!(
            out,
            vec![Copy {
                target: 0,
                base: 0x10000,
                len: 0x10000
            }]
        );
    }

    #[test]
    fn malformed_deltas_are_refused() {
        let mut out = Vec::new();
        // A result size other than the blob's.
        let mut d = header(10, 3);
        d.extend([3, b'a', b'b', b'c']);
        assert_eq!(read_git_delta(&d, 4, &mut out), None);
        assert_eq!(read_git_delta(&d, 3, &mut out), Some(()));
        // The header's sizes disagree with the instructions.
        let mut long = header(10, 5);
        long.extend([3, b'a', b'b', b'c']);
        assert_eq!(read_git_delta(&long, 5, &mut out), None);
        // A copy past the base's end, a truncated insert, the reserved command 0, a
        // truncated copy, and an empty delta.
        let mut past = header(10, 20);
        past.extend([0x80 | 0x10, 20]);
        assert_eq!(read_git_delta(&past, 20, &mut out), None);
        let mut short = header(10, 5);
        short.extend([5, b'a']);
        assert_eq!(read_git_delta(&short, 5, &mut out), None);
        let mut zero = header(10, 0);
        zero.push(0);
        assert_eq!(read_git_delta(&zero, 0, &mut out), None);
        let mut cut = header(10, 4);
        cut.push(0x80 | 0x01 | 0x10);
        assert_eq!(read_git_delta(&cut, 4, &mut out), None);
        assert_eq!(read_git_delta(&[], 0, &mut out), None);
    }
}
