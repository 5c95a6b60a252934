//! Every tree the selected commits reach, decoded once into a compact graph (ids as `u32`,
//! names interned), and the first-seen walk of [`super::inventory`] over it.
//!
//! Why this shape: the walk visits each tree at every new path it appears under, millions of
//! entries on a long history; reading them through libgit2 (one at a time, every object
//! hashed and cached) was a quarter of a whole-history scan, and reading them object by
//! object through gitoxide decoded a tree's delta bases again whenever they had left the
//! cache. So the trees and commits of each pack are decoded by one traversal of the pack's
//! delta forest (see `packs`), on all threads, each parsed where it was decoded. An object's
//! id is its position in the packs (no table of ids to build, serially, as the trees come):
//! only objects no pack holds (loose ones) are numbered after them. Trees no pack holds are
//! then read object by object, from the commits' roots down.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use git2::Oid;
use gix::objs::Find;
use gix::ObjectId;

use super::inventory::{record_blob_at, FastSet, Inventory, Met, PathHasher};
use super::odb::{err, par_map, to_git2, to_gix, Odb, OdbError};
use super::packs::{self, Forest, Node, Pack, Plan};

/// Trees read object by object per parallel batch: bounds the raw tree bytes held at once.
const TREE_BATCH: usize = 1024;

/// The most tree entries the graph holds (12 bytes each, plus the names): the graph grows
/// with the history, where the libgit2 walk does not. rust-lang/cargo's whole history has
/// ~2.2 M, so this leaves room for histories seven times larger while bounding the graph to a
/// few hundred MiB; a history with more is walked through libgit2, slower but in bounded
/// memory (with a warning saying so).
pub(super) const MAX_ENTRIES: usize = 1 << 24;

/// What a tree entry points at, as far as the walk cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Tree,
    /// A file (plain or executable).
    Blob,
    /// A symbolic link or a submodule commit: neither holds content to scan.
    Other,
}

/// One tree entry: 12 bytes, so that the millions of entries of a large history stay small.
#[derive(Debug, Clone, Copy)]
struct Entry {
    name: u32,
    id: u32,
    kind: Kind,
}

/// Where a tree's entries are: `entries[chunk][start..end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    chunk: u32,
    start: u32,
    end: u32,
}

/// No tree read for this id.
const NOT_READ: Span = Span {
    chunk: u32::MAX,
    start: 0,
    end: 0,
};

/// The id of an entry an object that is not a tree or a file points at (never looked up).
const NO_ID: u32 = u32::MAX;

/// Slots of a decoding thread's cache of ids (an object id and its number each: 28 bytes).
const ID_CACHE: usize = 1 << 16;

/// Set in an id a decoding thread gave an object no pack holds: the number is the thread's
/// own, renumbered when the threads' work is put together.
const LOCAL: u32 = 1 << 31;

/// Every tree reachable from the selected commits, decoded once.
pub(super) struct Graph {
    /// The packs, their objects numbered in turn, each in its index's order.
    packs: Vec<Pack>,
    /// The id of each pack's first object.
    bases: Vec<u32>,
    /// Objects the packs hold.
    packed: u32,
    /// Objects no pack holds, numbered from `packed` on.
    loose: Vec<ObjectId>,
    loose_index: HashMap<ObjectId, u32, foldhash::fast::RandomState>,
    /// Per id: where its entries are, when it is a tree that was read.
    trees: Vec<Span>,
    entries: Vec<Vec<Entry>>,
    names: Names,
    /// Per selected commit: the id of its root tree.
    roots: Vec<u32>,
    /// Each pack's blobs, from its split: what the sweep after the walk decodes.
    blobs: Vec<Vec<Node>>,
    /// Each decoded commit's root tree, until [`Graph::place`] has found the roots.
    root_of: HashMap<u32, ObjectId, foldhash::fast::RandomState>,
    /// The most tree entries to hold (see [`MAX_ENTRIES`]).
    max_entries: usize,
}

/// Interned names: each distinct entry name once.
#[derive(Default)]
struct Names {
    names: Vec<Box<[u8]>>,
    index: HashMap<Box<[u8]>, u32, foldhash::fast::RandomState>,
}

