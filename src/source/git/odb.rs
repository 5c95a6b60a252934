//! The object database read in-process with gitoxide, on every `-j` thread.
//!
//! Why: libgit2 lists trees one at a time (verifying every object's SHA-1 and caching parsed
//! objects), and a `git cat-file` child inflates blobs whose output must then be parsed again;
//! together they were close to half of a whole-history scan. Here every tree the selected
//! commits reach is decoded once, on all threads, into a compact in-memory graph (see
//! `graph`), and the first-seen walk of [`super::inventory`] runs over that graph without
//! reading anything more; a whole history's blobs are then decoded by one sweep over each pack
//! (see `sweep`), and a narrower scan's are inflated in pack order, each thread with its own
//! bounded delta-base cache, so that most bases are still in memory when their deltas come;
//! either way they are handed to the visitors directly (no child process, no pipe, no
//! channel).
//!
//! The repository is untrusted: it is opened with [`gix::open::Options::isolated`], so no
//! global or system configuration is read and nothing is executed. Loose objects, several
//! packs and alternates are all read through gix's object store. Anything gitoxide cannot read
//! (a missing or corrupt object, a format it does not know, even a panic in a decoding
//! thread) is an [`OdbError`], and the caller takes the libgit2 path instead, which names
//! what is missing or corrupt: nothing is skipped silently here.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use git2::Oid;
use gix::objs::Find;
use gix::odb::Header;
use gix::ObjectId;

use super::inventory::Inventory;
use super::read::{BlobVisitor, ReadOutcome};
use crate::source::{is_binary, SkipReason, Skipped};

/// The delta bases each thread keeps: pack order puts a base shortly before its deltas, so a
/// few MiB catch most of them, and memory stays bounded per thread.
const PACK_CACHE_BYTES: usize = 4 << 20;

/// Consecutive blobs (in pack order) a thread takes at a time: large enough that a delta's
/// base was usually decoded by the same thread, small enough to balance the threads.
const BLOB_CHUNK: usize = 256;

/// Chunks read between two releases of the packs' resident pages (about 5 MB of cargo's pack).
const RELEASE_EVERY: usize = 16;

/// Why gitoxide could not do the job, with what it was doing; the caller falls back to
/// libgit2, which reports the object by name.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(super) struct OdbError(pub(super) String);

pub(super) fn err(context: &str, e: impl std::fmt::Display) -> OdbError {
    OdbError(format!("{context}: {e}"))
}

/// A repository's object database, shareable between threads.
pub(super) struct Odb {
    repo: gix::ThreadSafeRepository,
}

impl Odb {
    /// Opens the object database of the git directory `git_dir` (alternates included),
    /// isolated: no configuration outside the repository is read, no hook or filter run.
    ///
    /// Replace refs (`refs/replace/*`) are ignored, whatever the repository's configuration
    /// says: an object is read as it is stored, as libgit2 and `git cat-file
    /// --batch-all-objects` read it, so that a replace ref cannot show the scanner a clean
    /// blob in place of one that holds a key.
    pub(super) fn open(git_dir: &Path) -> Result<Odb, OdbError> {
        let options =
            gix::open::Options::isolated().config_overrides(["core.useReplaceRefs=false"]);
        let repo = gix::open_opts(git_dir, options)
            .map_err(|e| err("opening the repository with gitoxide", e))?;
        Ok(Odb {
            repo: repo.into_sync(),
        })
    }

    /// A handle for one thread, with its own delta-base cache.
    pub(super) fn handle(&self) -> gix::OdbHandle {
        let mut objects = self.repo.to_thread_local().objects;
        objects.set_pack_cache(|| {
            Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(
                PACK_CACHE_BYTES,
            ))
        });
        objects
    }
}

/// A libgit2 id as a gitoxide one. Both are SHA-1 (gix is built with `sha1` only, and a
/// SHA-256 repository does not open): the conversion fails only if that ever changes.
pub(super) fn to_gix(oid: Oid) -> Result<ObjectId, OdbError> {
    ObjectId::try_from(oid.as_bytes()).map_err(|e| err("object id", e))
}

pub(super) fn to_git2(id: &gix::oid) -> Result<Oid, OdbError> {
    Oid::from_bytes(id.as_bytes()).map_err(|e| err("object id", e.message()))
}

/// Runs `work(state, item)` for every item on `threads` threads (each with its own `state`),
/// returning the results in the order of `items`. A thread that panicked is an error, so that
/// the caller falls back to libgit2 rather than the scan dying.
pub(super) fn par_map<T, S, R>(
    items: &[T],
    threads: usize,
    chunk: usize,
    init: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, &T) -> R + Sync,
) -> Result<Vec<R>, OdbError>
where
    T: Sync,
    R: Send,
{
    let next = AtomicUsize::new(0);
    let threads = threads.clamp(1, items.len().div_ceil(chunk).max(1));
    let parts: Vec<std::thread::Result<Vec<(usize, R)>>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let (next, init, work) = (&next, &init, &work);
                scope.spawn(move || {
                    let mut state = init();
                    let mut out = Vec::new();
                    loop {
                        let start = next.fetch_add(chunk, Ordering::Relaxed);
                        if start >= items.len() {
                            break;
                        }
                        for (i, item) in items.iter().enumerate().skip(start).take(chunk) {
                            out.push((i, work(&mut state, item)));
                        }
                    }
                    out
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join()).collect()
    });
    let mut slots: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    for part in parts {
        let part = part.map_err(|_| OdbError("a gitoxide decoding thread panicked".into()))?;
        for (i, r) in part {
            slots[i] = Some(r);
        }
    }
    slots
        .into_iter()
        .map(|r| r.ok_or_else(|| OdbError("an object was not decoded".into())))
        .collect()
}

