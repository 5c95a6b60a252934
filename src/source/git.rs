//! Git history: every blob reachable from the selected commits, scanned once, and where it
//! was first seen.
//!
//! What things cost (see DESIGN.md): attributing blobs by diffing each commit against its
//! parent is ten times slower than everything else together, so attribution is a walk of each
//! commit's tree that skips every tree already seen: a blob first met inside a new tree is
//! first seen in that commit, at that path. Reading blobs through libgit2 costs twice what
//! reading them in pack order costs, so a whole-history scan streams contents from
//! `git cat-file --batch-all-objects --unordered` while git2 keeps refs, commits and trees; a
//! narrow scan (`--since`, `--range`) reads its few blobs through git2 directly. Whether a key
//! was *introduced* at a path (rather than carried along) is decided afterwards, only for blobs
//! that hold a finding.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use git2::{ObjectType, Oid, Repository, Sort, Tree};

use super::{is_binary, SkipReason, Skipped};
use crate::finding::Commit;

/// Why a history scan could not start. Each names what the user asked for.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{path}: not a git repository (or any parent up to the root)")]
    NotARepository { path: String },
    #[error("unknown revision `{rev}`: {message}")]
    UnknownRevision { rev: String, message: String },
    #[error("{context}: {source}")]
    Git {
        context: String,
        #[source]
        source: git2::Error,
    },
}

fn git_err(context: impl Into<String>) -> impl FnOnce(git2::Error) -> GitError {
    let context = context.into();
    move |source| GitError::Git { context, source }
}

/// Which commits to scan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Selection {
    /// Everything reachable from every ref (branches, tags, remotes, stash) and HEAD.
    #[default]
    All,
    /// Commits reachable from `tip` (HEAD when `None`) and not from `base`.
    Since { base: String, tip: Option<String> },
    /// `A..B`, as git means it.
    Range(String),
    /// Commits reachable from one ref.
    Branch(String),
    /// A first push: commits reachable from `tip` that no ref of the remote `remote` has
    /// (`git rev-list TIP --not --remotes=REMOTE`). Every commit when the remote has none.
    Pushed { tip: String, remote: String },
}

/// Why a revision did not resolve, with the fix when the clone is shallow: a depth-1 CI
/// checkout has no `origin/main` to compare with, and "unknown revision" alone does not say so.
fn unknown_revision_message(repo: &Repository, message: &str) -> String {
    if repo.is_shallow() {
        format!(
            "{message}; this clone is shallow, so older commits and other branches are missing: \
             fetch the whole history (`git fetch --unshallow`, or `fetch-depth: 0` in \
             actions/checkout, `GIT_DEPTH: 0` in GitLab CI)"
        )
    } else {
        message.to_string()
    }
}

/// Opens the repository containing `path`.
pub fn open(path: &Path) -> Result<Repository, GitError> {
    bound_libgit2_memory();
    Repository::discover(path).map_err(|_| GitError::NotARepository {
        path: path.display().to_string(),
    })
}

/// libgit2 keeps up to 256 MiB of parsed objects and maps pack files in windows of up to 8 GiB
/// in all: on a large history that, not the blobs in flight, would set the peak memory. Each
/// tree is read once here, so a small cache loses nothing; mapped windows beyond the limit are
/// unmapped and mapped again when needed.
fn bound_libgit2_memory() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: these set process-wide libgit2 options; they are called once, before this
        // process opens any repository.
        unsafe {
            let _ = git2::opts::set_cache_max_size(16 << 20);
            let _ = git2::opts::set_mwindow_size(8 << 20);
            let _ = git2::opts::set_mwindow_mapped_limit(16 << 20);
        }
    });
}

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
}

impl Inventory {
    /// Keeps only the places whose path `keep` accepts (the config's `exclude_paths`); a blob
    /// left with no place is not read at all.
    pub fn retain_paths(&mut self, keep: impl Fn(&str) -> bool) {
        for blob in &mut self.blobs {
            blob.occurrences.retain(|o| keep(&o.path));
        }
        self.blobs.retain(|b| !b.occurrences.is_empty());
        self.index = self
            .blobs
            .iter()
            .enumerate()
            .map(|(i, b)| (b.oid, i as u32))
            .collect();
    }
}

