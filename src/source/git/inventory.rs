//! What a history scan will read: each blob the selected commits introduce, once, with every
//! commit and path it was first seen at, found by walking each commit's tree and skipping
//! every tree already seen.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use git2::{ObjectType, Oid, Repository, Tree};

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
    let hidden = select_commits(repo, selection, window, &mut inv)?;
    let dated = !window.is_open();
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
