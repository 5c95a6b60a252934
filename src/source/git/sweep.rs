//! The blobs of a whole history read by one sweep over each pack: every object decoded once,
//! from its delta base, on all threads.
//!
//! Why: reading the listed blobs object by object, even in pack order with a cache of delta
//! bases per thread, decodes a base again whenever it has left the cache or another thread
//! decoded it. gix-pack's traversal of a pack's delta tree decodes each object exactly once:
//! on rust-lang/cargo (1.3 GiB of blobs) it decodes the whole pack in 0.42 s on two cores. The
//! sweep decodes trees, commits and blobs no listed path reaches as well, so it is only taken
//! when the listed blobs are a good part of the packs (a whole history, not a few paths of it).
//!
//! The walk has listed the blobs first, so each one is scanned knowing its path, exactly as
//! the object-by-object reader would; blobs the walk did not list are passed over unscanned.
//! Each blob stored as a delta is handed over with its origin (its base and the spans it
//! copies, read again from the pack), so that the keyword pass searches only what the delta
//! changed (see `matcher::reuse`).
//!
//! What the sweep did not reach (loose objects) is read object by object afterwards. A
//! multi-pack index, a pack gix cannot traverse, or an object over the decode limit, and the
//! caller reads object by object instead, as before.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use gix::odb::pack;

use super::inventory::Inventory;
use super::odb::{err, to_git2, Odb, OdbError};
use super::read::{BlobVisitor, ReadOutcome};
use crate::delta::{read_git_delta, Copy, Origin};
use crate::source::{is_binary, SkipReason, Skipped};

/// A sweep decodes every object of the packs: it is taken when the listed blobs are at least
/// this share (1/n) of the packs' objects.
const LISTED_SHARE: usize = 32;

/// Objects decoded (on all threads) between two releases of the packs' resident pages.
const RELEASE_EVERY: usize = 1024;

/// The smallest object the sweep refuses to decode whole; larger limits follow
/// `--max-file-size` (an object past the limit ends the sweep, so that the object-by-object
/// reader, which skips a too-large blob by its header, takes over).
const DECODE_FLOOR: u64 = 64 << 20;

/// What one traversal thread leaves behind: its visitor, its skips, the blobs it handled.
struct Done<V> {
    visitor: Option<V>,
    skipped: Vec<Skipped>,
    handled: Vec<u32>,
}

impl<V> Done<V> {
    fn new() -> Self {
        Done {
            visitor: None,
            skipped: Vec::new(),
            handled: Vec::new(),
        }
    }
}

/// What the traversal threads share.
struct Shared<'a, F, V> {
    inv: &'a Inventory,
    make: &'a F,
    max_size: u64,
    done: Mutex<Vec<Done<V>>>,
    /// The first error a thread met; it also stops the traversal.
    failed: Mutex<Option<OdbError>>,
    stop: AtomicBool,
    decoded: AtomicUsize,
    /// The indices of the packs swept before this one: an object they hold was handled there.
    earlier: Vec<pack::index::File>,
}

/// One traversal thread's state: gix clones the processor once per thread, and each clone
/// hands what it gathered to [`Shared::done`] when dropped.
struct Worker<'s, 'a, F, V> {
    shared: &'s Shared<'a, F, V>,
    done: Done<V>,
    /// The pack being swept, and its number; with the sweep's scope, a key names one object.
    index: &'s pack::index::File,
    data: &'s pack::data::File,
    pack: u64,
    scope: u128,
    /// Reading a delta again, for what it copies (see [`Worker::origin`]).
    inflate: gix::zlib::Inflate,
    delta: Vec<u8>,
    copies: Vec<Copy>,
}

impl<F, V> Clone for Worker<'_, '_, F, V> {
    fn clone(&self) -> Self {
        Worker {
            shared: self.shared,
            done: Done::new(),
            index: self.index,
            data: self.data,
            pack: self.pack,
            scope: self.scope,
            inflate: gix::zlib::Inflate::default(),
            delta: Vec::new(),
            copies: Vec::new(),
        }
    }
}

