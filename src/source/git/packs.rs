//! The packs of a repository, each split by what its objects are, and decoded one kind at a
//! time: every object of the kind once, from its delta base, on all threads.
//!
//! Why split: a history scan needs the trees and commits first (to know where each blob is
//! first seen) and the blobs after. Decoding a whole pack twice, once for each, decoded every
//! tree and commit a second time for nothing (on rust-lang/cargo 132 k of its 190 k objects),
//! and reading the trees object by object instead decoded a tree's bases again whenever they
//! had left the cache. A delta is of its base's kind, so the objects of one kind hold their
//! own bases, and each kind is one delta forest gix-pack can traverse alone.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use gix::odb::pack;
use gix::odb::pack::cache::delta::{traverse, Tree};

use super::odb::{err, Odb, OdbError};

/// One pack file with its index.
pub(super) struct Pack {
    pub(super) index: pack::index::File,
    pub(super) data: pack::data::File,
}

/// An object of a pack: where it starts, and its position in the pack's index (which names
/// it: [`pack::index::File::oid_at_index`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct Node {
    pub(super) offset: u64,
    pub(super) position: u32,
}

/// Headers read between two releases of the pack's resident pages.
const RELEASE_EVERY: usize = 8192;

/// Objects decoded (on all threads) between two releases of the packs' resident pages: the
/// traversal reads the pack once, in order, and what it has read is not read again.
const RELEASE_DECODED: usize = 1024;

/// The position of the pack's first object when [`Pack::traverse`] decodes it only to begin
/// its list there.
const FILLER: u32 = u32::MAX;

/// A pack's objects by kind, each list in pack order.
pub(super) struct Split {
    pub(super) blobs: Vec<Node>,
    /// Trees, commits and tags.
    pub(super) others: Vec<Node>,
}

/// The packs of the repository (its alternates' too); `None` when a multi-pack index lists
/// them (gix traverses a pack from its own index).
pub(super) fn open(odb: &Odb) -> Result<Option<Vec<Pack>>, OdbError> {
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
                packs.push(Pack { index, data });
            }
            gix::odb::store::structure::Record::MultiIndex { .. } => return Ok(None),
            _ => {}
        }
    }
    Ok(Some(packs))
}

/// What an object's entry header says it is, as far as the split cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Unknown,
    Blob,
    Other,
}

impl Pack {
    /// Splits the pack's objects into blobs and the rest, from their entry headers alone (no
    /// object is inflated): a delta is of its base's kind.
    pub(super) fn split(&self) -> Result<Split, OdbError> {
        let corrupt = |what: &str| OdbError(format!("{}: {what}", self.data.path().display()));
        let mut nodes: Vec<Node> = self
            .index
            .iter()
            .enumerate()
            .map(|(position, e)| Node {
                offset: e.pack_offset,
                position: position as u32,
            })
            .collect();
        nodes.sort_unstable_by_key(|n| n.offset);
        let at = |offset: u64| nodes.binary_search_by_key(&offset, |n| n.offset).ok();
        let mut kinds = vec![Kind::Unknown; nodes.len()];
        // Each entry's base, by its place in `nodes` (a ref-delta's base may come later).
        let mut bases: Vec<Option<usize>> = vec![None; nodes.len()];
        for (i, node) in nodes.iter().enumerate() {
            // Reading every header touches every page of the pack: they are given back as
            // the reading goes, not held all at once.
            if i % RELEASE_EVERY == RELEASE_EVERY - 1 {
                super::resident::release_pack_pages();
            }
            let entry = self
                .data
                .entry(node.offset)
                .map_err(|e| err(&format!("reading {}", self.data.path().display()), e))?;
            use pack::data::entry::Header;
            match entry.header {
                Header::Blob => kinds[i] = Kind::Blob,
                Header::Tree | Header::Commit | Header::Tag => kinds[i] = Kind::Other,
                Header::OfsDelta { base_distance } => {
                    let base = node
                        .offset
                        .checked_sub(base_distance)
                        .and_then(at)
                        .ok_or_else(|| corrupt("a delta's base is not an object of the pack"))?;
                    bases[i] = Some(base);
                }
                Header::RefDelta { base_id } => {
                    let base = self
                        .index
                        .lookup(base_id)
                        .map(|p| self.index.pack_offset_at_index(p))
                        .and_then(at)
                        .ok_or_else(|| corrupt("a delta's base is not in the pack"))?;
                    bases[i] = Some(base);
                }
            }
        }
        // Each delta takes the kind at the end of its chain of bases, every chain followed
        // once (a pack is untrusted: chains of ref-deltas pointing forward, in any order, must
        // not cost the square of their length).
        let mut chain = Vec::new();
        for i in 0..nodes.len() {
            let mut at = i;
            while kinds[at] == Kind::Unknown {
                if chain.len() > nodes.len() {
                    return Err(corrupt("its deltas form a cycle"));
                }
                chain.push(at);
                at = bases[at].ok_or_else(|| corrupt("a delta has no base"))?;
            }
            let kind = kinds[at];
            for j in chain.drain(..) {
                kinds[j] = kind;
            }
        }
        super::resident::release_pack_pages();
        let mut split = Split {
            blobs: Vec::new(),
            others: Vec::new(),
        };
        for (node, kind) in nodes.into_iter().zip(kinds) {
            match kind {
                Kind::Blob => split.blobs.push(node),
                _ => split.others.push(node),
            }
        }
        Ok(split)
    }

