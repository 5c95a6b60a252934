//! What a history scan will read: each blob the selected commits introduce, once, with every
//! commit and path it was first seen at, found by walking each commit's tree and skipping
//! every tree already seen.
//!
//! Two walkers do the same walk. When nothing is known beforehand (the whole history, a
//! branch), every tree is decoded once, on all threads, by gitoxide into an in-memory graph
//! and walked there (see `odb`): the serial libgit2 walk was a quarter of a whole-history scan.
//! A scan that starts past some commits (`--since`, `--range`, a date window), whose boundary
//! trees must be marked known first, and any history gitoxide cannot read, are walked through
//! libgit2, which names what is missing or corrupt.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use git2::{ObjectType, Oid, Repository, Tree};

use super::graph::{Graph, MAX_ENTRIES};
use super::odb;
use super::packs::Plan;
use super::select::{boundary_commits, select_commits, DateWindow, Selection};
use super::{short, GitError};
use crate::source::{SkipReason, Skipped};

/// Where a blob was first seen at one path.
#[derive(Debug, Clone)]
pub struct Occurrence {
    /// Index into [`Inventory::commits`].
    pub commit: u32,
    pub path: Arc<str>,
}

/// A blob to scan and every path it was first seen at.
#[derive(Debug, Clone)]
pub struct BlobRef {
    pub oid: Oid,
    pub occurrences: Vec<Occurrence>,
}

/// What a history scan will read: the selected commits (oldest first) and the blobs they
/// introduce, each once.
#[derive(Debug, Default)]
pub struct Inventory {
    pub commits: Vec<Oid>,
    pub blobs: Vec<BlobRef>,
    /// Blob id → index into `blobs`.
    pub index: HashMap<Oid, u32>,
    /// The commit whose tree says what is "still in HEAD" (HEAD, or the selected tip).
    pub head: Option<Oid>,
    /// Problems met while walking (a missing tree, a shallow boundary), never silent.
    pub skipped: Vec<Skipped>,
    pub warnings: Vec<String>,
    /// Whether only part of the history was selected (`--since`, `--range`, `--branch`).
    pub narrow: bool,
    /// The sweep of the packs' blobs, made ready during the walk, for the reader to take.
    pub(super) plan: Mutex<Option<Plan>>,
}

impl Inventory {
    /// Keeps only the places whose path `keep` accepts (the config's `exclude_paths`); a blob
    /// left with no place is not read at all.
    pub fn retain_paths(&mut self, keep: impl Fn(&str) -> bool) {
        for blob in &mut self.blobs {
            blob.occurrences.retain(|o| keep(&o.path));
        }
        self.blobs.retain(|b| !b.occurrences.is_empty());
        self.reindex();
    }

    /// Builds `index` anew from `blobs`.
    pub(super) fn reindex(&mut self) {
        self.index = self
            .blobs
            .iter()
            .enumerate()
            .map(|(i, b)| (b.oid, i as u32))
            .collect();
    }
}

/// Lists the commits of `selection`, oldest first, and the blobs they introduce.
pub fn inventory(repo: &Repository, selection: &Selection) -> Result<Inventory, GitError> {
    inventory_in(repo, selection, DateWindow::default())
}

/// [`inventory`], keeping only the commits committed within `window`. Like `--since`, a
/// window reports what its commits add: what an excluded parent already had is not reported
/// again. Trees are decoded on one thread per CPU.
pub fn inventory_in(
    repo: &Repository,
    selection: &Selection,
    window: DateWindow,
) -> Result<Inventory, GitError> {
    inventory_on(repo, selection, window, 0)
}

/// [`inventory_in`], decoding trees on `threads` threads (0: one per CPU).
pub fn inventory_on(
    repo: &Repository,
    selection: &Selection,
    window: DateWindow,
    threads: usize,
) -> Result<Inventory, GitError> {
    inventory_with(repo, selection, window, Some(threads))
}