impl<F, V> Drop for Worker<'_, '_, F, V> {
    fn drop(&mut self) {
        let done = std::mem::replace(&mut self.done, Done::new());
        if done.visitor.is_some() || !done.skipped.is_empty() || !done.handled.is_empty() {
            if let Ok(mut all) = self.shared.done.lock() {
                all.push(done);
            }
        }
    }
}

impl<F: Fn() -> V, V: BlobVisitor> Worker<'_, '_, F, V> {
    fn object(&mut self, kind: gix::object::Kind, data: &[u8], id: &gix::oid, pack_offset: u64) {
        if self.shared.stop.load(Ordering::Relaxed) {
            return;
        }
        let n = self.shared.decoded.fetch_add(1, Ordering::Relaxed);
        if n % RELEASE_EVERY == RELEASE_EVERY - 1 {
            super::resident::release_pack_pages();
        }
        if kind != gix::object::Kind::Blob {
            return;
        }
        let oid = match to_git2(id) {
            Ok(oid) => oid,
            Err(e) => return self.fail(e),
        };
        let Some(&index) = self.shared.inv.index.get(&oid) else {
            return;
        };
        if self.shared.earlier.iter().any(|i| i.lookup(id).is_some()) {
            return;
        }
        self.done.handled.push(index);
        let path = &self.shared.inv.blobs[index as usize].occurrences[0].path;
        let size = data.len() as u64;
        if size > self.shared.max_size {
            let limit = self.shared.max_size;
            self.done.skipped.push(Skipped {
                path: path.to_string(),
                reason: SkipReason::TooLarge { size, limit },
            });
        } else if is_binary(data) {
            self.done.skipped.push(Skipped {
                path: path.to_string(),
                reason: SkipReason::Binary,
            });
        } else {
            let (key, base) = self.origin(pack_offset, data.len());
            let origin = Origin {
                key,
                base: base.map(|b| (b, self.copies.as_slice())),
            };
            let visitor = self.done.visitor.get_or_insert_with(self.shared.make);
            visitor.blob(index, path, data, Some(origin));
        }
    }

    /// The key of the object at `offset` and, when it is a delta whose instructions read
    /// back cleanly, its base's key (the spans it copies are then in `self.copies`). The
    /// traversal hands over the result of a delta, not the delta, so it is inflated again
    /// here: deltas are small (on cargo 90 MB in all, for 1.3 GB of blobs).
    fn origin(&mut self, offset: u64, len: usize) -> (u128, Option<u128>) {
        let key = |offset: u64| self.scope | u128::from(self.pack) << 48 | u128::from(offset);
        let Ok(entry) = self.data.entry(offset) else {
            return (key(offset), None);
        };
        let base = match entry.header {
            pack::data::entry::Header::OfsDelta { base_distance } => {
                offset.checked_sub(base_distance)
            }
            pack::data::entry::Header::RefDelta { base_id } => self
                .index
                .lookup(base_id)
                .map(|i| self.index.pack_offset_at_index(i)),
            _ => None,
        };
        let Some(base) = base else {
            return (key(offset), None);
        };
        let Ok(size) = usize::try_from(entry.decompressed_size) else {
            return (key(offset), None);
        };
        self.delta.clear();
        self.delta.resize(size, 0);
        let read = self
            .data
            .decompress_entry(&entry, &mut self.inflate, &mut self.delta)
            .ok()
            .and_then(|_| read_git_delta(&self.delta, len, &mut self.copies));
        match read {
            Some(()) => (key(offset), Some(key(base))),
            None => (key(offset), None),
        }
    }

    fn fail(&self, e: OdbError) {
        if let Ok(mut failed) = self.shared.failed.lock() {
            failed.get_or_insert(e);
        }
        self.shared.stop.store(true, Ordering::SeqCst);
    }
}

/// What a sweep read, and the blobs (inventory indices) it did not reach.
type Swept<V> = (ReadOutcome<V>, Vec<u32>);