impl Names {
    fn intern(&mut self, name: &[u8]) -> Result<u32, OdbError> {
        if let Some(&i) = self.index.get(name) {
            return Ok(i);
        }
        let i = u32::try_from(self.names.len())
            .ok()
            .filter(|&i| i < LOCAL)
            .ok_or_else(|| OdbError("more than 2^31 names in the trees".into()))?;
        self.names.push(name.into());
        self.index.insert(name.into(), i);
        Ok(i)
    }
}

/// Finds an object's id in the packs: the first pack that holds it numbers it.
fn packed_id(packs: &[Pack], bases: &[u32], id: &gix::oid) -> Option<u32> {
    packs
        .iter()
        .zip(bases)
        .find_map(|(pack, base)| pack.index.lookup(id).map(|p| base + p))
}

/// How a tree entry's mode is walked: as libgit2 sees it, a tree, a submodule (commit), a
/// symbolic link (which holds a path, not content), or else a file.
fn kind_of(mode: gix::objs::tree::EntryMode) -> Kind {
    if mode.is_tree() {
        Kind::Tree
    } else if mode.is_link() || mode.is_commit() {
        Kind::Other
    } else {
        Kind::Blob
    }
}

/// Parses a tree's entries onto `entries`, names interned into `names`, the id of each tree
/// and file given by `id_of`; returns where they are in `entries`. Both readers of trees (the
/// packs' traversal and the object-by-object reader) parse through here.
fn parse_tree(
    data: &[u8],
    names: &mut Names,
    entries: &mut Vec<Entry>,
    mut id_of: impl FnMut(&gix::oid) -> Result<u32, OdbError>,
) -> Result<(u32, u32), OdbError> {
    let too_many = || OdbError("more than 2^32 tree entries".into());
    let start = u32::try_from(entries.len()).map_err(|_| too_many())?;
    for entry in gix::objs::TreeRefIter::from_bytes(data, gix::hash::Kind::Sha1) {
        let entry = entry.map_err(|e| err("parsing a tree", e))?;
        let kind = kind_of(entry.mode);
        let id = match kind {
            Kind::Other => NO_ID,
            _ => id_of(entry.oid)?,
        };
        let name = names.intern(entry.filename)?;
        entries.push(Entry { name, id, kind });
    }
    let end = u32::try_from(entries.len()).map_err(|_| too_many())?;
    Ok((start, end))
}

/// Why a graph is not built: it would hold more than `max` tree entries.
fn past_bound(max: usize) -> OdbError {
    OdbError(format!(
        "more than {max} tree entries, too many to hold in memory"
    ))
}

/// What one thread of a pack traversal decoded: the trees' entries (names and loose ids
/// numbered by the thread), and the root tree of each commit.
#[derive(Default)]
struct Part {
    entries: Vec<Entry>,
    /// (tree id, start, end) in `entries`.
    trees: Vec<(u32, u32, u32)>,
    names: Names,
    loose: Vec<ObjectId>,
    loose_index: HashMap<ObjectId, u32, foldhash::fast::RandomState>,
    /// (commit id, root tree id).
    commits: Vec<(u32, ObjectId)>,
    error: Option<OdbError>,
    /// A direct-mapped cache of ids found in the packs (see [`Decoder::packed_id`]).
    ids: Vec<Option<(ObjectId, u32)>>,
}

impl Part {
    fn new() -> Part {
        Part {
            ids: vec![None; ID_CACHE],
            ..Part::default()
        }
    }
}

/// A traversal thread's state: gix clones it for each thread, and each clone hands its
/// [`Part`] over when dropped.
struct Decoder<'a> {
    packs: &'a [Pack],
    bases: &'a [u32],
    /// The id of the traversed pack's first object.
    base: u32,
    part: Part,
    parts: &'a Mutex<Vec<Part>>,
    /// Tree entries decoded by all threads, bounded by `max_entries` as they come: past it
    /// the traversal stops (the graph would not be kept anyway).
    held: &'a AtomicUsize,
    max_entries: usize,
    stop: &'a AtomicBool,
}

impl Clone for Decoder<'_> {
    fn clone(&self) -> Self {
        Decoder {
            packs: self.packs,
            bases: self.bases,
            base: self.base,
            part: Part::new(),
            parts: self.parts,
            held: self.held,
            max_entries: self.max_entries,
            stop: self.stop,
        }
    }
}