/// [`inventory_in`]; `in_memory` (threads, 0 for one per CPU) lets gitoxide read the trees
/// when nothing is known beforehand; `None` forces the libgit2 walk (the tests compare them).
pub(super) fn inventory_with(
    repo: &Repository,
    selection: &Selection,
    window: DateWindow,
    in_memory: Option<usize>,
) -> Result<Inventory, GitError> {
    // The whole history or one branch: the packs' trees do not depend on which commits are
    // selected, so they are decoded while libgit2 lists the commits.
    let early = in_memory
        .filter(|_| window.is_open() && matches!(selection, Selection::All | Selection::Branch(_)));
    let dir = repo.path().to_path_buf();
    std::thread::scope(|scope| {
        let decoding = early.map(|threads| {
            let dir = &dir;
            scope.spawn(move || decode_packs(dir, threads))
        });
        list(repo, selection, window, in_memory, decoding)
    })
}

/// The packs' trees and commits decoded into a graph (see [`Graph::decode`]).
fn decode_packs(dir: &Path, threads: usize) -> Result<(odb::Odb, Graph), odb::OdbError> {
    let odb = odb::Odb::open(dir)?;
    let graph = Graph::decode(&odb, cpus(threads), MAX_ENTRIES)?;
    Ok((odb, graph))
}

/// `threads`, or one per CPU for 0.
fn cpus(threads: usize) -> usize {
    match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

/// What [`decode_packs`] gives, decoded on another thread.
type Decoding<'scope> =
    std::thread::ScopedJoinHandle<'scope, Result<(odb::Odb, Graph), odb::OdbError>>;

/// [`inventory_with`], given the packs' trees if they are being decoded already.
fn list(
    repo: &Repository,
    selection: &Selection,
    window: DateWindow,
    in_memory: Option<usize>,
    decoding: Option<Decoding<'_>>,
) -> Result<Inventory, GitError> {
    let mut inv = Inventory::default();
    let hidden = select_commits(repo, selection, window, &mut inv)?;
    // libgit2's commit walk leaves the pack pages it read resident (its own mapping): given
    // back before the walk, the listing's peak.
    super::resident::release_pack_pages();
    let dated = !window.is_open();
    let mut walker = TreeWalker {
        repo,
        seen_trees: FastSet::default(),
        paths: PathHasher::default(),
        known: HashSet::new(),
        inv: &mut inv,
    };
    // A narrow scan reports what its commits add: trees and blobs of the commits it starts
    // from are known already.
    let boundary: Vec<Oid> = if hidden.is_empty() && !dated {
        Vec::new()
    } else {
        boundary_commits(repo, &walker.inv.commits, &hidden)
    };
    // Nothing known beforehand: the trees are decoded on all threads into memory and walked
    // there. Anything gitoxide cannot read takes the libgit2 walk below, which names it.
    if let (Some(threads), true, false) = (
        in_memory,
        boundary.is_empty(),
        walker.inv.commits.is_empty(),
    ) {
        let decoded = match decoding {
            Some(decoding) => decoding
                .join()
                .unwrap_or_else(|_| Err(odb::OdbError("a decoding thread panicked".into()))),
            None => decode_packs(repo.path(), threads),
        };
        match decoded.and_then(|(odb, graph)| walk_graph(&odb, graph, &walker.inv.commits, threads))
        {
            Ok(found) => {
                walker.inv.blobs = found.blobs;
                walker.inv.index = found.index;
                walker.inv.plan = found.plan;
                return Ok(inv);
            }
            Err(e) => walker.inv.warnings.push(format!(
                "reading the trees in-process failed ({e}); walking them through libgit2"
            )),
        }
    }
    for oid in boundary {
        if let Ok(tree) = repo.find_commit(oid).and_then(|c| c.tree()) {
            walker.mark_known(tree, "");
        }
    }
    for i in 0..walker.inv.commits.len() {
        let oid = walker.inv.commits[i];
        match repo.find_commit(oid).and_then(|c| c.tree()) {
            Ok(tree) => walker.walk(tree, "", i as u32),
            Err(e) => walker.inv.skipped.push(Skipped {
                path: format!("<commit {}>", short(oid)),
                reason: SkipReason::Unreadable(format!(
                    "missing or corrupt commit or tree: {}",
                    e.message()
                )),
            }),
        }
    }
    Ok(inv)
}

/// The blobs `commits` introduce, found by [`Graph`] on `threads` threads (0: one per CPU);
/// an error if gitoxide could not read something.
#[cfg(test)]
pub(super) fn walk_in_memory(
    repo: &Repository,
    commits: &[Oid],
    threads: usize,
) -> Result<Inventory, odb::OdbError> {
    let (odb, graph) = decode_packs(repo.path(), threads)?;
    walk_graph(&odb, graph, commits, threads)
}

/// The blobs `commits` introduce, found by walking `graph` once it has them.
fn walk_graph(
    odb: &odb::Odb,
    mut graph: Graph,
    commits: &[Oid],
    threads: usize,
) -> Result<Inventory, odb::OdbError> {
    graph.place(odb, commits, cpus(threads))?;
    let mut found = Inventory::default();
    let blobs = graph.take_blobs();
    // The walk runs on this thread alone: the blobs' delta forests, which the sweep decodes
    // next, are read meanwhile.
    let (walked, forests) = std::thread::scope(|scope| {
        let graph = &graph;
        let forests = scope.spawn(move || graph.blob_forests(blobs));
        let walked = graph.walk(&mut found);
        (walked, forests.join())
    });
    // The graph (tens of MB on a long history) is dead once walked; its packs are swept.
    if let Ok(Ok(forests)) = forests {
        found.plan = Mutex::new(Some(graph.into_plan(forests)));
    } else {
        drop(graph);
    }
    super::resident::release_pack_pages();
    super::resident::trim_heap();
    walked?;
    Ok(found)
}

struct TreeWalker<'a> {
    repo: &'a Repository,
    /// Trees already walked, by id *and* path: the same tree under a new path (a directory
    /// renamed or copied) puts its blobs at new paths, so it is walked again there.
    seen_trees: FastSet<(Oid, u64)>,
    paths: PathHasher,
    known: HashSet<Oid>,
    inv: &'a mut Inventory,
}

