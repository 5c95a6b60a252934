//! Which commits a history scan reads: refs and revisions resolved, the graph walked (even
//! past a commit that cannot be read), a committer-date window applied.

use std::collections::HashSet;

use git2::{ObjectType, Oid, Repository, Sort};

use super::inventory::Inventory;
use super::{git_err, short, GitError};
use crate::source::{SkipReason, Skipped};

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

/// Resolves `selection` into the commits to scan, oldest first, within `window`: fills
/// `inv.commits`, `inv.head` and `inv.narrow`, and names what could not be read. Returns the
/// commits the selection starts from (hidden from the walk), whose trees are known already.
pub(super) fn select_commits(
    repo: &Repository,
    selection: &Selection,
    window: DateWindow,
    inv: &mut Inventory,
) -> Result<Vec<Oid>, GitError> {
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
    Ok(hidden)
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
pub(super) fn boundary_commits(repo: &Repository, commits: &[Oid], hidden: &[Oid]) -> Vec<Oid> {
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