/// A committer-date window (`--since-date`, `--until-date`), Unix seconds, both inclusive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DateWindow {
    pub since: Option<i64>,
    pub until: Option<i64>,
}

impl DateWindow {
    pub fn is_open(&self) -> bool {
        self.since.is_none() && self.until.is_none()
    }

    fn contains(&self, time: i64) -> bool {
        !matches!(self.since, Some(s) if time < s) && !matches!(self.until, Some(u) if time > u)
    }
}

/// Lists the commits of `selection`, oldest first, and the blobs they introduce.
pub fn inventory(repo: &Repository, selection: &Selection) -> Result<Inventory, GitError> {
    inventory_in(repo, selection, DateWindow::default())
}

/// [`inventory`], keeping only the commits committed within `window`. Like `--since`, a
/// window reports what its commits add: what an excluded parent already had is not reported
/// again.
pub fn inventory_in(
    repo: &Repository,
    selection: &Selection,
    window: DateWindow,
) -> Result<Inventory, GitError> {
    let mut inv = Inventory::default();
    let mut tips: Vec<Oid> = Vec::new();
    let resolve = |rev: &str| -> Result<Oid, GitError> {
        repo.revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .map(|c| c.id())
            .map_err(|e| GitError::UnknownRevision {
                rev: rev.to_string(),
                message: unknown_revision_message(repo, e.message()),
            })
    };
    let head = repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .map(|c| c.id());
    let mut hidden: Vec<Oid> = Vec::new();
    match selection {
        Selection::All => {
            inv.head = head;
            for reference in repo
                .references()
                .map_err(git_err("listing references"))?
                .flatten()
            {
                // Tags may point at trees or blobs; only commits start a walk.
                match reference.peel_to_commit() {
                    Ok(commit) => tips.push(commit.id()),
                    Err(e) if !points_at_non_commit(&reference) => {
                        let name = String::from_utf8_lossy(reference.name_bytes()).into_owned();
                        inv.skipped.push(Skipped {
                            path: format!("<ref {name}>"),
                            reason: SkipReason::Unreadable(format!(
                                "its tip commit is missing or corrupt; the commits only it \
                                 reaches are not scanned: {}",
                                e.message()
                            )),
                        });
                    }
                    Err(_) => {}
                }
            }
            // A detached HEAD whose commit cannot be read (a branch's is named above).
            let detached = repo.head_detached().unwrap_or(false);
            if head.is_none() && detached && repo.head().is_ok_and(|h| h.target().is_some()) {
                inv.skipped.push(Skipped {
                    path: "<HEAD>".into(),
                    reason: SkipReason::Unreadable("HEAD's commit is missing or corrupt".into()),
                });
            }
            tips.extend(head);
        }
        Selection::Since { base, tip } => {
            let tip = match tip {
                Some(t) => resolve(t)?,
                None => head.ok_or_else(|| GitError::UnknownRevision {
                    rev: "HEAD".into(),
                    message: "the repository has no commits yet (unborn HEAD)".into(),
                })?,
            };
            let base = resolve(base)?;
            inv.head = Some(tip);
            tips.push(tip);
            hidden.push(base);
            inv.narrow = true;
        }
        Selection::Range(range) => {
            let Some((from, to)) = range.split_once("..") else {
                return Err(GitError::UnknownRevision {
                    rev: range.clone(),
                    message: "a range is written A..B".into(),
                });
            };
            let to = if to.is_empty() { "HEAD" } else { to };
            let (from, to) = (resolve(from)?, resolve(to)?);
            inv.head = Some(to);
            tips.push(to);
            hidden.push(from);
            inv.narrow = true;
        }
        Selection::Branch(branch) => {
            let tip = resolve(branch)?;
            inv.head = Some(tip);
            tips.push(tip);
            inv.narrow = true;
        }
        Selection::Pushed { tip, remote } => {
            let tip = resolve(tip)?;
            inv.head = Some(tip);
            tips.push(tip);
            inv.narrow = true;
            let prefix = format!("refs/remotes/{remote}/");
            for reference in repo
                .references()
                .map_err(git_err("listing references"))?
                .flatten()
            {
                if !reference.name().is_ok_and(|n| n.starts_with(&prefix)) {
                    continue;
                }
                if let Ok(commit) = reference.peel_to_commit() {
                    hidden.push(commit.id());
                }
            }
        }
    }
    match revwalk(repo, &tips, &hidden) {
        Ok(commits) => inv.commits = commits,
        // libgit2's walk gives up on the first commit it cannot parse, yielding nothing: walk
        // the graph by hand instead, naming each commit that cannot be read.
        Err(_) => inv.commits = tolerant_walk(repo, &tips, &hidden, &mut inv.skipped),
    }
    if repo.is_shallow() {
        inv.warnings.push(shallow_warning(repo));
    }
    let dated = !window.is_open();
    if dated {
        // A commit that cannot be read stays: the tree walk reports it.
        inv.commits.retain(|oid| match repo.find_commit(*oid) {
            Ok(c) => window.contains(c.committer().when().seconds()),
            Err(_) => true,
        });
        inv.narrow = true;
    }

    let mut walker = TreeWalker {
        repo,
        seen_trees: HashSet::new(),
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

/// Whether a reference peels to a tree or a blob (a tag may): such a ref starts no walk, and
/// that is no loss.
fn points_at_non_commit(reference: &git2::Reference<'_>) -> bool {
    reference
        .peel(ObjectType::Any)
        .is_ok_and(|o| matches!(o.kind(), Some(ObjectType::Tree | ObjectType::Blob)))
}

/// The commits reachable from `tips` and not from `hidden`, oldest first, by libgit2's walk:
/// fast, but all or nothing.
fn revwalk(repo: &Repository, tips: &[Oid], hidden: &[Oid]) -> Result<Vec<Oid>, git2::Error> {
    let mut walk = repo.revwalk()?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
    for tip in tips {
        walk.push(*tip)?;
    }
    for base in hidden {
        walk.hide(*base)?;
    }
    walk.collect()
}

/// The same commits as [`revwalk`], for a repository in which some commit cannot be read:
/// every commit that can be is returned (parents before children), every one that cannot is
/// named in `skipped`, and the history behind it is still walked through the other parents.
fn tolerant_walk(
    repo: &Repository,
    tips: &[Oid],
    hidden: &[Oid],
    skipped: &mut Vec<Skipped>,
) -> Vec<Oid> {
    let mut excluded: HashSet<Oid> = HashSet::new();
    let mut stack: Vec<Oid> = hidden.to_vec();
    while let Some(oid) = stack.pop() {
        if excluded.insert(oid) {
            if let Ok(commit) = repo.find_commit(oid) {
                stack.extend(commit.parent_ids());
            }
        }
    }
    let mut order = Vec::new();
    let mut done: HashSet<Oid> = HashSet::new();
    let mut unreadable: HashSet<Oid> = HashSet::new();
    // Iterative post-order: a commit is emitted once all its parents are.
    let mut frames: Vec<(Oid, Vec<Oid>)> = Vec::new();
    for &tip in tips {
        if excluded.contains(&tip) || done.contains(&tip) {
            continue;
        }
        let mut enter = |oid: Oid, frames: &mut Vec<(Oid, Vec<Oid>)>| match repo.find_commit(oid) {
            Ok(commit) => frames.push((oid, commit.parent_ids().collect())),
            Err(e) => {
                if unreadable.insert(oid) {
                    skipped.push(Skipped {
                        path: format!("<commit {}>", short(oid)),
                        reason: SkipReason::Unreadable(format!(
                            "missing or corrupt commit {oid}: {}",
                            e.message()
                        )),
                    });
                }
            }
        };
        done.insert(tip);
        enter(tip, &mut frames);
        while let Some((oid, parents)) = frames.last_mut() {
            match parents.pop() {
                Some(parent) => {
                    if !excluded.contains(&parent) && done.insert(parent) {
                        enter(parent, &mut frames);
                    }
                }
                None => {
                    order.push(*oid);
                    frames.pop();
                }
            }
        }
    }
    order
}

/// Parents of the selected commits that are outside the selection.
fn boundary_commits(repo: &Repository, commits: &[Oid], hidden: &[Oid]) -> Vec<Oid> {
    let inside: HashSet<Oid> = commits.iter().copied().collect();
    let mut out: Vec<Oid> = hidden.to_vec();
    for oid in commits {
        if let Ok(commit) = repo.find_commit(*oid) {
            for parent in commit.parent_ids() {
                if !inside.contains(&parent) && !out.contains(&parent) {
                    out.push(parent);
                }
            }
        }
    }
    out
}

fn shallow_warning(repo: &Repository) -> String {
    let boundary = std::fs::read_to_string(repo.path().join("shallow")).unwrap_or_default();
    let ids: Vec<&str> = boundary.lines().map(|l| &l[..l.len().min(12)]).collect();
    format!(
        "shallow clone: history stops at {} ({}); commits before it are not scanned (git fetch --unshallow to scan them)",
        plural_commits(ids.len()),
        ids.join(", ")
    )
}

fn plural_commits(n: usize) -> String {
    if n == 1 {
        "1 commit".into()
    } else {
        format!("{n} commits")
    }
}

struct TreeWalker<'a> {
    repo: &'a Repository,
    /// Trees already walked, by id *and* path: the same tree under a new path (a directory
    /// renamed or copied) puts its blobs at new paths, so it is walked again there.
    seen_trees: HashSet<(Oid, u64)>,
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
            .insert((root.id(), path_hash(&[prefix.as_bytes()])))
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
                        let key = path_hash(&[path.as_bytes(), entry.name_bytes(), b"/"]);
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
        let same_path = |p: &str| {
            p.len() == prefix.len() + name.len() && p.starts_with(prefix) && p.ends_with(name)
        };
        match self.inv.index.get(&oid) {
            Some(&i) => {
                let blob = &mut self.inv.blobs[i as usize];
                if !blob.occurrences.iter().any(|o| same_path(&o.path)) {
                    blob.occurrences.push(Occurrence {
                        commit,
                        path: format!("{prefix}{name}").into(),
                    });
                }
            }
            None => {
                self.inv.index.insert(oid, self.inv.blobs.len() as u32);
                self.inv.blobs.push(BlobRef {
                    oid,
                    occurrences: vec![Occurrence {
                        commit,
                        path: format!("{prefix}{name}").into(),
                    }],
                });
            }
        }
    }
}