/// Reads the blobs of `inv` by sweeping the packs on `threads` threads, handing each text
/// blob within `max_size` to a visitor `make` builds (one per thread). Returns, besides, the
/// blobs the sweep did not reach (for the object-by-object reader). `Ok(None)` when the packs
/// are not for sweeping (see the module's documentation); an error when the sweep failed part
/// way (its visitors are dropped: the caller reads everything as if no sweep had been tried).
pub(super) fn read_packs<V, F>(
    odb: &Odb,
    inv: &Inventory,
    max_size: u64,
    threads: usize,
    make: &F,
) -> Result<Option<Swept<V>>, OdbError>
where
    V: BlobVisitor,
    F: Fn() -> V + Sync,
{
    let Some(packs) = packs(odb)? else {
        return Ok(None);
    };
    let objects: usize = packs.iter().map(|(i, _)| i.num_objects() as usize).sum();
    if packs.is_empty() || inv.blobs.len().saturating_mul(LISTED_SHARE) < objects {
        return Ok(None);
    }
    let limit = usize::try_from(max_size.max(DECODE_FLOOR)).unwrap_or(usize::MAX);
    let mut shared = Shared {
        inv,
        make,
        max_size,
        done: Mutex::new(Vec::new()),
        failed: Mutex::new(None),
        stop: AtomicBool::new(false),
        decoded: AtomicUsize::new(0),
        earlier: Vec::new(),
    };
    let scope = crate::delta::scope();
    for (pack_number, (index, data)) in packs.into_iter().enumerate() {
        let outcome = {
            let mut worker = Worker {
                shared: &shared,
                done: Done::new(),
                index: &index,
                data: &data,
                pack: pack_number as u64,
                scope,
                inflate: gix::zlib::Inflate::default(),
                delta: Vec::new(),
                copies: Vec::new(),
            };
            index.traverse_with_index(
                &data,
                move |kind, bytes, entry, _| {
                    worker.object(kind, bytes, &entry.oid, entry.pack_offset);
                    Ok(())
                },
                &mut gix::progress::Discard,
                &shared.stop,
                pack::index::traverse::with_index::Options {
                    thread_limit: Some(threads.max(1)),
                    check:
                        pack::index::traverse::SafetyCheck::SkipFileAndObjectChecksumVerification,
                    alloc_limit_bytes: Some(limit),
                },
            )
        };
        if let Some(e) = shared.failed.lock().ok().and_then(|mut f| f.take()) {
            return Err(e);
        }
        if let Err(e) = outcome {
            return Err(err(&format!("sweeping {}", data.path().display()), e));
        }
        shared.earlier.push(index);
    }
    let done = shared
        .done
        .into_inner()
        .map_err(|_| OdbError("a sweeping thread panicked".into()))?;
    let mut handled = vec![false; inv.blobs.len()];
    let mut outcome = ReadOutcome {
        visitors: Vec::new(),
        skipped: Vec::new(),
        warnings: Vec::new(),
    };
    for d in done {
        for i in d.handled {
            handled[i as usize] = true;
        }
        outcome.skipped.extend(d.skipped);
        outcome.visitors.extend(d.visitor);
    }
    let rest = (0..inv.blobs.len() as u32)
        .filter(|&i| !handled[i as usize])
        .collect();
    Ok(Some((outcome, rest)))
}

/// The packs of the repository (its alternates' too), each index with its data file; `None`
/// when a multi-pack index lists them (gix traverses a pack from its own index).
fn packs(odb: &Odb) -> Result<Option<Vec<(pack::index::File, pack::data::File)>>, OdbError> {
    let records = odb
        .handle()
        .store_ref()
        .structure()
        .map_err(|e| err("listing the pack indices", e))?;
    let mut packs = Vec::new();
    for record in records {
        match record {
            gix::odb::store::structure::Record::Index { path, .. } => {
                let index = pack::index::File::at(&path, gix::hash::Kind::Sha1)
                    .map_err(|e| err(&format!("reading {}", path.display()), e))?;
                let data_path = path.with_extension("pack");
                let data = pack::data::File::at(&data_path, gix::hash::Kind::Sha1)
                    .map_err(|e| err(&format!("reading {}", data_path.display()), e))?;
                packs.push((index, data));
            }
            gix::odb::store::structure::Record::MultiIndex { .. } => return Ok(None),
            _ => {}
        }
    }
    Ok(Some(packs))
}
