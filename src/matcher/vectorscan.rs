//! The keyword pass on Vectorscan (cargo feature `vectorscan`, off in the default build).
//!
//! One block-mode database holds every keyword as a caseless literal. Vectorscan reports each
//! occurrence's end offset; a literal's start is its end minus its length, so the pass yields
//! the same (pattern, start, end) occurrences as the Aho-Corasick overlapping search (ASCII case
//! folding only: without the UTF-8 flag Vectorscan matches bytes, as the automaton does).

use std::sync::Arc;

use vectorscan_rs::{BlockDatabase, BlockScanner, Flag, Pattern, Scan};

/// The compiled database and each pattern's length.
#[derive(Debug)]
pub(super) struct Keywords {
    database: Arc<BlockDatabase>,
    lens: Vec<usize>,
}

impl Keywords {
    /// Compiles `patterns` (lower-case literals), or says why Vectorscan could not: the caller
    /// then keeps searching with Aho-Corasick.
    pub(super) fn new(patterns: &[String]) -> Result<Keywords, String> {
        if patterns.is_empty() {
            return Err("no keywords".into());
        }
        let mut compiled = Vec::with_capacity(patterns.len());
        for (id, pattern) in patterns.iter().enumerate() {
            let id = u32::try_from(id).map_err(|_| "too many keywords".to_string())?;
            compiled.push(Pattern::new(
                literal(pattern.as_bytes()),
                Flag::CASELESS,
                Some(id),
            ));
        }
        let database = BlockDatabase::new(compiled).map_err(|e| e.to_string())?;
        Ok(Keywords {
            database: Arc::new(database),
            lens: patterns.iter().map(String::len).collect(),
        })
    }

    /// Appends every keyword occurrence in `blob` to `out` as (end, pattern), in order of end
    /// (then pattern). `None` if Vectorscan failed (or the blob is too large for one block
    /// scan): the caller searches with Aho-Corasick instead.
    pub(super) fn find(
        &self,
        blob: &[u8],
        scratch: &mut KeywordScratch,
        out: &mut Vec<(usize, usize)>,
    ) -> Option<()> {
        out.clear();
        if blob.is_empty() {
            return Some(());
        }
        if u32::try_from(blob.len()).is_err() {
            return None;
        }
        let scanner = scratch.scanner(&self.database)?;
        let mut sorted = true;
        let mut last = (0, 0);
        let result = scanner.scan(blob, |id, _from, to, _flags| {
            let occurrence = (to as usize, id as usize);
            sorted &= occurrence >= last;
            last = occurrence;
            out.push(occurrence);
            Scan::Continue
        });
        result.ok()?;
        if !sorted {
            out.sort_unstable();
        }
        Some(())
    }

    /// The length of pattern `id`.
    pub(super) fn pattern_len(&self, id: usize) -> usize {
        self.lens[id]
    }
}

/// Per-thread Vectorscan scratch, kept in the matcher's `Scratch` and reused across blobs;
/// allocated at the first blob the database searches.
#[derive(Debug, Default)]
pub struct KeywordScratch {
    scanner: Option<Scanner>,
}

#[derive(Debug)]
struct Scanner {
    // Field order matters: the scanner, which borrows the database, is dropped first.
    scanner: BlockScanner<'static>,
    database: Arc<BlockDatabase>,
}

impl KeywordScratch {
    /// A scanner for `database`, reusing the one already allocated if it was allocated for the
    /// same database (a `Scratch` may be used with several matchers in turn).
    fn scanner(&mut self, database: &Arc<BlockDatabase>) -> Option<&mut BlockScanner<'static>> {
        let reuse = matches!(&self.scanner, Some(s) if Arc::ptr_eq(&s.database, database));
        if !reuse {
            self.scanner = None;
            let scanner = BlockScanner::new(database).ok()?;
            // SAFETY: the scanner borrows the database that `database` points to. That
            // database lives on the heap behind an `Arc`, so it does not move, and the clone of
            // the `Arc` stored beside the scanner keeps it alive until after the scanner is
            // dropped (fields drop in declaration order). The `'static` lifetime never escapes
            // this struct except as a borrow of `self`.
            let scanner =
                unsafe { std::mem::transmute::<BlockScanner<'_>, BlockScanner<'static>>(scanner) };
            self.scanner = Some(Scanner {
                scanner,
                database: Arc::clone(database),
            });
        }
        self.scanner.as_mut().map(|s| &mut s.scanner)
    }
}

/// A literal as a Vectorscan expression: letters and digits as they are, every other byte as
/// `\xHH`, so no byte means anything to the regex parser.
fn literal(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() * 4);
    for &b in bytes {
        if b.is_ascii_alphanumeric() {
            out.push(b);
        } else {
            out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
        }
    }
    out
}