/// A 64-bit hash of a tree's path, given in pieces (so a child's path need not be built to be
/// looked up), so the seen-set does not hold a string per tree.
fn path_hash(parts: &[&[u8]]) -> u64 {
    use std::hash::Hasher;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for part in parts {
        h.write(part);
    }
    h.finish()
}

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
    if !inv.narrow && !inv.blobs.is_empty() {
        if let Some(result) = stream_with_git(&dir, inv, max_size, threads, &make) {
            return result;
        }
    }
    let all: Vec<u32> = (0..inv.blobs.len() as u32).collect();
    read_with_libgit2(&dir, inv, &all, max_size, threads, &make)
}

/// What reading the blobs produced: each thread's visitor, what was skipped, and anything the
/// user should know (a fallback taken).
pub struct ReadOutcome<V> {
    pub visitors: Vec<V>,
    pub skipped: Vec<Skipped>,
    pub warnings: Vec<String>,
}

/// What a thread does with each blob.
pub trait BlobVisitor: Send {
    fn blob(&mut self, index: u32, path: &str, bytes: &[u8]);
}

/// How many blobs may wait between the reader and the scanners: memory stays bounded by the
/// blobs in flight, never by the size of the repository.
const IN_FLIGHT: usize = 16;

/// Streams blob contents in pack order from `git cat-file`. Returns `None` if git cannot be
/// run, so that the caller falls back to libgit2.
fn stream_with_git<V, F>(
    dir: &Path,
    inv: &Inventory,
    max_size: u64,
    threads: usize,
    make: &F,
) -> Option<ReadOutcome<V>>
where
    V: BlobVisitor,
    F: Fn() -> V + Sync,
{
    let mut child = Command::new("git")
        .arg("--git-dir")
        .arg(dir)
        .args(["cat-file", "--batch-all-objects", "--batch", "--unordered"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let stdout = child.stdout.take()?;
    let mut seen = vec![false; inv.blobs.len()];
    let mut skipped = Vec::new();
    let (tx, rx) = std::sync::mpsc::sync_channel::<(u32, Vec<u8>)>(IN_FLIGHT);
    let rx = std::sync::Mutex::new(rx);
    let (recycle_tx, recycle_rx) = std::sync::mpsc::channel::<Vec<u8>>();
    let mut read_error = None;
    let visitors = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let rx = &rx;
                let recycle = recycle_tx.clone();
                scope.spawn(move || {
                    let mut visitor = make();
                    loop {
                        let next = rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        let Ok((index, bytes)) = next else { break };
                        let blob = &inv.blobs[index as usize];
                        visitor.blob(index, &blob.occurrences[0].path, &bytes);
                        let _ = recycle.send(bytes);
                    }
                    visitor
                })
            })
            .collect();
        drop(recycle_tx);
        let mut reader = BufReader::with_capacity(1 << 20, stdout);
        let mut header = Vec::with_capacity(128);
        loop {
            header.clear();
            match reader.read_until(b'\n', &mut header) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    read_error = Some(e.to_string());
                    break;
                }
            }
            let Some((oid, kind, size)) = parse_header(&header) else {
                read_error = Some(format!(
                    "unexpected output from git cat-file: {}",
                    String::from_utf8_lossy(&header).trim_end()
                ));
                break;
            };
            let wanted = if kind == b"blob" {
                inv.index.get(&oid).copied()
            } else {
                None
            };
            let result = match wanted {
                Some(index) if !seen[index as usize] => {
                    seen[index as usize] = true;
                    let path = &inv.blobs[index as usize].occurrences[0].path;
                    if size > max_size {
                        skipped.push(Skipped {
                            path: path.to_string(),
                            reason: SkipReason::TooLarge {
                                size,
                                limit: max_size,
                            },
                        });
                        skip_bytes(&mut reader, size + 1)
                    } else {
                        let mut buf = recycle_rx.try_recv().unwrap_or_default();
                        buf.clear();
                        let read = (&mut reader)
                            .take(size)
                            .read_to_end(&mut buf)
                            .and_then(|_| skip_bytes(&mut reader, 1));
                        if read.is_ok() {
                            if is_binary(&buf) {
                                skipped.push(Skipped {
                                    path: path.to_string(),
                                    reason: SkipReason::Binary,
                                });
                            } else if tx.send((index, buf)).is_err() {
                                break;
                            }
                        }
                        read
                    }
                }
                _ => skip_bytes(&mut reader, size + 1),
            };
            if let Err(e) = result {
                read_error = Some(e.to_string());
                break;
            }
        }
        drop(tx);
        workers
            .into_iter()
            .map(|w| w.join().expect("a scanning thread panicked"))
            .collect::<Vec<V>>()
    });
    // Stopping early leaves git blocked on a full pipe: end it before waiting.
    if read_error.is_some() {
        let _ = child.kill();
    }
    let status = child.wait().ok();
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    let mut warnings = Vec::new();
    if let Some(e) = read_error {
        warnings.push(format!(
            "git cat-file stopped ({e}); reading the remaining blobs through libgit2"
        ));
    } else if !status.is_some_and(|s| s.success()) {
        warnings.push(format!(
            "git cat-file failed ({}); reading the remaining blobs through libgit2",
            stderr.trim()
        ));
    }
    // Blobs git did not stream (alternates it skipped, a failure half-way): read them through
    // libgit2, which names any that are missing.
    let rest: Vec<u32> = (0..inv.blobs.len() as u32)
        .filter(|&i| !seen[i as usize])
        .collect();
    let mut outcome = ReadOutcome {
        visitors,
        skipped,
        warnings,
    };
    if !rest.is_empty() {
        let more = read_with_libgit2(dir, inv, &rest, max_size, threads, make);
        outcome.visitors.extend(more.visitors);
        outcome.skipped.extend(more.skipped);
    }
    Some(outcome)
}