    /// Decodes each object of `nodes` (a kind of [`Pack::split`], in pack order) once, on
    /// `threads` threads, and calls `inspect(node, kind, object)` with it. `inspect` is cloned
    /// for each thread. Objects larger than `limit` bytes stop the traversal with an error.
    pub(super) fn traverse<F>(
        &self,
        nodes: Vec<Node>,
        threads: usize,
        limit: usize,
        stop: &AtomicBool,
        inspect: F,
    ) -> Result<(), OdbError>
    where
        F: FnMut(Node, gix::object::Kind, &[u8]) + Send + Clone,
    {
        let forest = self.forest(nodes, stop)?;
        self.traverse_forest(forest, threads, limit, stop, inspect)
    }

    /// The delta forest of `nodes` (a kind of [`Pack::split`], in pack order), read from
    /// their entry headers: what [`Pack::traverse_forest`] decodes.
    pub(super) fn forest(&self, nodes: Vec<Node>, stop: &AtomicBool) -> Result<Forest, OdbError> {
        if nodes.is_empty() {
            return Ok(Forest(None));
        }
        // gix-pack reads the headers of `nodes` from the pack's first entry on, skipping
        // forward from one to the next: a list that does not begin there begins with the
        // pack's first object, decoded and passed over.
        let first = pack::data::header::SIZE as u64;
        let filler = (nodes[0].offset != first).then_some(Node {
            offset: first,
            position: FILLER,
        });
        let index = &self.index;
        let tree = Tree::from_offsets_in_pack(
            self.data.path(),
            filler.into_iter().chain(nodes),
            &|n: &Node| n.offset,
            &|id| Ok(index.lookup(id).map(|p| index.pack_offset_at_index(p))),
            &mut gix::progress::Discard,
            stop,
            gix::hash::Kind::Sha1,
        )
        .map_err(|e| err(&format!("indexing {}", self.data.path().display()), e))?;
        Ok(Forest(Some(tree)))
    }

    /// [`Pack::traverse`] over a forest [`Pack::forest`] read from this pack.
    pub(super) fn traverse_forest<F>(
        &self,
        forest: Forest,
        threads: usize,
        limit: usize,
        stop: &AtomicBool,
        mut inspect: F,
    ) -> Result<(), OdbError>
    where
        F: FnMut(Node, gix::object::Kind, &[u8]) + Send + Clone,
    {
        let Forest(Some(tree)) = forest else {
            return Ok(());
        };
        let decoded = AtomicUsize::new(0);
        let decoded = &decoded;
        tree.traverse(
            |range, data: &pack::data::File| data.entry_slice(range),
            &self.data,
            self.data.pack_end() as u64,
            move |node: &mut Node, _, context: traverse::Context<'_>| {
                let n = decoded.fetch_add(1, Ordering::Relaxed);
                if n % RELEASE_DECODED == RELEASE_DECODED - 1 {
                    super::resident::release_pack_pages();
                }
                let kind = context.entry.header.as_kind();
                if let (Some(kind), false) = (kind, node.position == FILLER) {
                    inspect(*node, kind, context.decompressed);
                }
                Ok(())
            },
            traverse::Options {
                object_progress: Box::new(gix::progress::Discard),
                size_progress: &mut gix::progress::Discard,
                thread_limit: Some(threads.max(1)),
                should_interrupt: stop,
                object_hash: gix::hash::Kind::Sha1,
                alloc_limit_bytes: Some(limit),
            },
        )
        .map_err(|e| err(&format!("decoding {}", self.data.path().display()), e))?;
        Ok(())
    }
}

/// The delta forest of some of a pack's objects (none when there are none), ready to decode.
pub(super) struct Forest(Option<Tree<Node>>);

/// A whole history's blob sweep, made ready while the walk runs (see `inventory`): the packs,
/// and each one's forest of blobs.
pub struct Plan {
    pub(super) packs: Vec<Pack>,
    pub(super) forests: Vec<Forest>,
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Plan({} packs)", self.packs.len())
    }
}