impl Drop for Decoder<'_> {
    fn drop(&mut self) {
        let mut part = std::mem::take(&mut self.part);
        part.ids = Vec::new();
        if part.trees.is_empty() && part.commits.is_empty() && part.error.is_none() {
            return;
        }
        if let Ok(mut parts) = self.parts.lock() {
            parts.push(part);
        }
    }
}

impl Decoder<'_> {
    /// [`packed_id`] through the thread's cache: a tree's entries mostly name objects its
    /// earlier versions named too, and a lookup in a pack index is a binary search.
    fn packed_id(&mut self, oid: &gix::oid) -> Option<u32> {
        let bytes = oid.as_bytes();
        let slot = u64::from_le_bytes(bytes[..8].try_into().ok()?) as usize % ID_CACHE;
        if let Some((known, id)) = &self.part.ids[slot] {
            if known.as_ref() == oid {
                return Some(*id);
            }
        }
        let id = packed_id(self.packs, self.bases, oid)?;
        self.part.ids[slot] = Some((oid.to_owned(), id));
        Some(id)
    }

    fn object(&mut self, position: u32, kind: gix::object::Kind, data: &[u8]) {
        if self.part.error.is_some() {
            return;
        }
        let id = self.base + position;
        let result = match kind {
            gix::object::Kind::Tree => self.tree(id, data),
            gix::object::Kind::Commit => {
                gix::objs::CommitRefIter::from_bytes(data, gix::hash::Kind::Sha1)
                    .tree_id()
                    .map(|tree| self.part.commits.push((id, tree)))
                    .map_err(|e| err("parsing a commit", e))
            }
            _ => Ok(()),
        };
        if let Err(e) = result {
            self.part.error = Some(e);
        }
    }

    fn tree(&mut self, id: u32, data: &[u8]) -> Result<(), OdbError> {
        let mut names = std::mem::take(&mut self.part.names);
        let mut entries = std::mem::take(&mut self.part.entries);
        let parsed = parse_tree(data, &mut names, &mut entries, |oid| {
            if let Some(id) = self.packed_id(oid) {
                return Ok(id);
            }
            let part = &mut self.part;
            let i = match part.loose_index.get(oid) {
                Some(&i) => i,
                None => {
                    let i = part.loose.len() as u32;
                    part.loose.push(oid.to_owned());
                    part.loose_index.insert(oid.to_owned(), i);
                    i
                }
            };
            Ok(LOCAL | i)
        });
        self.part.names = names;
        self.part.entries = entries;
        let (start, end) = parsed?;
        self.part.trees.push((id, start, end));
        let n = (end - start) as usize;
        if self.held.fetch_add(n, Ordering::Relaxed) + n > self.max_entries {
            self.stop.store(true, Ordering::Relaxed);
            return Err(past_bound(self.max_entries));
        }
        Ok(())
    }
}

impl Graph {
    /// Decodes every tree and commit of the packs and then the trees no pack holds that the
    /// root trees of `commits` reach, on `threads` threads, giving up past `max_entries` tree
    /// entries.
    #[cfg(test)]
    pub(super) fn build_within(
        odb: &Odb,
        commits: &[Oid],
        threads: usize,
        max_entries: usize,
    ) -> Result<Graph, OdbError> {
        let mut graph = Graph::decode(odb, threads, max_entries)?;
        graph.place(odb, commits, threads)?;
        Ok(graph)
    }