/// What one reading thread produced: its visitor, what it skipped, and the blobs it could not
/// read (left to libgit2).
type ThreadOutcome<V> = (V, Vec<Skipped>, Vec<u32>);

/// Reads the blobs of `inv` on `threads` threads, in pack order when `pack_ordered` (worth it
/// for a whole history; a narrow scan's few blobs are read as listed), handing each text blob
/// within `max_size` to a visitor. Returns, besides, the blobs gitoxide could not read, for
/// libgit2 to read (and name, if they are missing or corrupt). An error (a reading thread
/// panicked) means the visitors' work is lost and everything must be read again.
pub(super) fn read_blobs<V, F>(
    odb: &Odb,
    inv: &Inventory,
    which: Option<&[u32]>,
    max_size: u64,
    threads: usize,
    pack_ordered: bool,
    make: &F,
) -> Result<(ReadOutcome<V>, Vec<u32>), OdbError>
where
    V: BlobVisitor,
    F: Fn() -> V + Sync,
{
    let mut order = if pack_ordered {
        pack_order(odb, inv)?
    } else {
        (0..inv.blobs.len() as u32).collect()
    };
    if let Some(which) = which {
        let mut wanted = vec![false; inv.blobs.len()];
        for &i in which {
            wanted[i as usize] = true;
        }
        order.retain(|&i| wanted[i as usize]);
    }
    let next = AtomicUsize::new(0);
    let threads = threads.clamp(1, order.len().div_ceil(BLOB_CHUNK).max(1));
    let results: Vec<std::thread::Result<ThreadOutcome<V>>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let (next, order) = (&next, &order);
                scope.spawn(move || {
                    let handle = odb.handle();
                    let mut visitor = make();
                    let mut skipped = Vec::new();
                    let mut failed = Vec::new();
                    let mut buf = Vec::new();
                    loop {
                        let start = next.fetch_add(BLOB_CHUNK, Ordering::Relaxed);
                        let Some(chunk) = order.get(start..) else {
                            break;
                        };
                        // In pack order, what was read lies behind: its pages are dead (a
                        // delta base needed again is read back).
                        if (start / BLOB_CHUNK) % RELEASE_EVERY == RELEASE_EVERY - 1 {
                            super::resident::release_pack_pages();
                        }
                        for &index in chunk.iter().take(BLOB_CHUNK) {
                            let blob = &inv.blobs[index as usize];
                            let path = &blob.occurrences[0].path;
                            let Ok(id) = to_gix(blob.oid) else {
                                failed.push(index);
                                continue;
                            };
                            // The header gives the size without inflating the blob.
                            let size = match handle.try_header(&id) {
                                Ok(Some(h)) => h.size(),
                                _ => {
                                    failed.push(index);
                                    continue;
                                }
                            };
                            if size > max_size {
                                skipped.push(Skipped {
                                    path: path.to_string(),
                                    reason: SkipReason::TooLarge {
                                        size,
                                        limit: max_size,
                                    },
                                });
                                continue;
                            }
                            match handle.try_find(&id, &mut buf) {
                                Ok(Some(data)) if data.kind == gix::object::Kind::Blob => {
                                    if is_binary(data.data) {
                                        skipped.push(Skipped {
                                            path: path.to_string(),
                                            reason: SkipReason::Binary,
                                        });
                                    } else {
                                        visitor.blob(index, path, data.data, None);
                                    }
                                }
                                _ => failed.push(index),
                            }
                        }
                    }
                    (visitor, skipped, failed)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join()).collect()
    });
    let mut outcome = ReadOutcome {
        visitors: Vec::new(),
        skipped: Vec::new(),
        warnings: Vec::new(),
    };
    let mut failed = Vec::new();
    for result in results {
        let (v, s, f) =
            result.map_err(|_| OdbError("a gitoxide reading thread panicked".into()))?;
        outcome.visitors.push(v);
        outcome.skipped.extend(s);
        failed.extend(f);
    }
    failed.sort_unstable();
    Ok((outcome, failed))
}

