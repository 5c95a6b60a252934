//! Staged changes: what `git commit` would record, judged line by line.
//!
//! The pre-commit hook must judge the staged blob, not the working-tree file (with `git add -p`
//! the two differ), and report only keys on lines the commit adds: a key that was already in
//! HEAD is the history scan's business, and blocking every commit that touches its file would
//! teach people to skip the hook.

use std::ops::RangeInclusive;
use std::path::Path;

use git2::{Delta, DiffFindOptions, DiffOptions, Oid, Repository};

use rayon::prelude::*;

use super::git::GitError;
use super::{is_binary, SkipReason, Skipped};

/// A staged file to scan: its blob in the index and the lines the commit adds.
#[derive(Debug, Clone)]
pub struct StagedFile {
    pub path: String,
    pub oid: Oid,
    /// 1-based line ranges of the staged version that the commit adds; every line for a new file.
    pub added: Vec<RangeInclusive<usize>>,
    /// The whole file counts as added: it is new, HEAD does not exist yet, or git cannot diff it
    /// line by line.
    pub all_new: bool,
}

impl StagedFile {
    /// Whether any line from `first` to `last` is added by the commit.
    pub fn adds_any(&self, first: usize, last: usize) -> bool {
        self.all_new
            || self
                .added
                .iter()
                .any(|r| *r.start() <= last && first <= *r.end())
    }
}

/// Lists the files whose staged content differs from HEAD (all staged files before the first
/// commit), with the lines each adds. Renames are detected, so renaming a file adds no lines.
pub fn staged_files(repo: &Repository) -> Result<Vec<StagedFile>, GitError> {
    let head_tree = match repo.head() {
        Ok(head) => Some(head.peel_to_tree().map_err(|source| GitError::Git {
            context: "reading HEAD's tree".into(),
            source,
        })?),
        Err(_) => None, // unborn HEAD: the first commit adds everything
    };
    let index = repo.index().map_err(|source| GitError::Git {
        context: "reading the index".into(),
        source,
    })?;
    let mut opts = DiffOptions::new();
    opts.context_lines(0).ignore_submodules(true);
    let mut diff = repo
        .diff_tree_to_index(head_tree.as_ref(), Some(&index), Some(&mut opts))
        .map_err(|source| GitError::Git {
            context: "comparing the index with HEAD".into(),
            source,
        })?;
    diff.find_similar(Some(DiffFindOptions::new().renames(true).copies(false)))
        .map_err(|source| GitError::Git {
            context: "detecting renames".into(),
            source,
        })?;
    let mut files = Vec::new();
    for (i, delta) in diff.deltas().enumerate() {
        let all_new = match delta.status() {
            Delta::Added | Delta::Copied => true,
            Delta::Modified | Delta::Renamed | Delta::Typechange => false,
            _ => continue, // deleted, unmodified, ignored, untracked, conflicted
        };
        let new = delta.new_file();
        if new.mode() == git2::FileMode::Commit || new.mode() == git2::FileMode::Link {
            continue;
        }
        let path = new
            .path()
            .unwrap_or(Path::new(""))
            .to_string_lossy()
            .into_owned();
        let mut added = Vec::new();
        let mut all_new = all_new;
        if !all_new {
            if let Ok(Some(patch)) = git2::Patch::from_diff(&diff, i) {
                for h in 0..patch.num_hunks() {
                    let Ok((hunk, _)) = patch.hunk(h) else {
                        continue;
                    };
                    if hunk.new_lines() > 0 {
                        let start = hunk.new_start() as usize;
                        // With no context lines a hunk's new side is exactly its added lines.
                        added.push(start..=start + hunk.new_lines() as usize - 1);
                    }
                }
            }
            // Content changed but git found no lines (it diffs the file as binary: `-diff` in
            // .gitattributes, or a NUL byte in the HEAD version): judge the whole staged blob
            // rather than let a key through unseen.
            if added.is_empty() && delta.old_file().id() != new.id() {
                all_new = true;
            }
        }
        files.push(StagedFile {
            path,
            oid: new.id(),
            added,
            all_new,
        });
    }
    Ok(files)
}

/// The first and last line of each match as git numbers them (LF only, unlike the reported
/// line numbers, for which a lone CR ends a line too), to compare with the diff's hunks.
/// `matches` are sorted by start, so lines are counted forward once.
/// Git's (LF-only) number of the line a person sees as `line` (LF, CRLF and a lone CR all end
/// one): the same unless the file has lone CRs.
pub fn lf_line(bytes: &[u8], line: usize) -> usize {
    if memchr::memchr(b'\r', bytes).is_none() {
        return line;
    }
    let (mut seen, mut lf, mut i) = (1usize, 1usize, 0usize);
    while seen < line && i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                seen += 1;
                lf += 1;
            }
            b'\r' if bytes.get(i + 1) != Some(&b'\n') => seen += 1,
            _ => {}
        }
        i += 1;
    }
    lf
}

/// Reads each staged file's blob from the index, on rayon's threads, and hands `each` its
/// bytes, or why it was not read: larger than `max` (judged from the object's header, before
/// the blob is inflated), unreadable, or binary. `init` makes one thread's state (say, a
/// scanner with its scratch space); results come back in the order of `files`.
pub fn read_each<S, T>(
    repo: &Repository,
    files: &[StagedFile],
    max: u64,
    init: impl Fn() -> S + Sync + Send,
    each: impl Fn(&mut S, &StagedFile, Result<&[u8], Skipped>) -> T + Sync + Send,
) -> Vec<T>
where
    T: Send,
{
    let dir = repo.path().to_path_buf();
    files
        .par_iter()
        .map_init(
            || (Repository::open(&dir), init()),
            |(repo, state), file| {
                let skip = |reason| Skipped {
                    path: file.path.clone(),
                    reason,
                };
                // Check the size from the object's header before the blob is inflated.
                if let Some(size) = repo
                    .as_ref()
                    .ok()
                    .and_then(|r| super::git::header_size(r, file.oid))
                {
                    if size > max {
                        return each(
                            state,
                            file,
                            Err(skip(SkipReason::TooLarge { size, limit: max })),
                        );
                    }
                }
                let blob = match repo
                    .as_ref()
                    .map_err(|e| e.message().to_string())
                    .and_then(|r| {
                        r.find_blob(file.oid).map_err(|e| {
                            format!("missing or corrupt blob {}: {}", file.oid, e.message())
                        })
                    }) {
                    Ok(blob) => blob,
                    Err(e) => return each(state, file, Err(skip(SkipReason::Unreadable(e)))),
                };
                let bytes = blob.content();
                let read = if bytes.len() as u64 > max {
                    Err(skip(SkipReason::TooLarge {
                        size: bytes.len() as u64,
                        limit: max,
                    }))
                } else if is_binary(bytes) {
                    Err(skip(SkipReason::Binary))
                } else {
                    Ok(bytes)
                };
                each(state, file, read)
            },
        )
        .collect()
}