    /// Decodes every tree and commit of the packs, on `threads` threads: what
    /// [`Graph::place`] needs but the commits, so that it can run while they are listed.
    pub(super) fn decode(odb: &Odb, threads: usize, max_entries: usize) -> Result<Graph, OdbError> {
        // A multi-pack index: every object is read object by object.
        let packs = packs::open(odb)?.unwrap_or_default();
        let mut bases = Vec::with_capacity(packs.len());
        let mut packed: u32 = 0;
        for pack in &packs {
            bases.push(packed);
            packed = packed
                .checked_add(pack.index.num_objects())
                .filter(|&n| n < LOCAL)
                .ok_or_else(|| OdbError("more than 2^31 objects in the packs".into()))?;
        }
        let mut graph = Graph {
            packs: Vec::new(),
            bases: Vec::new(),
            packed,
            loose: Vec::new(),
            loose_index: HashMap::default(),
            trees: vec![NOT_READ; packed as usize],
            entries: Vec::new(),
            names: Names::default(),
            roots: Vec::new(),
            blobs: Vec::new(),
            root_of: HashMap::default(),
            max_entries,
        };
        let parts = Mutex::new(Vec::new());
        let stop = AtomicBool::new(false);
        let held = AtomicUsize::new(0);
        for (pack, &base) in packs.iter().zip(&bases) {
            let split = pack.split()?;
            graph.blobs.push(split.blobs);
            let others = split.others;
            let decoder = Decoder {
                packs: &packs,
                bases: &bases,
                base,
                part: Part::new(),
                parts: &parts,
                held: &held,
                max_entries,
                stop: &stop,
            };
            let traversed = pack.traverse(others, threads, usize::MAX, &stop, {
                let mut decoder = decoder;
                move |node, kind, data| decoder.object(node.position, kind, data)
            });
            // A thread's own error (past the bound, say) stopped the traversal: it is the
            // one to tell.
            if let Ok(mut parts) = parts.lock() {
                if let Some(e) = parts.iter_mut().find_map(|p| p.error.take()) {
                    return Err(e);
                }
            }
            traversed?;
        }
        let parts = parts
            .into_inner()
            .map_err(|_| OdbError("a decoding thread panicked".into()))?;
        graph.packs = packs;
        graph.bases = bases;
        for mut part in parts {
            if let Some(e) = part.error.take() {
                return Err(e);
            }
            graph.root_of.extend(std::mem::take(&mut part.commits));
            graph.absorb(part)?;
        }
        super::resident::release_pack_pages();
        Ok(graph)
    }

    /// Gives the graph the selected `commits` (in the order the walk takes them): finds each
    /// one's root tree, and reads the trees they reach that no pack held.
    pub(super) fn place(
        &mut self,
        odb: &Odb,
        commits: &[Oid],
        threads: usize,
    ) -> Result<(), OdbError> {
        self.roots.clear();
        let mut unread = Vec::new();
        for (i, oid) in commits.iter().enumerate() {
            let id = to_gix(*oid)?;
            let root = packed_id(&self.packs, &self.bases, &id).and_then(|c| self.root_of.get(&c));
            match root.copied() {
                Some(tree) => {
                    let root = self.id(&tree)?;
                    self.roots.push(root);
                }
                None => {
                    self.roots.push(NO_ID);
                    unread.push(i);
                }
            }
        }
        self.root_of = HashMap::default();
        let read = par_map(
            &unread,
            threads,
            256,
            || (odb.handle(), Vec::new()),
            |(handle, buf), &i| -> Result<ObjectId, OdbError> {
                let id = to_gix(commits[i])?;
                let data = handle
                    .try_find(&id, buf)
                    .map_err(|e| err(&format!("reading commit {id}"), e))?
                    .ok_or_else(|| OdbError(format!("commit {id} is missing")))?;
                if data.kind != gix::object::Kind::Commit {
                    return Err(OdbError(format!("{id} is not a commit")));
                }
                gix::objs::CommitRefIter::from_bytes(data.data, data.object_hash)
                    .tree_id()
                    .map_err(|e| err(&format!("parsing commit {id}"), e))
            },
        )?;
        for (i, tree) in unread.into_iter().zip(read) {
            self.roots[i] = self.id(&tree?)?;
        }
        self.read_unpacked_trees(odb, threads)
    }

    /// Puts one traversal thread's trees into the graph, renumbering its names and the
    /// objects it found in no pack.
    fn absorb(&mut self, part: Part) -> Result<(), OdbError> {
        let names: Vec<u32> = part
            .names
            .names
            .iter()
            .map(|n| self.names.intern(n))
            .collect::<Result<_, _>>()?;
        let loose: Vec<u32> = part
            .loose
            .iter()
            .map(|id| self.id(id))
            .collect::<Result<_, _>>()?;
        let mut entries = part.entries;
        for entry in &mut entries {
            entry.name = names[entry.name as usize];
            if entry.id != NO_ID && entry.id & LOCAL != 0 {
                entry.id = loose[(entry.id & !LOCAL) as usize];
            }
        }
        let chunk = u32::try_from(self.entries.len())
            .map_err(|_| OdbError("too many decoding threads".into()))?;
        for (tree, start, end) in part.trees {
            self.trees[tree as usize] = Span { chunk, start, end };
        }
        self.entries.push(entries);
        Ok(())
    }

