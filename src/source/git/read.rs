//! Reading the blobs of an inventory, on a bounded number of threads, each blob inflated by
//! the thread that scans it (memory is bounded by one blob per thread, never by the size of
//! the repository).
//!
//! gitoxide reads them in-process (see `odb`): in pack order for a whole-history scan, so
//! that delta bases are still cached when their deltas come; loose objects, several packs and
//! alternates alike. libgit2 reads whatever gitoxide could not (and names what is missing or
//! corrupt), or everything when gitoxide cannot open the repository. The `git cat-file
//! --batch-all-objects` child that used to stream a whole history is gone: gitoxide reads the
//! same pack order without a second process, a pipe and a parser of its output.

use std::path::Path;

use git2::{Oid, Repository};

use super::inventory::Inventory;
use super::odb;
use super::sweep;
use crate::delta::Origin;
use crate::source::{is_binary, SkipReason, Skipped};

/// Reads the blobs of `inv`, calling `visit(blob index, bytes)` for each one that is text and
/// within `max_size`, from up to `threads` threads; everything else is reported as skipped.
/// `make` builds one visitor per thread; the visitors are returned for merging.
pub fn read_blobs<V, F>(
    repo: &Repository,
    inv: &Inventory,
    max_size: u64,
    threads: usize,
    make: F,
) -> ReadOutcome<V>
where
    V: BlobVisitor,
    F: Fn() -> V + Sync,
{
    let threads = threads.max(1);
    let dir = repo.path().to_path_buf();
    let mut warning = None;
    if !inv.blobs.is_empty() {
        match read_in_process(&dir, inv, max_size, threads, &make) {
            Ok(result) => return result,
            Err(e) => {
                warning = Some(format!(
                    "reading the blobs in-process failed ({e}); reading them through libgit2"
                ))
            }
        }
    }
    let all: Vec<u32> = (0..inv.blobs.len() as u32).collect();
    let mut outcome = read_with_libgit2(&dir, inv, &all, max_size, threads, &make);
    outcome.warnings.extend(warning);
    outcome
}

/// What reading the blobs produced: each thread's visitor, what was skipped, and anything the
/// user should know (a fallback taken).
pub struct ReadOutcome<V> {
    pub visitors: Vec<V>,
    pub skipped: Vec<Skipped>,
    pub warnings: Vec<String>,
}

impl<V> ReadOutcome<V> {
    /// Adds what a later reader (of the blobs this one left) produced.
    fn absorb(&mut self, more: ReadOutcome<V>) {
        self.visitors.extend(more.visitors);
        self.skipped.extend(more.skipped);
        self.warnings.extend(more.warnings);
    }
}