impl<'a> TreeWalker<'a> {
    /// Marks a boundary tree and everything in it as already seen.
    fn mark_known(&mut self, tree: Tree<'a>, prefix: &str) {
        self.visit(tree, prefix, None);
    }

    /// Records the blobs of a commit's tree that no earlier tree held.
    fn walk(&mut self, tree: Tree<'a>, prefix: &str, commit: u32) {
        self.visit(tree, prefix, Some(commit));
    }

    /// Depth-first, in entry order, with an explicit stack: a tree nested tens of thousands of
    /// levels deep (which anyone can commit) must not overflow the thread's stack. `commit` is
    /// `None` for a boundary tree, whose blobs become known rather than recorded.
    fn visit(&mut self, root: Tree<'a>, prefix: &str, commit: Option<u32>) {
        let repo = self.repo;
        if !self
            .seen_trees
            .insert((root.id(), self.paths.hash(&[prefix.as_bytes()])))
        {
            return;
        }
        // One path buffer; each frame holds a tree, the length of its path in the buffer and
        // the index of its next entry (a path per frame would cost the square of the depth).
        let mut path = prefix.to_string();
        let mut stack: Vec<(Tree<'a>, usize, usize)> = vec![(root, path.len(), 0)];
        while let Some((tree, len, next)) = stack.last_mut() {
            path.truncate(*len);
            // The entry borrows the frame: decide here, change the stack after.
            let descend = {
                let Some(entry) = tree.get(*next) else {
                    stack.pop();
                    continue;
                };
                *next += 1;
                match entry.kind() {
                    Some(ObjectType::Tree) => {
                        // Most subtrees of a new tree are unchanged: skip them before reading.
                        let key = self
                            .paths
                            .hash(&[path.as_bytes(), entry.name_bytes(), b"/"]);
                        if !self.seen_trees.insert((entry.id(), key)) {
                            continue;
                        }
                        match repo.find_tree(entry.id()) {
                            Ok(sub) => {
                                path.push_str(&String::from_utf8_lossy(entry.name_bytes()));
                                path.push('/');
                                Some(sub)
                            }
                            Err(e) => {
                                if commit.is_some() {
                                    let name = String::from_utf8_lossy(entry.name_bytes());
                                    self.inv.skipped.push(Skipped {
                                        path: format!("{path}{name}"),
                                        reason: SkipReason::Unreadable(format!(
                                            "missing or corrupt tree {}: {}",
                                            entry.id(),
                                            e.message()
                                        )),
                                    });
                                }
                                None
                            }
                        }
                    }
                    // Symbolic links (mode 120000) hold a path, not content.
                    Some(ObjectType::Blob) if entry.filemode() != 0o120000 => {
                        match commit {
                            Some(commit) => {
                                let name = String::from_utf8_lossy(entry.name_bytes());
                                self.record(entry.id(), &path, &name, commit);
                            }
                            None => {
                                self.known.insert(entry.id());
                            }
                        }
                        None
                    }
                    _ => None,
                }
            };
            if let Some(sub) = descend {
                stack.push((sub, path.len(), 0));
            }
        }
    }

    fn record(&mut self, oid: Oid, prefix: &str, name: &str, commit: u32) {
        if self.known.contains(&oid) {
            return;
        }
        record_blob(self.inv, oid, prefix, name, commit);
    }
}

/// Records that `commit` has blob `oid` at `prefix``name`, unless the blob was already seen
/// at that path (both walkers record through here, so they cannot drift apart).
pub(super) fn record_blob(inv: &mut Inventory, oid: Oid, prefix: &str, name: &str, commit: u32) {
    match inv.index.get(&oid).copied() {
        Some(i) => {
            record_blob_at(inv, Met::Known(i), prefix, name, commit);
        }
        None => {
            let index = record_blob_at(inv, Met::New(oid), prefix, name, commit);
            inv.index.insert(oid, index);
        }
    }
}

/// A blob as a walk meets it: recorded already (its index in `inv.blobs`), or for the first
/// time (its id: the graph's walk turns an id into one only then).
pub(super) enum Met {
    Known(u32),
    New(Oid),
}

/// [`record_blob`] for a caller that keeps its own blob index and fills `inv.index` itself;
/// returns the blob's index.
pub(super) fn record_blob_at(
    inv: &mut Inventory,
    met: Met,
    prefix: &str,
    name: &str,
    commit: u32,
) -> u32 {
    let same_path = |p: &str| {
        p.len() == prefix.len() + name.len() && p.starts_with(prefix) && p.ends_with(name)
    };
    match met {
        Met::Known(i) => {
            let blob = &mut inv.blobs[i as usize];
            if !blob.occurrences.iter().any(|o| same_path(&o.path)) {
                blob.occurrences.push(Occurrence {
                    commit,
                    path: format!("{prefix}{name}").into(),
                });
            }
            i
        }
        Met::New(oid) => {
            inv.blobs.push(BlobRef {
                oid,
                occurrences: vec![Occurrence {
                    commit,
                    path: format!("{prefix}{name}").into(),
                }],
            });
            (inv.blobs.len() - 1) as u32
        }
    }
}

/// Hashes a tree's path, given in pieces (so a child's path need not be built to be looked
/// up), to 64 bits, so the seen-sets do not hold a string per tree. The key is random per
/// walk: a tree skipped because its (id, path hash) was seen at another path would hide its
/// blobs there, and with a fixed key two such paths could be searched for and committed.
#[derive(Default)]
pub(super) struct PathHasher(foldhash::quality::RandomState);

impl PathHasher {
    pub(super) fn hash(&self, parts: &[&[u8]]) -> u64 {
        use std::hash::{BuildHasher, Hasher};
        let mut h = self.0.build_hasher();
        for part in parts {
            h.write(part);
        }
        h.finish()
    }
}

/// A hash set of the walk's own small keys (tree indices or ids, path hashes): a fast hash
/// with a random key per process.
pub(super) type FastSet<K> = HashSet<K, foldhash::fast::RandomState>;