    /// The id of an object: its place in the packs, or else a number after them.
    fn id(&mut self, oid: &gix::oid) -> Result<u32, OdbError> {
        if let Some(id) = packed_id(&self.packs, &self.bases, oid) {
            return Ok(id);
        }
        if let Some(&i) = self.loose_index.get(oid) {
            return Ok(self.packed + i);
        }
        let i = u32::try_from(self.loose.len())
            .ok()
            .and_then(|i| self.packed.checked_add(i))
            .filter(|&id| id < LOCAL)
            .ok_or_else(|| OdbError("more than 2^31 objects in the trees".into()))?;
        self.loose.push(oid.to_owned());
        self.loose_index.insert(oid.to_owned(), i - self.packed);
        self.trees.push(NOT_READ);
        Ok(i)
    }

    /// The object an id stands for.
    fn oid(&self, id: u32) -> &gix::oid {
        match id.checked_sub(self.packed) {
            Some(i) => &self.loose[i as usize],
            None => {
                let pack = self.bases.partition_point(|&b| b <= id) - 1;
                self.packs[pack].index.oid_at_index(id - self.bases[pack])
            }
        }
    }

    /// The entries of a tree that was read (none for anything else: the walk only descends
    /// into trees that were read, so that is never hit).
    fn entries_of(&self, tree: u32) -> &[Entry] {
        let span = self.trees[tree as usize];
        self.entries
            .get(span.chunk as usize)
            .and_then(|chunk| chunk.get(span.start as usize..span.end as usize))
            .unwrap_or_default()
    }

    /// Reads, object by object, every tree the roots reach that no pack held (loose trees),
    /// on `threads` threads; interning is done on this thread.
    fn read_unpacked_trees(&mut self, odb: &Odb, threads: usize) -> Result<(), OdbError> {
        let max_entries = self.max_entries;
        let mut reached = vec![false; self.trees.len()];
        let mut frontier: Vec<u32> = Vec::new();
        for &root in &self.roots {
            if !reached[root as usize] {
                reached[root as usize] = true;
                frontier.push(root);
            }
        }
        let chunk = u32::try_from(self.entries.len())
            .map_err(|_| OdbError("too many decoding threads".into()))?;
        self.entries.push(Vec::new());
        let mut held: usize = self.entries.iter().map(Vec::len).sum();
        let mut ids: Vec<ObjectId> = Vec::with_capacity(TREE_BATCH);
        while !frontier.is_empty() {
            let mut next = Vec::new();
            // Trees decoded with their pack: only their subtrees are followed.
            let mut unread = Vec::new();
            for &tree in &frontier {
                if self.trees[tree as usize] == NOT_READ {
                    unread.push(tree);
                    continue;
                }
                for entry in self.entries_of(tree) {
                    if entry.kind == Kind::Tree && !reached[entry.id as usize] {
                        reached[entry.id as usize] = true;
                        next.push(entry.id);
                    }
                }
            }
            for batch in unread.chunks(TREE_BATCH) {
                ids.clear();
                ids.extend(batch.iter().map(|&i| self.oid(i).to_owned()));
                let raw = par_map(
                    &ids,
                    threads,
                    64,
                    || (odb.handle(), Vec::new()),
                    |(handle, buf), id| -> Result<Vec<u8>, OdbError> {
                        let data = handle
                            .try_find(id, buf)
                            .map_err(|e| err(&format!("reading tree {id}"), e))?
                            .ok_or_else(|| OdbError(format!("tree {id} is missing")))?;
                        if data.kind != gix::object::Kind::Tree {
                            return Err(OdbError(format!("{id} is not a tree")));
                        }
                        Ok(data.data.to_vec())
                    },
                )?;
                // The trees just read lie behind the read position for good.
                super::resident::release_pack_pages();
                for (&tree, bytes) in batch.iter().zip(raw) {
                    let bytes = bytes?;
                    let mut names = std::mem::take(&mut self.names);
                    let mut entries = std::mem::take(&mut self.entries[chunk as usize]);
                    let parsed = parse_tree(&bytes, &mut names, &mut entries, |oid| self.id(oid));
                    self.names = names;
                    self.entries[chunk as usize] = entries;
                    let (start, end) =
                        parsed.map_err(|e| OdbError(format!("tree {}: {e}", self.oid(tree))))?;
                    reached.resize(self.trees.len(), false);
                    for entry in &self.entries[chunk as usize][start as usize..end as usize] {
                        if entry.kind == Kind::Tree && !reached[entry.id as usize] {
                            reached[entry.id as usize] = true;
                            next.push(entry.id);
                        }
                    }
                    held += (end - start) as usize;
                    if held > max_entries {
                        return Err(past_bound(max_entries));
                    }
                    self.trees[tree as usize] = Span { chunk, start, end };
                }
            }
            frontier = next;
        }
        Ok(())
    }