/// `<40 hex> <type> <size>\n` → (oid, type, size).
fn parse_header(line: &[u8]) -> Option<(Oid, &[u8], u64)> {
    let line = line.strip_suffix(b"\n")?;
    let mut parts = line.split(|&b| b == b' ');
    let oid = Oid::from_str(std::str::from_utf8(parts.next()?).ok()?).ok()?;
    let kind = parts.next()?;
    let size = std::str::from_utf8(parts.next()?).ok()?.parse().ok()?;
    Some((oid, kind, size))
}

fn skip_bytes(reader: &mut impl Read, n: u64) -> std::io::Result<()> {
    let copied = std::io::copy(&mut reader.take(n), &mut std::io::sink())?;
    if copied == n {
        Ok(())
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "git cat-file output ended early",
        ))
    }
}

/// Reads the given blobs through libgit2, one `Repository` per thread (it is `Send`, not
/// `Sync`).
fn read_with_libgit2<V, F>(
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
                                skipped.push(Skipped {
                                    path: path.to_string(),
                                    reason: SkipReason::TooLarge {
                                        size,
                                        limit: max_size,
                                    },
                                });
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
                            Ok(blob) if blob.size() as u64 > max_size => skipped.push(Skipped {
                                path: path.to_string(),
                                reason: SkipReason::TooLarge {
                                    size: blob.size() as u64,
                                    limit: max_size,
                                },
                            }),
                            Ok(blob) if is_binary(blob.content()) => skipped.push(Skipped {
                                path: path.to_string(),
                                reason: SkipReason::Binary,
                            }),
                            Ok(blob) => visitor.blob(index, path, blob.content()),
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

/// The largest blob attribution reads that the scan did not: the default `--max-file-size`.
const ATTRIBUTION_READ_LIMIT: u64 = super::fs::DEFAULT_MAX_FILE_SIZE;

/// Decides, for blobs that hold a finding, where each key was introduced, and describes the
/// commits involved. Built once per scan, after scanning.
pub struct Attribution<'r> {
    repo: &'r Repository,
    mailmap: Option<git2::Mailmap>,
    commits: HashMap<Oid, Commit>,
    head_blobs: HashSet<Oid>,
}