/// The blobs of `inv` (indices), in the order their objects lie in the packs (pack by pack, by
/// ascending offset): a delta's base then comes shortly before it, still in the thread's
/// cache. Blobs found loose, or not found at all, come last, in inventory order.
///
/// The offsets are read from the pack indices themselves: gix 0.90's `AllObjects` iterator
/// applies `with_ordering` only from its second index on (the first is sorted when the
/// iterator is made, by the default order, by object id), so a single pack came out in id
/// order, and nearly every delta chain was decoded again from its base. An index that cannot
/// be read is only a lost optimisation: its blobs are read in inventory order.
fn pack_order(odb: &Odb, inv: &Inventory) -> Result<Vec<u32>, OdbError> {
    const UNPLACED: (u32, u64) = (u32::MAX, u64::MAX);
    let handle = odb.handle();
    let records = handle
        .store_ref()
        .structure()
        .map_err(|e| err("listing the pack indices", e))?;
    let mut place = vec![UNPLACED; inv.blobs.len()];
    let mut settle = |id: &gix::oid, pack: u32, offset: u64| {
        let Ok(oid) = to_git2(id) else { return };
        if let Some(&i) = inv.index.get(&oid) {
            let slot = &mut place[i as usize];
            if *slot == UNPLACED {
                *slot = (pack, offset);
            }
        }
    };
    let mut packs: u32 = 0;
    for record in records {
        match record {
            gix::odb::store::structure::Record::Index { path, .. } => {
                if let Ok(index) = gix::odb::pack::index::File::at(&path, gix::hash::Kind::Sha1) {
                    for entry in index.iter() {
                        settle(&entry.oid, packs, entry.pack_offset);
                    }
                }
                packs = packs.saturating_add(1);
            }
            gix::odb::store::structure::Record::MultiIndex { path, .. } => {
                if let Ok(index) = gix::odb::pack::multi_index::File::at(&path, None) {
                    for entry in index.iter().flatten() {
                        settle(
                            &entry.oid,
                            packs.saturating_add(entry.pack_index),
                            entry.pack_offset,
                        );
                    }
                    let n = u32::try_from(index.index_names().len()).unwrap_or(u32::MAX);
                    packs = packs.saturating_add(n);
                }
            }
            _ => {}
        }
    }
    let mut order: Vec<u32> = (0..inv.blobs.len() as u32).collect();
    // Stable: the unplaced keep inventory order, after every placed one.
    order.sort_by_key(|&i| place[i as usize]);
    Ok(order)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use git2::Repository;

    use super::super::graph::Graph;
    use super::super::inventory::{inventory, inventory_with, walk_in_memory};
    use super::super::read::read_with_libgit2;
    use super::super::select::{DateWindow, Selection};
    use super::*;
    use crate::delta::Origin;

    /// A generated history: files added, changed, renamed, copied and deleted in nested
    /// directories, a directory renamed, a side branch merged back; commits built from a map
    /// of path → contents so that every step is deterministic.
    struct Generated {
        _dir: tempfile::TempDir,
        repo: Repository,
    }

    fn commit_files(
        repo: &Repository,
        files: &BTreeMap<String, Vec<u8>>,
        parents: &[Oid],
        refname: &str,
        time: i64,
    ) -> Oid {
        let mut index = git2::Index::new().unwrap();
        for (path, bytes) in files {
            let id = repo.blob(bytes).unwrap();
            index
                .add(&git2::IndexEntry {
                    ctime: git2::IndexTime::new(0, 0),
                    mtime: git2::IndexTime::new(0, 0),
                    dev: 0,
                    ino: 0,
                    mode: 0o100644,
                    uid: 0,
                    gid: 0,
                    file_size: bytes.len() as u32,
                    id,
                    flags: 0,
                    flags_extended: 0,
                    path: path.as_bytes().to_vec(),
                })
                .unwrap();
        }
        let tree = repo.find_tree(index.write_tree_to(repo).unwrap()).unwrap();
        let sig = git2::Signature::new("T", "t@example.org", &git2::Time::new(time, 0)).unwrap();
        let parents: Vec<git2::Commit> = parents
            .iter()
            .map(|p| repo.find_commit(*p).unwrap())
            .collect();
        let parents: Vec<&git2::Commit> = parents.iter().collect();
        repo.commit(Some(refname), &sig, &sig, "c", &tree, &parents)
            .unwrap()
    }

    /// A commit's files: path → contents.
    type Files = BTreeMap<String, Vec<u8>>;

    fn generated(seed: u64) -> Generated {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let mut rng = seed;
        let mut next = move |n: u64| {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (rng >> 33) % n
        };
        let dirs = ["", "a/", "a/b/", "a/b/c/", "d/"];
        let mut files: Files = Default::default();
        let mut head: Vec<Oid> = Vec::new();
        // The side branch once forked: its tip and its files.
        let mut side: Option<(Vec<Oid>, Files)> = None;
        for step in 0..120u64 {
            for _ in 0..=next(3) {
                let paths: Vec<String> = files.keys().cloned().collect();
                let pick = |i: u64| paths.get(i as usize).cloned();
                match next(7) {
                    0 | 1 => {
                        let path = format!("{}f{}.txt", dirs[next(5) as usize], next(40));
                        files.insert(path, format!("content {}\n", next(30)).into_bytes());
                    }
                    2 => {
                        if let Some(p) = pick(next(paths.len().max(1) as u64)) {
                            files.insert(p, format!("changed {}\n", next(1000)).into_bytes());
                        }
                    }
                    3 => {
                        // A rename: the same blob at a new path.
                        if let Some(p) = pick(next(paths.len().max(1) as u64)) {
                            let bytes = files.remove(&p).unwrap();
                            files.insert(format!("{}r{}", dirs[next(5) as usize], next(50)), bytes);
                        }
                    }
                    4 => {
                        if let Some(p) = pick(next(paths.len().max(1) as u64)) {
                            files.remove(&p);
                        }
                    }
                    5 => {
                        // A directory renamed: its trees reappear under a new path.
                        let moved: Vec<String> = paths
                            .iter()
                            .filter(|p| p.starts_with("a/b/"))
                            .cloned()
                            .collect();
                        let to = if next(2) == 0 { "e/b/" } else { "a/x/" };
                        for p in moved {
                            let bytes = files.remove(&p).unwrap();
                            files.insert(format!("{to}{}", &p[4..]), bytes);
                        }
                    }
                    _ => {
                        if let Some(p) = pick(next(paths.len().max(1) as u64)) {
                            let bytes = files[&p].clone();
                            files.insert(format!("copy/{p}"), bytes);
                        }
                    }
                }
            }
            if step == 40 {
                side = Some((head.clone(), files.clone()));
            }
            if let (true, Some((tip, side_files))) = (step % 10 == 5 && step > 40, side.as_mut()) {
                side_files.insert(
                    format!("side{step}.txt"),
                    format!("side {step}\n").into_bytes(),
                );
                let c = commit_files(
                    &repo,
                    side_files,
                    tip,
                    "refs/heads/side",
                    1_700_000_000 + step as i64,
                );
                *tip = vec![c];
            }
            let mut parents = head.clone();
            if step == 100 {
                if let Some((tip, side_files)) = &side {
                    parents.extend(tip.iter().copied());
                    files.extend(side_files.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
            let c = commit_files(&repo, &files, &parents, "HEAD", 1_700_000_000 + step as i64);
            head = vec![c];
        }
        Generated { _dir: dir, repo }
    }

    fn occurrences(inv: &Inventory) -> Vec<(Oid, Vec<(u32, String)>)> {
        inv.blobs
            .iter()
            .map(|b| {
                let o = b
                    .occurrences
                    .iter()
                    .map(|o| (o.commit, o.path.to_string()))
                    .collect();
                (b.oid, o)
            })
            .collect()
    }

    #[test]
    fn the_in_memory_walk_finds_what_libgit2_finds() {
        for (seed, packed) in [(1, false), (7, false), (42, false), (11, true)] {
            let g = generated(seed);
            if packed {
                repack(&g.repo);
            }
            let by_libgit2 =
                inventory_with(&g.repo, &Selection::All, DateWindow::default(), None).unwrap();
            let found = walk_in_memory(&g.repo, &by_libgit2.commits, 2).expect("gitoxide reads it");
            assert!(
                by_libgit2.blobs.len() > 50,
                "a real history: {}",
                by_libgit2.blobs.len()
            );
            assert!(by_libgit2.blobs.iter().any(|b| b.occurrences.len() > 1));
            assert_eq!(occurrences(&found), occurrences(&by_libgit2), "seed {seed}");
            assert_eq!(found.index, by_libgit2.index);
            let default = inventory(&g.repo, &Selection::All).unwrap();
            assert!(default.warnings.is_empty(), "{:?}", default.warnings);
            assert_eq!(occurrences(&default), occurrences(&by_libgit2));
        }
    }

    /// Runs `git` on `repo`'s git directory.
    fn git(repo: &Repository, args: &[&str]) {
        let status = std::process::Command::new("git")
            .arg("--git-dir")
            .arg(repo.path())
            .args(args)
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?}");
    }

    /// Commits `n` changes on HEAD as loose objects: a file added deep down (new trees above
    /// it, packed ones beside it), another copied, one removed.
    fn commit_loose(repo: &Repository, n: u32, time: i64) {
        for i in 0..n {
            let head = repo.head().unwrap().peel_to_commit().unwrap();
            let tree = head.tree().unwrap();
            let blob = repo
                .blob(format!("late file {time} {i}").as_bytes())
                .unwrap();
            let mut update = git2::build::TreeUpdateBuilder::new();
            let (late, copy) = (format!("a/b/late{i}.txt"), format!("d/copy{time}{i}.txt"));
            update.upsert(&late, blob, git2::FileMode::Blob);
            update.upsert(&copy, blob, git2::FileMode::Blob);
            let mut files = Vec::new();
            tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
                let path = format!("{dir}{}", entry.name().unwrap());
                if entry.kind() == Some(git2::ObjectType::Blob) && path != late {
                    files.push(format!("{dir}{}", entry.name().unwrap()));
                }
                git2::TreeWalkResult::Ok
            })
            .unwrap();
            update.remove(&files[files.len() / 2]);
            let tree = repo
                .find_tree(update.create_updated(repo, &tree).unwrap())
                .unwrap();
            let sig = git2::Signature::new("T", "t@example.org", &git2::Time::new(time, 0));
            let sig = sig.unwrap();
            repo.commit(Some("HEAD"), &sig, &sig, "late", &tree, &[&head])
                .unwrap();
        }
    }

    fn pack_count(repo: &Repository) -> usize {
        std::fs::read_dir(repo.path().join("objects/pack"))
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension() == Some("pack".as_ref()))
            .count()
    }

    #[test]
    fn the_walk_over_two_packs_and_loose_objects_finds_what_libgit2_finds() {
        let g = generated(17);
        repack(&g.repo);
        commit_loose(&g.repo, 3, 1_900_000_000);
        // Packs the loose objects alone, beside the first pack.
        git(&g.repo, &["repack", "-q", "-d"]);
        commit_loose(&g.repo, 2, 1_900_000_100);
        assert_eq!(pack_count(&g.repo), 2);
        let head = g.repo.head().unwrap().peel_to_commit().unwrap();
        assert!(loose(&g.repo, head.id()).exists());
        assert!(loose(&g.repo, head.tree_id()).exists());
        let by_libgit2 =
            inventory_with(&g.repo, &Selection::All, DateWindow::default(), None).unwrap();
        assert!(by_libgit2
            .blobs
            .iter()
            .any(|b| b.occurrences.iter().any(|o| o.path.contains("late"))));
        for threads in [1, 2] {
            let found = walk_in_memory(&g.repo, &by_libgit2.commits, threads).expect("read");
            assert_eq!(occurrences(&found), occurrences(&by_libgit2), "{threads}");
        }
        // The listing decodes the packs while libgit2 lists the commits: the same.
        let default = inventory(&g.repo, &Selection::All).unwrap();
        assert!(default.warnings.is_empty(), "{:?}", default.warnings);
        assert_eq!(occurrences(&default), occurrences(&by_libgit2));
        // And the sweep it made ready reads both packs' blobs, then the loose ones, each once.
        assert!(default.plan.lock().unwrap().is_some());
        let dir = g.repo.path().to_path_buf();
        let all: Vec<u32> = (0..default.blobs.len() as u32).collect();
        let expected = read_with_libgit2(&dir, &default, &all, 1 << 20, 2, &Collect::default);
        let got = super::super::read::read_blobs(&g.repo, &default, 1 << 20, 2, Collect::default);
        assert!(default.plan.lock().unwrap().is_none(), "the sweep took it");
        assert!(got.warnings.is_empty(), "{:?}", got.warnings);
        assert_eq!(seen(got.visitors), seen(expected.visitors));
    }

    #[test]
    fn a_pack_split_by_kind_decodes_each_object_once_as_stored() {
        use super::super::packs;
        let g = generated(3);
        repack(&g.repo);
        let odb = Odb::open(g.repo.path()).unwrap();
        let packs = packs::open(&odb).unwrap().expect("no multi-pack index");
        assert_eq!(packs.len(), 1);
        let pack = &packs[0];
        let split = pack.split().unwrap();
        let objects = pack.index.num_objects() as usize;
        assert_eq!(split.blobs.len() + split.others.len(), objects);
        // The pack begins with a commit: the blobs' traversal begins past its first object.
        assert_ne!(split.blobs[0].offset, split.others[0].offset);
        assert!(split.blobs[0].offset > split.others[0].offset);
        let handle = odb.handle();
        let mut deltas = 0;
        for (list, blobs) in [(&split.blobs, true), (&split.others, false)] {
            let got = std::sync::Mutex::new(Vec::new());
            let stop = std::sync::atomic::AtomicBool::new(false);
            pack.traverse(list.clone(), 2, usize::MAX, &stop, |node, kind, data| {
                got.lock()
                    .unwrap()
                    .push((node.position, kind, data.to_vec()));
            })
            .unwrap();
            let mut got = got.into_inner().unwrap();
            got.sort_by_key(|(position, _, _)| *position);
            let mut expected: Vec<u32> = list.iter().map(|n| n.position).collect();
            expected.sort();
            let positions: Vec<u32> = got.iter().map(|(p, _, _)| *p).collect();
            assert_eq!(positions, expected, "each object once");
            let mut buf = Vec::new();
            for (position, kind, data) in got {
                let id = pack.index.oid_at_index(position);
                let stored = handle.try_find(id, &mut buf).unwrap().unwrap();
                assert_eq!(kind, stored.kind);
                assert_eq!(kind == gix::object::Kind::Blob, blobs);
                assert_eq!(data, stored.data);
            }
            for node in list.iter() {
                let entry = pack.data.entry(node.offset).unwrap();
                deltas += usize::from(entry.header.is_delta());
            }
        }
        assert!(deltas > 10, "deltas of both kinds: {deltas}");
    }

    /// A pack damaged in the middle (its trees, its blobs, its deltas): the listing and the
    /// reading never panic, and the damage is said, never passed over in silence.
    #[test]
    fn a_damaged_pack_is_said_never_a_panic() {
        for (seed, at) in [(21, 0.2), (22, 0.5), (23, 0.8)] {
            let g = generated(seed);
            repack(&g.repo);
            let pack = std::fs::read_dir(g.repo.path().join("objects/pack"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| p.extension() == Some("pack".as_ref()))
                .unwrap();
            let mut bytes = std::fs::read(&pack).unwrap();
            let from = (bytes.len() as f64 * at) as usize;
            for b in &mut bytes[from..from + 48] {
                *b ^= 0x5a;
            }
            let mut permissions = std::fs::metadata(&pack).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            permissions.set_readonly(false);
            std::fs::set_permissions(&pack, permissions).unwrap();
            std::fs::write(&pack, bytes).unwrap();
            let repo = Repository::open(g.repo.path()).unwrap();
            let mut said = 0;
            if let Ok(inv) = inventory(&repo, &Selection::All) {
                said += inv.warnings.len() + inv.skipped.len();
                let read =
                    super::super::read::read_blobs(&repo, &inv, 1 << 20, 2, Collect::default);
                said += read.warnings.len() + read.skipped.len();
            } else {
                said += 1;
            }
            assert!(said > 0, "seed {seed}: the damage is said");
        }
    }

    /// Packs every object of `repo` into one pack, with deltas, and drops the loose copies.
    fn repack(repo: &Repository) {
        let status = std::process::Command::new("git")
            .arg("--git-dir")
            .arg(repo.path())
            .args([
                "repack",
                "-q",
                "-a",
                "-d",
                "-f",
                "--window=50",
                "--depth=50",
            ])
            .status()
            .expect("git runs");
        assert!(status.success());
        let loose = std::fs::read_dir(repo.path().join("objects"))
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().len() == 2)
            .count();
        assert_eq!(loose, 0, "every object packed");
    }

    /// What a visitor saw: blob index → contents.
    #[derive(Default)]
    struct Collect(Vec<(u32, Vec<u8>)>);

    impl BlobVisitor for Collect {
        fn blob(&mut self, index: u32, _path: &str, bytes: &[u8], _: Option<Origin<'_>>) {
            self.0.push((index, bytes.to_vec()));
        }
    }

    fn seen<V: IntoIterator<Item = Collect>>(visitors: V) -> Vec<(u32, Vec<u8>)> {
        let mut all: Vec<_> = visitors.into_iter().flat_map(|c| c.0).collect();
        all.sort();
        all
    }

    fn skips(skipped: &[Skipped]) -> Vec<String> {
        let mut s: Vec<String> = skipped
            .iter()
            .map(|s| format!("{} {:?}", s.path, s.reason))
            .collect();
        s.sort();
        s
    }

    #[test]
    fn blobs_read_in_process_are_those_libgit2_reads() {
        let g = generated(3);
        let big = vec![b'x'; 5000];
        let mut files = BTreeMap::new();
        files.insert("big.txt".to_string(), big);
        files.insert("bin.dat".to_string(), b"\0\x01binary".to_vec());
        let head = g.repo.head().unwrap().target().unwrap();
        commit_files(&g.repo, &files, &[head], "HEAD", 1_800_000_000);
        let inv = inventory(&g.repo, &Selection::All).unwrap();
        let all: Vec<u32> = (0..inv.blobs.len() as u32).collect();
        let dir = g.repo.path().to_path_buf();
        let make = Collect::default;
        let expected = read_with_libgit2(&dir, &inv, &all, 4096, 2, &make);
        assert_eq!(expected.skipped.len(), 2, "one too large, one binary");
        let expected_skips = skips(&expected.skipped);
        let expected_seen = seen(expected.visitors);
        assert!(expected_seen.len() > 50);
        // Loose first, then packed with deltas (so bases are decoded through the cache).
        for packed in [false, true] {
            if packed {
                repack(&g.repo);
            }
            let odb = Odb::open(&dir).unwrap();
            for threads in [1, 2] {
                for pack_ordered in [true, false] {
                    let (got, rest) =
                        read_blobs(&odb, &inv, None, 4096, threads, pack_ordered, &make).unwrap();
                    assert!(rest.is_empty());
                    assert_eq!(skips(&got.skipped), expected_skips);
                    assert_eq!(seen(got.visitors), expected_seen, "packed: {packed}");
                }
            }
        }
    }

    #[test]
    fn a_sweep_of_the_packs_reads_each_listed_blob_once_as_libgit2_reads_it() {
        let g = generated(5);
        let mut files = BTreeMap::new();
        files.insert("big.txt".to_string(), vec![b'x'; 5000]);
        files.insert("bin.dat".to_string(), b"\0\x01binary".to_vec());
        let head = g.repo.head().unwrap().target().unwrap();
        commit_files(&g.repo, &files, &[head], "HEAD", 1_800_000_000);
        // Packed while a branch held it, then the branch deleted: in the pack, but listed by
        // no walk, so never scanned.
        let mut gone = BTreeMap::new();
        gone.insert("gone.txt".to_string(), b"nobody's blob".to_vec());
        commit_files(&g.repo, &gone, &[], "refs/heads/gone", 1_800_000_050);
        repack(&g.repo);
        g.repo
            .find_reference("refs/heads/gone")
            .unwrap()
            .delete()
            .unwrap();
        // And a commit after the pack: its blobs are loose, for the reader after the sweep.
        files.insert("late.txt".to_string(), b"a later file".to_vec());
        let head = g.repo.head().unwrap().target().unwrap();
        commit_files(&g.repo, &files, &[head], "HEAD", 1_800_000_100);
        let dir = g.repo.path().to_path_buf();
        let inv = inventory(&g.repo, &Selection::All).unwrap();
        let all: Vec<u32> = (0..inv.blobs.len() as u32).collect();
        let expected = read_with_libgit2(&dir, &inv, &all, 4096, 2, &Collect::default);
        let expected_skips = skips(&expected.skipped);
        assert_eq!(expected_skips.len(), 2, "one too large, one binary");
        let expected_seen = seen(expected.visitors);
        let odb = Odb::open(&dir).unwrap();
        for threads in [1, 2] {
            let (got, rest) =
                super::super::sweep::read_packs(&odb, &inv, 4096, threads, &Collect::default)
                    .unwrap()
                    .expect("a whole history in one pack is swept");
            let late = inv
                .blobs
                .iter()
                .position(|b| g.repo.find_blob(b.oid).unwrap().content() == b"a later file");
            assert_eq!(
                rest,
                vec![late.unwrap() as u32],
                "only the loose blob is left"
            );
            let swept = seen(got.visitors);
            assert!(swept.iter().all(|(_, b)| b != b"nobody's blob"));
            assert_eq!(skips(&got.skipped), expected_skips);
            let (more, failed) = read_blobs(
                &odb,
                &inv,
                Some(&rest),
                4096,
                threads,
                false,
                &Collect::default,
            )
            .unwrap();
            assert!(failed.is_empty());
            let mut all = swept;
            all.extend(seen(more.visitors));
            all.sort();
            assert_eq!(all, expected_seen, "{threads} threads");
        }
    }

    #[test]
    fn pack_order_is_ascending_pack_offsets() {
        let g = generated(21);
        repack(&g.repo);
        let inv = inventory(&g.repo, &Selection::All).unwrap();
        let odb = Odb::open(g.repo.path()).unwrap();
        let order = pack_order(&odb, &inv).unwrap();
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..inv.blobs.len() as u32).collect::<Vec<_>>());
        let pack_dir = g.repo.path().join("objects/pack");
        let idx = std::fs::read_dir(&pack_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "idx"))
            .unwrap();
        let index = gix::odb::pack::index::File::at(&idx, gix::hash::Kind::Sha1).unwrap();
        let offsets: Vec<u64> = order
            .iter()
            .map(|&i| {
                let id = to_gix(inv.blobs[i as usize].oid).unwrap();
                index.pack_offset_at_index(index.lookup(id).unwrap())
            })
            .collect();
        assert!(offsets.windows(2).all(|w| w[0] < w[1]), "{offsets:?}");
        // In object-id order (what gix's own iterator gives for a first pack), they are not.
        let mut by_id: Vec<u32> = (0..inv.blobs.len() as u32).collect();
        by_id.sort_by_key(|&i| inv.blobs[i as usize].oid);
        assert_ne!(by_id, order);
    }

    /// The path of a loose object in `repo`.
    fn loose(repo: &Repository, oid: Oid) -> std::path::PathBuf {
        let hex = oid.to_string();
        repo.path().join("objects").join(&hex[..2]).join(&hex[2..])
    }

    #[test]
    fn a_missing_blob_is_left_to_libgit2_which_names_it() {
        let g = generated(5);
        let inv = inventory(&g.repo, &Selection::All).unwrap();
        let gone = inv.blobs.len() as u32 / 2;
        std::fs::remove_file(loose(&g.repo, inv.blobs[gone as usize].oid)).unwrap();
        let dir = g.repo.path().to_path_buf();
        let make = Collect::default;
        let odb = Odb::open(&dir).unwrap();
        let (got, rest) = read_blobs(&odb, &inv, None, 1 << 20, 2, true, &make).unwrap();
        assert_eq!(rest, vec![gone]);
        assert!(got.skipped.is_empty());
        assert_eq!(seen(got.visitors).len(), inv.blobs.len() - 1);
        // Through the public entry point: read by gitoxide, the missing one named by libgit2.
        let outcome = super::super::read::read_blobs(&g.repo, &inv, 1 << 20, 2, make);
        assert_eq!(seen(outcome.visitors).len(), inv.blobs.len() - 1);
        assert_eq!(outcome.skipped.len(), 1);
        let skip = &outcome.skipped[0];
        assert_eq!(
            skip.path,
            inv.blobs[gone as usize].occurrences[0].path.to_string()
        );
        assert!(
            matches!(&skip.reason, SkipReason::Unreadable(m) if m.contains("missing or corrupt blob")),
            "{:?}",
            skip.reason
        );
    }

    #[test]
    fn a_missing_tree_makes_the_walk_fall_back_to_libgit2_which_names_it() {
        let g = generated(9);
        let head = g.repo.head().unwrap().peel_to_commit().unwrap();
        let sub = head
            .tree()
            .unwrap()
            .iter()
            .find(|e| e.kind() == Some(git2::ObjectType::Tree))
            .expect("a directory at the top")
            .id();
        let complete = inventory_with(&g.repo, &Selection::All, DateWindow::default(), None);
        let complete = complete.unwrap();
        std::fs::remove_file(loose(&g.repo, sub)).unwrap();
        // A fresh handle: the first one has the tree in libgit2's object cache.
        let repo = Repository::open(g.repo.path()).unwrap();
        assert!(walk_in_memory(&repo, &complete.commits, 2).is_err());
        let inv = inventory_with(&repo, &Selection::All, DateWindow::default(), Some(2));
        let inv = inv.unwrap();
        assert!(
            inv.warnings
                .iter()
                .any(|w| w.contains("walking them through libgit2")),
            "{:?}",
            inv.warnings
        );
        assert!(!inv.skipped.is_empty());
        assert!(inv.skipped.iter().all(|s| matches!(
            &s.reason,
            SkipReason::Unreadable(m) if m.contains(&sub.to_string())
        )));
    }

    #[test]
    fn a_replace_ref_does_not_hide_a_blob() {
        let g = generated(13);
        let inv = inventory(&g.repo, &Selection::All).unwrap();
        let hidden = &inv.blobs[0];
        let clean = g.repo.blob(b"nothing to see\n").unwrap();
        let name = format!("refs/replace/{}", hidden.oid);
        g.repo.reference(&name, clean, false, "replace").unwrap();
        g.repo
            .config()
            .unwrap()
            .set_bool("core.useReplaceRefs", true)
            .unwrap();
        let original = g.repo.find_blob(hidden.oid).unwrap().content().to_vec();
        assert_ne!(original, b"nothing to see\n");
        // What gitoxide would show by default: the replacement.
        let naive = gix::open_opts(g.repo.path(), gix::open::Options::isolated()).unwrap();
        let replaced = naive.find_object(to_gix(hidden.oid).unwrap()).unwrap();
        assert_eq!(replaced.data, b"nothing to see\n");
        let odb = Odb::open(g.repo.path()).unwrap();
        let make = Collect::default;
        let (got, rest) = read_blobs(&odb, &inv, None, 1 << 20, 1, true, &make).unwrap();
        assert!(rest.is_empty());
        let got = seen(got.visitors);
        assert!(got.contains(&(0, original)));
    }

    /// Replaces a loose object's file with `bytes`.
    fn corrupt(repo: &Repository, oid: Oid, bytes: &[u8]) {
        let path = loose(repo, oid);
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, bytes).unwrap();
    }

    #[test]
    fn corrupt_objects_are_named_by_libgit2_never_a_panic() {
        let g = generated(17);
        let inv = inventory(&g.repo, &Selection::All).unwrap();
        let make = Collect::default;
        // Not zlib at all, then a valid zlib stream of a lying header.
        let lying = {
            use std::io::Write;
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            z.write_all(b"blob 999999\0short").unwrap();
            z.finish().unwrap()
        };
        let bad = [(1usize, b"garbage, not zlib".to_vec()), (2, lying)];
        for (i, bytes) in &bad {
            corrupt(&g.repo, inv.blobs[*i].oid, bytes);
        }
        let repo = Repository::open(g.repo.path()).unwrap();
        let outcome = super::super::read::read_blobs(&repo, &inv, 1 << 20, 2, make);
        assert_eq!(seen(outcome.visitors).len(), inv.blobs.len() - bad.len());
        let mut named: Vec<&str> = outcome.skipped.iter().map(|s| s.path.as_str()).collect();
        named.sort_unstable();
        let mut expected: Vec<&str> = bad
            .iter()
            .map(|(i, _)| &*inv.blobs[*i].occurrences[0].path)
            .collect();
        expected.sort_unstable();
        assert_eq!(named, expected);
        assert!(outcome
            .skipped
            .iter()
            .all(|s| matches!(s.reason, SkipReason::Unreadable(_))));
        // A corrupt tree: the in-memory walk gives up, the libgit2 walk names it.
        let head = repo.head().unwrap().peel_to_commit().unwrap();
        let root = head.tree().unwrap().id();
        corrupt(&repo, root, b"\x78\x9c garbage");
        let repo = Repository::open(g.repo.path()).unwrap();
        assert!(walk_in_memory(&repo, &inv.commits, 2).is_err());
        let walked = inventory_with(&repo, &Selection::All, DateWindow::default(), Some(2));
        let walked = walked.unwrap();
        assert!(walked.skipped.iter().any(|s| matches!(
            &s.reason,
            SkipReason::Unreadable(m) if m.contains("missing or corrupt")
        )));
    }

    #[test]
    fn a_graph_past_its_bound_is_an_error_so_libgit2_walks() {
        let g = generated(23);
        let inv = inventory_with(&g.repo, &Selection::All, DateWindow::default(), None).unwrap();
        let odb = Odb::open(g.repo.path()).unwrap();
        let graph = Graph::build_within(&odb, &inv.commits, 2, usize::MAX).unwrap();
        let held = graph.entry_count();
        assert!(Graph::build_within(&odb, &inv.commits, 2, held).is_ok());
        let Err(e) = Graph::build_within(&odb, &inv.commits, 2, held / 2) else {
            panic!("past the bound");
        };
        assert!(e.to_string().contains("too many to hold in memory"), "{e}");
    }

    #[test]
    fn a_repository_gitoxide_cannot_open_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Odb::open(dir.path()).is_err());
    }
}
