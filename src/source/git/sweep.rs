//! The blobs of a whole history read by one sweep over each pack: every blob decoded once,
//! from its delta base, on all threads.
//!
//! Why: reading the listed blobs object by object, even in pack order with a cache of delta
//! bases per thread, decodes a base again whenever it has left the cache or another thread
//! decoded it. gix-pack's traversal of a pack's delta tree decodes each object exactly once:
//! on rust-lang/cargo (1.3 GiB of blobs) it decodes the whole pack in 0.42 s on two cores. Only
//! the pack's blobs are decoded (the trees and commits were, for the walk: see `packs`), but
//! blobs no listed path reaches are decoded too, so the sweep is only taken when the listed
//! blobs are a good part of the packs (a whole history, not a few paths of it).
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

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use gix::odb::pack;

use super::inventory::Inventory;
use super::odb::{to_git2, Odb, OdbError};
use super::packs::{self, Node, Pack, Plan};
use super::read::{BlobVisitor, ReadOutcome};
use crate::delta::{read_git_delta, Copy, Origin};
use crate::source::{is_binary, SkipReason, Skipped};

/// A sweep decodes every object of the packs: it is taken when the listed blobs are at least
/// this share (1/n) of the packs' objects.
const LISTED_SHARE: usize = 32;

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
    /// The packs, swept in turn: an object an earlier pack holds was handled there.
    packs: &'a [Pack],
}

/// One traversal thread's state: gix clones the processor once per thread, and each clone
/// hands what it gathered to [`Shared::done`] when dropped.
struct Worker<'s, 'a, F, V> {
    shared: &'s Shared<'a, F, V>,
    done: Done<V>,
    /// The pack being swept, and its number; with the sweep's scope, a key names one object.
    pack: &'s Pack,
    number: usize,
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
            pack: self.pack,
            number: self.number,
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
    fn object(&mut self, node: Node, data: &[u8]) {
        if self.shared.stop.load(Ordering::Relaxed) {
            return;
        }
        let id = self.pack.index.oid_at_index(node.position);
        let oid = match to_git2(id) {
            Ok(oid) => oid,
            Err(e) => return self.fail(e),
        };
        let Some(&index) = self.shared.inv.index.get(&oid) else {
            return;
        };
        let earlier = &self.shared.packs[..self.number];
        if earlier.iter().any(|p| p.index.lookup(id).is_some()) {
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
            let (key, base) = self.origin(node.offset, data.len());
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
        let key = |offset: u64| self.scope | (self.number as u128) << 48 | u128::from(offset);
        let (index, data) = (&self.pack.index, &self.pack.data);
        let Ok(entry) = data.entry(offset) else {
            return (key(offset), None);
        };
        let base = match entry.header {
            pack::data::entry::Header::OfsDelta { base_distance } => {
                offset.checked_sub(base_distance)
            }
            pack::data::entry::Header::RefDelta { base_id } => {
                index.lookup(base_id).map(|i| index.pack_offset_at_index(i))
            }
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
        let read = data
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
    // The walk made the sweep ready (see `inventory`), or it is made now.
    let plan = inv.plan.lock().ok().and_then(|mut plan| plan.take());
    let (packs, forests) = match plan {
        Some(Plan { packs, forests }) => (packs, Some(forests)),
        None => match packs::open(odb)? {
            Some(packs) => (packs, None),
            None => return Ok(None),
        },
    };
    let objects: usize = packs.iter().map(|p| p.index.num_objects() as usize).sum();
    if packs.is_empty() || inv.blobs.len().saturating_mul(LISTED_SHARE) < objects {
        return Ok(None);
    }
    let limit = usize::try_from(max_size.max(DECODE_FLOOR)).unwrap_or(usize::MAX);
    let shared = Shared {
        inv,
        make,
        max_size,
        done: Mutex::new(Vec::new()),
        failed: Mutex::new(None),
        stop: AtomicBool::new(false),
        packs: &packs,
    };
    let scope = crate::delta::scope();
    let mut forests = forests.map(Vec::into_iter);
    for (number, pack) in packs.iter().enumerate() {
        let forest = match forests.as_mut().and_then(Iterator::next) {
            Some(forest) => forest,
            None => pack.forest(pack.split()?.blobs, &shared.stop)?,
        };
        let worker = Worker {
            shared: &shared,
            done: Done::new(),
            pack,
            number,
            scope,
            inflate: gix::zlib::Inflate::default(),
            delta: Vec::new(),
            copies: Vec::new(),
        };
        let outcome = pack.traverse_forest(forest, threads, limit, &shared.stop, {
            let mut worker = worker;
            move |node, kind, bytes| {
                if kind == gix::object::Kind::Blob {
                    worker.object(node, bytes);
                }
            }
        });
        if let Some(e) = shared.failed.lock().ok().and_then(|mut f| f.take()) {
            return Err(e);
        }
        outcome?;
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