/// What a thread does with each blob.
pub trait BlobVisitor: Send {
    /// Blob `index` of the inventory, first seen at `path`; `origin` says, when the blob was
    /// read by a sweep of a pack, which delta base it was made from and how.
    fn blob(&mut self, index: u32, path: &str, bytes: &[u8], origin: Option<Origin<'_>>);
}

/// Reads the blobs with gitoxide (see `odb`); those it could not read are read through
/// libgit2, which names any that are missing or corrupt. An error if gitoxide cannot open the
/// repository or a reading thread panicked: the caller then reads everything through libgit2
/// (the visitors that ran are dropped, so nothing is reported twice).
fn read_in_process<V, F>(
    dir: &Path,
    inv: &Inventory,
    max_size: u64,
    threads: usize,
    make: &F,
) -> Result<ReadOutcome<V>, odb::OdbError>
where
    V: BlobVisitor,
    F: Fn() -> V + Sync,
{
    let odb = odb::Odb::open(dir)?;
    // A whole history: one sweep over the packs decodes each object once (see `sweep`); what
    // it did not reach (loose objects), or everything when it was not taken, is read object
    // by object.
    let swept = match inv.narrow {
        false => sweep::read_packs(&odb, inv, max_size, threads, make).unwrap_or(None),
        true => None,
    };
    let read = match swept {
        Some((outcome, rest)) if rest.is_empty() => Ok((outcome, rest)),
        Some((mut outcome, rest)) => {
            odb::read_blobs(&odb, inv, Some(&rest), max_size, threads, false, make).map(
                |(more, rest)| {
                    outcome.absorb(more);
                    (outcome, rest)
                },
            )
        }
        None => odb::read_blobs(&odb, inv, None, max_size, threads, !inv.narrow, make),
    };
    super::resident::release_pack_pages();
    super::resident::trim_heap();
    let (mut outcome, rest) = read?;
    if !rest.is_empty() {
        outcome.absorb(read_with_libgit2(dir, inv, &rest, max_size, threads, make));
    }
    Ok(outcome)
}

/// Reads the given blobs through libgit2, one `Repository` per thread (it is `Send`, not
/// `Sync`).
pub(super) fn read_with_libgit2<V, F>(
    dir: &Path,
    inv: &Inventory,
    which: &[u32],
    max_size: u64,
    threads: usize,
    make: &F,
) -> ReadOutcome<V>
where
    V: BlobVisitor,
    F: Fn() -> V + Sync,
{
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<(V, Vec<Skipped>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.min(which.len()).max(1))
            .map(|_| {
                let next = &next;
                scope.spawn(move || {
                    let mut visitor = make();
                    let mut skipped = Vec::new();
                    let repo = match Repository::open(dir) {
                        Ok(r) => r,
                        Err(e) => {
                            skipped.push(Skipped {
                                path: dir.display().to_string(),
                                reason: SkipReason::Unreadable(e.message().to_string()),
                            });
                            return (visitor, skipped);
                        }
                    };
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&index) = which.get(i) else { break };
                        let blob_ref = &inv.blobs[index as usize];
                        let path = &blob_ref.occurrences[0].path;
                        // The header gives the size without inflating the blob.
                        if let Some(size) = header_size(&repo, blob_ref.oid) {
                            if size > max_size {
                                skipped.push(too_large(path, size, max_size));
                                continue;
                            }
                        }
                        match repo.find_blob(blob_ref.oid) {
                            Err(e) => skipped.push(Skipped {
                                path: path.to_string(),
                                reason: SkipReason::Unreadable(format!(
                                    "missing or corrupt blob {}: {}",
                                    blob_ref.oid,
                                    e.message()
                                )),
                            }),
                            Ok(blob) if blob.size() as u64 > max_size => {
                                skipped.push(too_large(path, blob.size() as u64, max_size))
                            }
                            Ok(blob) if is_binary(blob.content()) => skipped.push(Skipped {
                                path: path.to_string(),
                                reason: SkipReason::Binary,
                            }),
                            Ok(blob) => visitor.blob(index, path, blob.content(), None),
                        }
                    }
                    (visitor, skipped)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a scanning thread panicked"))
            .collect()
    });
    let mut outcome = ReadOutcome {
        visitors: Vec::new(),
        skipped: Vec::new(),
        warnings: Vec::new(),
    };
    for (v, s) in results {
        outcome.visitors.push(v);
        outcome.skipped.extend(s);
    }
    outcome
}

/// An object's size as its header records it, read without inflating the object (libgit2's
/// `find_blob` inflates the whole blob, so a size check after it bounds nothing). `None` when
/// the header cannot be read: the full read then names the problem.
pub fn header_size(repo: &Repository, oid: Oid) -> Option<u64> {
    let odb = repo.odb().ok()?;
    odb.read_header(oid).ok().map(|(size, _)| size as u64)
}

/// The skip of a blob over `--max-file-size`, named by the first path it was seen at.
fn too_large(path: &str, size: u64, limit: u64) -> Skipped {
    Skipped {
        path: path.to_string(),
        reason: SkipReason::TooLarge { size, limit },
    }
}