impl<'r> Attribution<'r> {
    pub fn new(repo: &'r Repository, head: Option<Oid>) -> Attribution<'r> {
        let mut head_blobs = HashSet::new();
        if let Some(tree) = head
            .and_then(|h| repo.find_commit(h).ok())
            .and_then(|c| c.tree().ok())
        {
            collect_blobs(repo, tree, &mut head_blobs);
        }
        Attribution {
            repo,
            mailmap: repo.mailmap().ok(),
            commits: HashMap::new(),
            head_blobs,
        }
    }

    /// Whether the blob is in the tree of HEAD (or the selected tip).
    pub fn in_head(&self, blob: Oid) -> bool {
        self.head_blobs.contains(&blob)
    }

    /// Whether `secret` was introduced at `path` by `commit`: true unless one of the commit's
    /// parents already had it at the same path. `has_secret` answers for a blob id; it reads
    /// the blob only when the scan did not.
    pub fn introduced(
        &self,
        commit: Oid,
        path: &str,
        secret: &str,
        has_secret: &dyn Fn(Oid) -> Option<bool>,
    ) -> bool {
        let Ok(commit) = self.repo.find_commit(commit) else {
            return true;
        };
        for parent in commit.parents() {
            let Ok(entry) = parent.tree().and_then(|t| t.get_path(Path::new(path))) else {
                continue;
            };
            let had = has_secret(entry.id()).unwrap_or_else(|| {
                // A parent's blob the scan did not read (outside a narrow selection): sized
                // from its header first, since reading inflates it whole. Too large to read is
                // "not had": the key is reported, never hidden.
                if header_size(self.repo, entry.id()).is_none_or(|n| n > ATTRIBUTION_READ_LIMIT) {
                    return false;
                }
                self.repo
                    .find_blob(entry.id())
                    .map(|b| memchr::memmem::find(b.content(), secret.as_bytes()).is_some())
                    .unwrap_or(false)
            });
            if had {
                return false;
            }
        }
        true
    }

    /// The commit's id, author (mailmap applied) and date.
    pub fn commit(&mut self, oid: Oid) -> Commit {
        if let Some(c) = self.commits.get(&oid) {
            return c.clone();
        }
        let info = match self.repo.find_commit(oid) {
            Ok(commit) => {
                let author = match &self.mailmap {
                    Some(m) => commit
                        .author_with_mailmap(m)
                        .unwrap_or_else(|_| commit.author().to_owned()),
                    None => commit.author().to_owned(),
                };
                let when = author.when();
                Commit {
                    id: oid.to_string(),
                    author: String::from_utf8_lossy(author.name_bytes()).into_owned(),
                    email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
                    date: rfc3339(when.seconds(), when.offset_minutes()),
                    time: when.seconds(),
                }
            }
            Err(_) => Commit {
                id: oid.to_string(),
                author: String::new(),
                email: String::new(),
                date: String::new(),
                time: 0,
            },
        };
        self.commits.insert(oid, info.clone());
        info
    }
}

/// Every blob in `tree`, with an explicit stack (see [`TreeWalker::visit`]); a subtree met
/// twice is read once.
fn collect_blobs(repo: &Repository, tree: Tree<'_>, out: &mut HashSet<Oid>) {
    let mut seen: HashSet<Oid> = HashSet::new();
    let mut stack = vec![tree];
    while let Some(tree) = stack.pop() {
        for entry in tree.iter() {
            match entry.kind() {
                Some(ObjectType::Blob) => {
                    out.insert(entry.id());
                }
                Some(ObjectType::Tree) if seen.insert(entry.id()) => {
                    if let Ok(sub) = repo.find_tree(entry.id()) {
                        stack.push(sub);
                    }
                }
                _ => {}
            }
        }
    }
}

/// Unix seconds and a UTC offset in minutes as RFC 3339.
fn rfc3339(seconds: i64, offset_minutes: i32) -> String {
    let offset =
        time::UtcOffset::from_whole_seconds(offset_minutes * 60).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .map(|t| t.to_offset(offset))
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// The first 12 hex digits of an object id.
pub fn short(oid: Oid) -> String {
    let mut s = oid.to_string();
    s.truncate(12);
    s
}

/// The directory a repository's paths are relative to (its work tree, or the git dir when
/// bare).
pub fn root(repo: &Repository) -> PathBuf {
    repo.workdir().unwrap_or_else(|| repo.path()).to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cat_file_headers() {
        let (oid, kind, size) =
            parse_header(b"e69de29bb2d1d6434b8b29ae775ad8c2e48c5391 blob 0\n").unwrap();
        assert_eq!(oid.to_string(), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
        assert_eq!(kind, b"blob");
        assert_eq!(size, 0);
        assert!(parse_header(b"garbage\n").is_none());
    }

    #[test]
    fn dates_are_rfc3339_with_offset() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(3600, 60), "1970-01-01T02:00:00+01:00");
    }
}