    /// The number of tree entries held.
    #[cfg(test)]
    pub(super) fn entry_count(&self) -> usize {
        self.entries.iter().map(Vec::len).sum()
    }

    /// Reads the delta forest of each pack's blobs (see [`Pack::forest`]), for the sweep.
    pub(super) fn blob_forests(&self, blobs: Vec<Vec<Node>>) -> Result<Vec<Forest>, OdbError> {
        let stop = AtomicBool::new(false);
        self.packs
            .iter()
            .zip(blobs)
            .map(|(pack, blobs)| pack.forest(blobs, &stop))
            .collect()
    }

    /// Each pack's blobs, taken out of the graph.
    pub(super) fn take_blobs(&mut self) -> Vec<Vec<Node>> {
        std::mem::take(&mut self.blobs)
    }

    /// The sweep of the blobs, given their forests: the graph's packs, the rest dropped.
    pub(super) fn into_plan(self, forests: Vec<Forest>) -> Plan {
        Plan {
            packs: self.packs,
            forests,
        }
    }

    /// Records, into `inv`, the blobs of every selected commit's tree that no earlier tree
    /// held: the same walk, in the same order, with the same seen-set keys, as the libgit2
    /// walker in [`super::inventory`] (the tests compare the two).
    pub(super) fn walk(&self, inv: &mut Inventory) -> Result<(), OdbError> {
        // Per id: its index in `inv.blobs` plus one (0: not recorded yet), in place of
        // `inv.index`, which is filled once at the end.
        let mut blob_of: Vec<u32> = vec![0; self.trees.len()];
        let mut seen: FastSet<(u32, u64)> = FastSet::default();
        let paths = PathHasher::default();
        // Each name as text once, not once per entry (millions of them on a long history).
        let texts: Vec<std::borrow::Cow<'_, str>> = self
            .names
            .names
            .iter()
            .map(|n| String::from_utf8_lossy(n))
            .collect();
        let mut path = String::new();
        // (tree, length of its path in `path`, next entry): an explicit stack, as a tree
        // nested thousands of levels deep must not overflow the thread's stack.
        let mut stack: Vec<(u32, usize, usize)> = Vec::new();
        for (commit, &root) in self.roots.iter().enumerate() {
            let commit = commit as u32;
            if !seen.insert((root, paths.hash(&[b""]))) {
                continue;
            }
            path.clear();
            stack.clear();
            stack.push((root, 0, 0));
            while let Some((tree, len, next)) = stack.last_mut() {
                path.truncate(*len);
                let Some(entry) = self.entries_of(*tree).get(*next).copied() else {
                    stack.pop();
                    continue;
                };
                *next += 1;
                let (name, text) = (
                    &self.names.names[entry.name as usize],
                    &texts[entry.name as usize],
                );
                match entry.kind {
                    Kind::Tree => {
                        let key = paths.hash(&[path.as_bytes(), name, b"/"]);
                        if !seen.insert((entry.id, key)) {
                            continue;
                        }
                        path.push_str(text);
                        path.push('/');
                        stack.push((entry.id, path.len(), 0));
                    }
                    Kind::Blob => {
                        let met = match blob_of[entry.id as usize].checked_sub(1) {
                            Some(i) => Met::Known(i),
                            None => Met::New(to_git2(self.oid(entry.id))?),
                        };
                        let index = record_blob_at(inv, met, &path, text, commit);
                        blob_of[entry.id as usize] = index + 1;
                    }
                    Kind::Other => {}
                }
            }
        }
        inv.reindex();
        Ok(())
    }
}
